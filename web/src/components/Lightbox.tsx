"use client";
// An asset full size: the original image (or the video with controls), everything about how it was made, where it
// comes from and what was made from it, ←/→ through the grid's order and the triage keys. It shows at once with
// what the listing has; the lineage fills in when it arrives.
import { useEffect } from "react";
import type { Asset } from "@/api/client";
import { useLineage } from "@/api/assetHooks";
import { useModelName } from "@/api/hooks";
import { creditsAmount } from "@/lib/cost";
import { label as paramLabel } from "@/lib/models";
import { usePrefs } from "@/stores/prefs";
import { ActionMenu } from "./ActionMenu";
import { assetMenu, downloadHref, FavoriteButton, StatusBadge, type AssetActions, type AssetMarks } from "./AssetCard";
import { isTyping } from "@/lib/shortcuts";
import { Dialog } from "./Dialog";

function Fact({ name, value }: { name: string; value: string | number }) {
  return (
    <div className="fact">
      <dt>{name}</dt>
      <dd>{value}</dd>
    </div>
  );
}

function LineageList({ title, assets, onOpen }: { title: string; assets: Asset[]; onOpen: (a: Asset) => void }) {
  if (!assets.length) return null;
  return (
    <div>
      <h3 className="small">{title}</h3>
      <ul className="lineage">
        {assets.map((a) => (
          <li key={a.id}>
            <button type="button" onClick={() => onOpen(a)} data-testid="lineage-item" aria-label={`Open ${a.kind}: ${a.prompt.slice(0, 60)}`}>
              {a.thumbnail_url || (a.kind === "image" && a.file_url) ? (
                // eslint-disable-next-line @next/next/no-img-element -- presigned URLs, static export
                <img src={a.thumbnail_url ?? a.file_url ?? ""} alt="" />
              ) : (
                <span className="badge">{a.kind}</span>
              )}
              <span className="small">{a.prompt.slice(0, 60) || "(no prompt)"}</span>
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}

function Lineage({ asset, onOpen }: { asset: Asset; onOpen: (a: Asset) => void }) {
  const lineage = useLineage(asset.id);
  if (lineage.isPending) return asset.id > 0 ? <p className="small muted">Loading lineage…</p> : null;
  if (lineage.isError) return <p className="small error">Lineage could not be loaded: {lineage.error.message}</p>;
  const { source, inputs, derived } = lineage.data;
  if (!source && !inputs.length && !derived.length) return null;
  return (
    <section className="stack" aria-label="Lineage" data-testid="lineage">
      <LineageList title="Made from" assets={source ? [source] : []} onOpen={onOpen} />
      <LineageList title="Input images" assets={inputs} onOpen={onOpen} />
      <LineageList title="Made from this" assets={derived} onOpen={onOpen} />
    </section>
  );
}

export function Lightbox({
  asset,
  marks,
  position,
  actions,
  onMove,
  onOpen,
  onClose,
}: {
  asset: Asset;
  marks: AssetMarks;
  /** Where the asset is in the grid's order (null when it is not in the grid, e.g. opened from lineage). */
  position: { index: number; total: number } | null;
  actions: AssetActions;
  onMove: (step: number) => void;
  onOpen: (asset: Asset) => void;
  onClose: () => void;
}) {
  const shortcuts = usePrefs((s) => s.shortcuts);
  const modelName = useModelName();
  const done = asset.status === "COMPLETED";
  const { onHeadliner } = actions;
  const who = asset.requested_by_name;

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (isTyping(e.target) || e.metaKey || e.ctrlKey || e.altKey) return;
      if (e.key === "ArrowRight") onMove(1);
      else if (e.key === "ArrowLeft") onMove(-1);
      else if (!shortcuts) return;
      else if (e.key === "f" && asset.id > 0 && actions.onFavorite) actions.onFavorite(asset);
      else if (e.key === "h" && done && actions.onHeadliner) actions.onHeadliner(asset);
      else if (e.key === "x" && done) actions.onCompare(asset);
      else return;
      e.preventDefault();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [asset, actions, done, onMove, shortcuts]);

  const cost = asset.cost_credits ?? asset.estimated_cost_credits;
  const params = Object.entries(asset.params ?? {});
  return (
    <Dialog label="Asset" onClose={onClose} className="lightbox" backdropClassName="lightbox-backdrop" testId="lightbox">
      <div className="lightbox-media">
        {asset.kind === "video" && asset.file_url ? (
          <video src={asset.file_url} poster={asset.thumbnail_url ?? undefined} controls playsInline data-testid="lightbox-video" />
        ) : asset.file_url || asset.thumbnail_url ? (
          // eslint-disable-next-line @next/next/no-img-element -- presigned URLs, static export
          <img src={asset.file_url ?? asset.thumbnail_url ?? ""} alt={asset.prompt.slice(0, 120)} data-testid="lightbox-image" />
        ) : (
          <p className="muted">{asset.status === "FAILED" ? asset.error_message || "Generation failed" : "Not ready yet"}</p>
        )}
      </div>
      <aside className="lightbox-info stack">
        <div className="row">
          <button type="button" onClick={onClose} aria-label="Close (Esc)">
            ✕
          </button>
          <button type="button" onClick={() => onMove(-1)} disabled={!position || position.index === 0} aria-label="Previous (←)">
            ←
          </button>
          <button type="button" onClick={() => onMove(1)} disabled={!position || position.index >= position.total - 1} aria-label="Next (→)">
            →
          </button>
          {position && (
            <span className="small muted" data-testid="lightbox-position">
              {position.index + 1} of {position.total}
            </span>
          )}
        </div>
        <div className="row">
          {!done && <StatusBadge status={asset.status} />}
          {actions.onFavorite ? (
            <FavoriteButton asset={asset} onFavorite={actions.onFavorite} />
          ) : (
            asset.is_favorite && (
              <span className="badge fav-on" data-testid="mark-favourite">
                ★ Favourite
              </span>
            )
          )}
          {marks.isHeadliner ? (
            <span className="badge head">Headliner</span>
          ) : (
            done &&
            onHeadliner && (
              <button type="button" onClick={() => onHeadliner(asset)} title="Make headliner (h)">
                Make headliner
              </button>
            )
          )}
          {asset.file_url && done && (
            <a className="button" href={downloadHref(asset)} data-testid="download-original">
              Download original
            </a>
          )}
          <ActionMenu label="More actions" items={assetMenu(asset, marks, actions)} />
        </div>
        <p className="lightbox-prompt" data-testid="lightbox-prompt">
          {asset.prompt || <span className="muted">(no prompt)</span>}
        </p>
        <dl className="facts small">
          <Fact name="Model" value={asset.model ? modelName(asset.model) : "—"} />
          {params.map(([name, value]) => (
            <Fact key={name} name={paramLabel(name)} value={typeof value === "string" ? value : JSON.stringify(value)} />
          ))}
          <Fact name="Seed" value={asset.seed ?? "—"} />
          <Fact name="Cost" value={cost != null ? creditsAmount(cost) : "—"} />
          {asset.width && asset.height ? <Fact name="Size" value={`${asset.width} × ${asset.height}`} /> : null}
          <Fact name="Requested" value={`${who ? `by ${who}, ` : ""}${new Date(asset.created_at).toLocaleString()}`} />
        </dl>
        <Lineage asset={asset} onOpen={onOpen} />
      </aside>
    </Dialog>
  );
}
