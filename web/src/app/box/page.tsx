"use client";
import Link from "next/link";
import { Suspense, useCallback, useEffect, useMemo, useState } from "react";
import type { Asset } from "@/api/client";
import {
  useAssets,
  useBox,
  useDeleteAsset,
  useProject,
  useRetention,
  useRetry,
  useToggleFavorite,
  useUpdateBox,
  type AssetFilters,
} from "@/api/hooks";
import { AnimateDialog } from "@/components/AnimateDialog";
import { AssetCard, type AssetActions } from "@/components/AssetCard";
import { CompareView } from "@/components/CompareView";
import { GeneratePanel } from "@/components/GeneratePanel";
import { Shell } from "@/components/Shell";
import { Empty, ErrorState, Loading } from "@/components/States";
import { useIdParam } from "@/lib/params";
import { useProjectLive } from "@/lib/useProjectLive";
import { useBoxView } from "@/stores/ui";

function isTyping(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  return !!el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT" || el.isContentEditable);
}

function Filters() {
  const filters = useBoxView((s) => s.filters);
  const setFilter = useBoxView((s) => s.setFilter);
  return (
    <div className="row" aria-label="Filters">
      <label className="inline">
        Kind
        <select value={filters.kind ?? ""} onChange={(e) => setFilter("kind", (e.target.value || undefined) as AssetFilters["kind"])}>
          <option value="">all</option>
          <option value="image">image</option>
          <option value="video">video</option>
        </select>
      </label>
      <label className="inline">
        Status
        <select value={filters.status ?? ""} onChange={(e) => setFilter("status", (e.target.value || undefined) as AssetFilters["status"])}>
          <option value="">all</option>
          <option>PENDING</option>
          <option>RUNNING</option>
          <option>COMPLETED</option>
          <option>FAILED</option>
        </select>
      </label>
      <label className="inline">
        <input
          type="checkbox"
          checked={filters.is_favorite === true}
          onChange={(e) => setFilter("is_favorite", e.target.checked ? true : undefined)}
        />
        favourites only
      </label>
    </div>
  );
}

