"use client";
// The shot view: generate on the left, the shot's variants on the right — image first, grouped by batch, the
// headliner pinned on top, one keyboard cursor (the focused card), a lightbox to look at one full size.
import Link from "next/link";
import { Suspense, useCallback, useEffect, useMemo, useRef, useState } from "react";
import type { Asset } from "@/api/client";
import {
  useAssets,
  useBox,
  useDeleteAsset,
  useModels,
  useProject,
  useRetention,
  useRetry,
  useModelName,
  useShowOlderAssets,
  useToggleFavorite,
  useUpdateBox,
  type AssetFilters,
} from "@/api/hooks";
import { useFollowStudio } from "@/api/studioHooks";
import { AnimateDialog } from "@/components/AnimateDialog";
import { announce } from "@/components/Announcer";
import { AssetCard, type AssetActions, type AssetMarks } from "@/components/AssetCard";
import { CompareView } from "@/components/CompareView";
import { GeneratePanel } from "@/components/GeneratePanel";
import { Lightbox } from "@/components/Lightbox";
import { PromptDiff } from "@/components/PromptDiff";
import { RoleGate, ViewerNote } from "@/components/RoleGate";
import { Shell } from "@/components/Shell";
import { Empty, ErrorState, Loading } from "@/components/States";
import { layoutShot, type Batch } from "@/lib/batches";
import { label as paramLabel } from "@/lib/models";
import { useIdParam } from "@/lib/params";
import { can } from "@/lib/roles";
import { pageKeysOff } from "@/lib/shortcuts";
import { useProjectLive } from "@/lib/useProjectLive";
import { useDrafts } from "@/stores/drafts";
import { usePrefs } from "@/stores/prefs";
import { useBoxView } from "@/stores/ui";
import "@/styles/shot.css";

const NO_IDS: number[] = [];

/** Puts the keyboard focus on an asset's card (the cursor is the focus). */
function focusCard(id: number | null): void {
  if (id === null) return;
  document.querySelector<HTMLElement>(`[data-testid="asset-card"][data-asset-id="${id}"]`)?.focus();
}

/** The card that has the focus (or holds it), if any. */
function activeCardId(): number | null {
  const card = (document.activeElement as HTMLElement | null)?.closest?.<HTMLElement>('[data-testid="asset-card"]');
  return card ? Number(card.dataset.assetId) : null;
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

function show(value: unknown): string {
  return value === undefined ? "—" : typeof value === "string" ? value : JSON.stringify(value);
}

/** The batch's prompt, once, with what changed from the batch before (words and parameters). */
function BatchHeader({ batch, modelName }: { batch: Batch<Asset>; modelName: (id: string | null | undefined) => string }) {
  const previous = batch.previous;
  const promptChanged = previous !== null && previous.prompt !== batch.prompt;
  return (
    <header className="batch-head">
      <div className="batch-prompt" data-testid="batch-prompt">
        {promptChanged ? <PromptDiff before={previous.prompt} after={batch.prompt} /> : batch.prompt || <span className="muted">(no prompt)</span>}
      </div>
      <p className="small muted batch-meta">
        {modelName(batch.model)} · {batch.count} {batch.count === 1 ? "variant" : "variants"} ·{" "}
        <time dateTime={batch.createdAt}>{new Date(batch.createdAt).toLocaleString()}</time>
        {previous && previous.model !== batch.model && <> · model was {modelName(previous.model)}</>}
        {previous?.changedParams.map((c) => (
          <span key={c.name} className="change" data-testid="param-change">
            {" "}
            · {paramLabel(c.name)}: {show(c.before)} → {show(c.after)}
          </span>
        ))}
      </p>
    </header>
  );
}

function BoxView() {
  const boxId = useIdParam();
  const box = useBox(boxId);
  const projectId = box.data?.project_id ?? 0;
  useProjectLive(projectId);
  const project = useProject(projectId);
  useFollowStudio(project.data?.studio_id);
  const { filters, focusedId, compareIds, comparing, focus, move, toggleCompare, setComparing, reset } = useBoxView();
  const shortcuts = usePrefs((s) => s.shortcuts);
  const inputIds = useDrafts((s) => s.drafts[String(boxId)]?.inputIds) ?? NO_IDS;
  const assets = useAssets(boxId, filters);
  const models = useModels();
  const retention = useRetention(projectId);
  const favorite = useToggleFavorite();
  const headliner = useUpdateBox(projectId);
  const remove = useDeleteAsset();
  const retry = useRetry();
  const showOlder = useShowOlderAssets(boxId);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const [animating, setAnimating] = useState<Asset | null>(null);
  const [viewing, setViewing] = useState<Asset | null>(null);
  const returnFocusTo = useRef<number | null>(null);

  useEffect(() => reset, [boxId, reset]);

  const items = useMemo(() => assets.data?.items ?? [], [assets.data]);
  const headlinerId = box.data?.headliner_id ?? null;
  const layout = useMemo(() => layoutShot(items, headlinerId), [items, headlinerId]);
  const ids = useMemo(() => layout.order.map((a) => a.id), [layout]);
  const typical = useMemo(() => new Map((models.data ?? []).map((m) => [m.provider_model_id, m.typical_seconds ?? null])), [models.data]);
  const modelName = useModelName();
  const compared = items.filter((a) => compareIds.includes(a.id) && a.status === "COMPLETED");
  const tabbableId = focusedId !== null && ids.includes(focusedId) ? focusedId : (ids[0] ?? null);
  // The lightbox shows the listing's fresh copy (a star set inside it shows at once), else what it was opened with.
  const current = viewing ? (items.find((a) => a.id === viewing.id) ?? viewing) : null;
  const marksOf = useCallback(
    (a: Asset): AssetMarks => ({ isHeadliner: a.id === headlinerId, selected: compareIds.includes(a.id), isInput: inputIds.includes(a.id) }),
    [headlinerId, compareIds, inputIds],
  );

  const open = useCallback(
    (a: Asset) => {
      focus(a.id);
      setViewing(a);
    },
    [focus],
  );
  // A viewer gets only the actions that change nothing (lib/roles.ts); the card and lightbox leave out the rest.
  const role = project.data?.role;
  const mayGenerate = can(role, "generate");
  const actions: AssetActions = useMemo(
    () => ({
      onOpen: open,
      onCompare: (a) => toggleCompare(a.id),
      onFocus: (a) => focus(a.id),
      ...(can(role, "curate") && {
        onFavorite: (a: Asset) => favorite.mutate({ id: a.id, is_favorite: !a.is_favorite }),
        onHeadliner: (a: Asset) =>
          headliner.mutate({ id: a.box_id, headliner_id: a.id }, { onSuccess: () => announce("Made headliner.") }),
      }),
      ...(can(role, "generate") && {
        onAnimate: (a: Asset) => {
          setViewing(null);
          setAnimating(a);
        },
        // The generate panel announces the refilled prompt and takes the focus.
        onReuse: (a: Asset) => useDrafts.getState().reuse(boxId, a),
        onToggleInput: (a: Asset) => useDrafts.getState().toggleInput(boxId, a.id),
        onRetry: (a: Asset) => retry.mutate(a),
      }),
      ...(can(role, "deleteAssets") && {
        onDelete: (a: Asset) => {
          if (!window.confirm("Delete this asset, its files and the comments on it?")) return;
          setViewing((v) => (v?.id === a.id ? null : v));
          remove.mutate(a);
        },
      }),
    }),
    [open, role, favorite, headliner, boxId, retry, remove, toggleCompare, focus],
  );

  const moveFocus = useCallback(
    (step: number) => {
      const active = activeCardId();
      if (active !== null) focus(active);
      move(ids, step);
      focusCard(useBoxView.getState().focusedId);
    },
    [ids, focus, move],
  );

  const onKey = useCallback(
    (e: KeyboardEvent) => {
      if (pageKeysOff(e)) return;
      const onCard = activeCardId();
      const target = onCard !== null ? items.find((a) => a.id === onCard) : undefined;
      const arrow = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }[e.key];
      // Arrows move only from a card (elsewhere they scroll the page); letters only when shortcuts are on (WCAG 2.1.4).
      if (arrow && onCard !== null && document.activeElement?.getAttribute("data-testid") === "asset-card") moveFocus(arrow);
      else if (!shortcuts) return;
      else if (e.key === "j") moveFocus(1);
      else if (e.key === "k") moveFocus(-1);
      else if (e.key === "f" && target && target.id > 0 && actions.onFavorite) actions.onFavorite(target);
      else if (e.key === "h" && target?.status === "COMPLETED" && actions.onHeadliner) actions.onHeadliner(target);
      else if (e.key === "x" && target?.status === "COMPLETED") actions.onCompare(target);
      else if (e.key === "c" && compared.length >= 2) setComparing(true);
      else return;
      e.preventDefault();
    },
    [items, compared.length, actions, moveFocus, setComparing, shortcuts],
  );
  useEffect(() => {
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [onKey]);
  // Closing the lightbox or the animate dialog puts the focus on the card of that asset (after the dialog gave it
  // back): the lightbox's own menu, which may have opened the animate dialog, is gone by then.
  useEffect(() => {
    if (viewing === null && animating === null && returnFocusTo.current !== null) {
      focusCard(returnFocusTo.current);
      returnFocusTo.current = null;
    }
  }, [viewing, animating]);

  const index = current ? ids.indexOf(current.id) : -1;
  const step = useCallback(
    (by: number) => {
      const next = layout.order[index + by];
      if (index === -1 || !next) return;
      focus(next.id);
      setViewing(next);
    },
    [layout, index, focus],
  );

  if (!boxId) return <ErrorState error={new Error("No shot selected")} />;
  const code = box.data?.code ?? "…";
  const crumbs = (
    <>
      <Link href="/projects/">Projects</Link> /{" "}
      {projectId ? <Link href={`/project/?id=${projectId}`}>{project.data?.name ?? "…"}</Link> : "…"} / <span>Shot {code}</span>
    </>
  );
  const { onHeadliner } = actions;
  const actionError = favorite.error ?? headliner.error ?? remove.error ?? retry.error;
  const card = (a: Asset) => (
    <AssetCard
      key={a.id}
      asset={a}
      marks={marksOf(a)}
      tabbable={a.id === tabbableId}
      purgeAt={retention.data?.get(a.id)}
      typicalSeconds={a.model ? typical.get(a.model) : null}
      actions={actions}
    />
  );
  return (
    <Shell crumbs={crumbs}>
      {box.isError ? (
        <ErrorState error={box.error} retry={() => box.refetch()} />
      ) : project.isError ? (
        <ErrorState error={project.error} retry={() => project.refetch()} />
      ) : (
        <div className="layout-2 shot-view">
          <aside className="stack">
            <section className="panel">
              <h1 style={{ margin: 0 }}>
                <span className="shot-no">{code}</span>
                {box.data?.title || "Untitled shot"}
              </h1>
              {box.data?.notes && <p className="small">{box.data.notes}</p>}
            </section>
            <RoleGate
              role={role}
              action="generate"
              otherwise={
                <ViewerNote studio={project.data?.studio_name ?? ""} className="panel small muted">
                  you can look, compare and download; an owner can make you an editor to generate.
                </ViewerNote>
              }
            >
              <GeneratePanel boxId={boxId} />
            </RoleGate>
            <section className="panel small muted keys-help" data-testid="keys-help">
              Keys: click a card or Tab to the grid, then <span className="kbd">←</span>/<span className="kbd">→</span> move,{" "}
              <span className="kbd">Enter</span> opens it large.{" "}
              {shortcuts ? (
                <>
                  <span className="kbd">j</span>/<span className="kbd">k</span> next/previous,{" "}
                  {actions.onFavorite && (
                    <>
                      <span className="kbd">f</span> favourite, <span className="kbd">h</span> headliner,{" "}
                    </>
                  )}
                  <span className="kbd">x</span> select for compare, <span className="kbd">c</span> compare.
                  Single-key shortcuts can be turned off with the shortcuts switch in the header.
                </>
              ) : (
                <>Single-key shortcuts are off; turn them on with the shortcuts switch in the header.</>
              )}
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
            {actionError && (
              <p className="error" role="alert">
                {actionError.message}
              </p>
            )}
            {assets.isPending ? (
              <Loading cards={6} />
            ) : assets.isError ? (
              <ErrorState error={assets.error} retry={() => assets.refetch()} />
            ) : items.length === 0 ? (
              <Empty>{Object.keys(filters).length ? "No asset matches these filters." : mayGenerate ? "No assets yet: generate the first variants." : "No assets yet."}</Empty>
            ) : (
              <div className="shot-grid" data-testid="asset-grid">
                {layout.headliner && (
                  <section className="batch headliner-strip" aria-label="Headliner" data-testid="headliner-strip">
                    <h2 className="batch-title">Headliner</h2>
                    <div className="tiles">{card(layout.headliner)}</div>
                  </section>
                )}
                {layout.batches.map((batch) => (
                  <section key={batch.key} className="batch" aria-label={`Batch: ${batch.prompt.slice(0, 60)}`} data-testid="batch">
                    <BatchHeader batch={batch} modelName={modelName} />
                    <div className="tiles">{batch.assets.map(card)}</div>
                  </section>
                ))}
                {assets.data && assets.data.total > items.length && (
                  <p className="row older" data-testid="older">
                    <span className="small muted">
                      Showing the newest {items.length} of {assets.data.total}.
                    </span>
                    <button
                      type="button"
                      disabled={loadingOlder}
                      onClick={() => {
                        setLoadingOlder(true);
                        void showOlder().finally(() => setLoadingOlder(false));
                      }}
                    >
                      {loadingOlder ? "Loading…" : `Show ${Math.min(200, assets.data.total - items.length)} older`}
                    </button>
                  </p>
                )}
              </div>
            )}
          </section>
        </div>
      )}
      {current && (
        <Lightbox
          asset={current}
          marks={marksOf(current)}
          position={index === -1 ? null : { index, total: ids.length }}
          actions={actions}
          onMove={step}
          onOpen={open}
          onClose={() => {
            returnFocusTo.current = current.id;
            setViewing(null);
          }}
        />
      )}
      {animating && (
        <AnimateDialog
          source={animating}
          onClose={() => {
            returnFocusTo.current = animating.id;
            setAnimating(null);
          }}
        />
      )}
      {comparing && compared.length >= 2 && (
        <CompareView
          assets={compared}
          onClose={() => setComparing(false)}
          onPick={
            onHeadliner &&
            ((a) => {
              onHeadliner(a);
              setComparing(false);
            })
          }
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