function BoxView() {
  const boxId = useIdParam();
  const box = useBox(boxId);
  const projectId = box.data?.project_id ?? 0;
  useProjectLive(projectId);
  const project = useProject(projectId);
  const { filters, focusedId, compareIds, comparing, focus, move, toggleCompare, setComparing, reset } = useBoxView();
  const assets = useAssets(boxId, filters);
  const retention = useRetention(projectId);
  const favorite = useToggleFavorite();
  const headliner = useUpdateBox(projectId);
  const remove = useDeleteAsset();
  const retry = useRetry();
  const [animating, setAnimating] = useState<Asset | null>(null);

  useEffect(() => reset, [boxId, reset]);

  const items = useMemo(() => assets.data?.items ?? [], [assets.data]);
  const ids = useMemo(() => items.map((a) => a.id), [items]);
  const headlinerId = box.data?.headliner_id ?? null;
  const focused = items.find((a) => a.id === focusedId);
  const compared = items.filter((a) => compareIds.includes(a.id) && a.status === "COMPLETED");

  const actions: AssetActions = useMemo(
    () => ({
      onFavorite: (a) => favorite.mutate({ id: a.id, is_favorite: !a.is_favorite }),
      onHeadliner: (a) => headliner.mutate({ id: a.box_id, headliner_id: a.id }),
      onAnimate: (a) => setAnimating(a),
      onRetry: (a) => retry.mutate(a),
      onDelete: (a) => {
        if (window.confirm("Delete this asset, its files and the comments on it?")) remove.mutate(a);
      },
      onCompare: (a) => toggleCompare(a.id),
      onFocus: (a) => focus(a.id),
    }),
    [favorite, headliner, retry, remove, toggleCompare, focus],
  );

  const onKey = useCallback(
    (e: KeyboardEvent) => {
      if (isTyping(e.target) || e.metaKey || e.ctrlKey || e.altKey || animating || comparing) return;
      if (e.key === "j" || e.key === "ArrowRight") move(ids, 1);
      else if (e.key === "k" || e.key === "ArrowLeft") move(ids, -1);
      else if (e.key === "f" && focused && focused.id > 0) actions.onFavorite(focused);
      else if (e.key === "h" && focused?.status === "COMPLETED") actions.onHeadliner(focused);
      else if (e.key === "x" && focused?.status === "COMPLETED") actions.onCompare(focused);
      else if (e.key === "c" && compared.length >= 2) setComparing(true);
      else return;
      e.preventDefault();
    },
    [ids, focused, compared.length, actions, move, setComparing, animating, comparing],
  );
  useEffect(() => {
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [onKey]);
  useEffect(() => {
    if (focusedId !== null) document.querySelector(`[data-asset-id="${focusedId}"]`)?.scrollIntoView({ block: "nearest" });
  }, [focusedId]);

  if (!boxId) return <ErrorState error={new Error("No shot selected")} />;
  const crumbs = (
    <>
      <Link href="/projects/">Projects</Link> /{" "}
      {projectId ? <Link href={`/project/?id=${projectId}`}>{project.data?.name ?? "…"}</Link> : "…"} /{" "}
      <span>Shot {box.data ? `#${box.data.position}` : "…"}</span>
    </>
  );
  const actionError = favorite.error ?? headliner.error ?? remove.error ?? retry.error;
  return (
    <Shell crumbs={crumbs}>
      {box.isError ? (
        <ErrorState error={box.error} retry={() => box.refetch()} />
      ) : (
        <div className="layout-2">
          <aside className="stack">
            <section className="panel">
              <h1 style={{ margin: 0 }}>
                <span className="shot-no">#{box.data?.position ?? "…"}</span>
                {box.data?.title || "Untitled shot"}
              </h1>
              {box.data?.notes && <p className="small">{box.data.notes}</p>}
            </section>
            <GeneratePanel boxId={boxId} />
            <section className="panel small muted">
              Keys: <span className="kbd">j</span>/<span className="kbd">k</span> next/previous, <span className="kbd">f</span> favourite,{" "}
              <span className="kbd">h</span> headliner, <span className="kbd">x</span> select for compare, <span className="kbd">c</span> compare
            </section>
          </aside>
          <section className="stack">
            <div className="row">
              <Filters />
              <span style={{ flex: 1 }} />
              <button disabled={compared.length < 2} onClick={() => setComparing(true)} data-testid="compare-open">
                Compare ({compared.length})
              </button>
            </div>
            {actionError && <p className="error" role="alert">{actionError.message}</p>}
            {assets.isPending ? (
              <Loading cards={6} />
            ) : assets.isError ? (
              <ErrorState error={assets.error} retry={() => assets.refetch()} />
            ) : items.length === 0 ? (
              <Empty>{Object.keys(filters).length ? "No asset matches these filters." : "No assets yet: generate the first variants."}</Empty>
            ) : (
              <div className="grid" data-testid="asset-grid">
                {items.map((a) => (
                  <AssetCard
                    key={a.id}
                    asset={a}
                    isHeadliner={a.id === headlinerId}
                    focused={a.id === focusedId}
                    selected={compareIds.includes(a.id)}
                    purgeAt={retention.data?.get(a.id)}
                    actions={actions}
                  />
                ))}
              </div>
            )}
          </section>
        </div>
      )}
      {animating && <AnimateDialog source={animating} onClose={() => setAnimating(null)} />}
      {comparing && compared.length >= 2 && (
        <CompareView
          assets={compared}
          onClose={() => setComparing(false)}
          onPick={(a) => {
            actions.onHeadliner(a);
            setComparing(false);
          }}
        />
      )}
    </Shell>
  );
}

export default function BoxPage() {
  return (
    <Suspense fallback={<p className="main muted">Loading…</p>}>
      <BoxView />
    </Suspense>
  );
}
