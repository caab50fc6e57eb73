"use client";
// One variant in the shot grid: the picture fills the card at its own aspect ratio; markers say what it is
// (favourite, headliner, chosen for compare, chosen as input); actions show on hover or focus, the rest in "⋯".
import { memo, useEffect, useState, type CSSProperties } from "react";
import type { Asset } from "@/api/client";
import { aspectOf } from "@/lib/batches";
import { creditsAmount } from "@/lib/cost";
import { progressLabel, progressOf } from "@/lib/progress";
import { ActionMenu, type MenuItem } from "./ActionMenu";
import { RetentionCountdown } from "./Countdown";
import { Initials } from "./Initials";

/** What can be done to an asset. The actions that change it are absent for a viewer (lib/roles.ts): its card and
 * lightbox then show its state (favourite, headliner) without the buttons. */
export interface AssetActions {
  onOpen: (asset: Asset) => void;
  onCompare: (asset: Asset) => void;
  onFocus: (asset: Asset) => void;
  onFavorite?: (asset: Asset) => void;
  onHeadliner?: (asset: Asset) => void;
  onAnimate?: (asset: Asset) => void;
  onReuse?: (asset: Asset) => void;
  onToggleInput?: (asset: Asset) => void;
  onRetry?: (asset: Asset) => void;
  onDelete?: (asset: Asset) => void;
}

/** What the shot knows about an asset beyond the asset itself. */
export interface AssetMarks {
  isHeadliner: boolean;
  /** Selected for compare. */
  selected: boolean;
  /** Chosen as an input image of the next edit or animation. */
  isInput: boolean;
}

export function StatusBadge({ status }: { status: string }) {
  return (
    <span className={`badge ${status}`} data-testid="status">
      {status}
    </span>
  );
}

/** The cost a retry will charge: it runs the same request again, so what the asset was estimated at. */
export function retryCost(asset: Asset): string | null {
  return asset.estimated_cost_credits != null ? creditsAmount(asset.estimated_cost_credits) : null;
}

/** The items of an asset's "⋯" menu (the lightbox offers the same). */
export function assetMenu(asset: Asset, marks: AssetMarks, actions: AssetActions): MenuItem[] {
  const done = asset.status === "COMPLETED";
  const image = asset.kind === "image";
  const cost = retryCost(asset);
  const { onHeadliner, onAnimate, onReuse, onToggleInput, onRetry, onDelete } = actions;
  const items: (MenuItem | false | undefined)[] = [
    onHeadliner && done && !marks.isHeadliner && { label: "Make headliner", onSelect: () => onHeadliner(asset) },
    onAnimate && done && image && { label: "Animate", onSelect: () => onAnimate(asset) },
    onReuse && { label: "Reuse prompt and settings", onSelect: () => onReuse(asset) },
    onToggleInput && done && image && asset.id > 0 && {
      label: marks.isInput ? "Remove from inputs" : "Use as input",
      onSelect: () => onToggleInput(asset),
    },
    done && { label: marks.selected ? "Remove from compare" : "Select for compare", onSelect: () => actions.onCompare(asset) },
    done && !!asset.file_url && { label: "Download original", onSelect: () => downloadOriginal(asset) },
    onRetry && asset.status === "FAILED" && {
      label: (
        <>
          Retry
          {cost && (
            <span className="menu-note" data-testid="retry-cost">
              Estimated cost: {cost}
            </span>
          )}
        </>
      ),
      name: cost ? `Retry, estimated cost ${cost}` : "Retry",
      onSelect: () => onRetry(asset),
    },
    onDelete && asset.id > 0 && { label: "Delete", danger: true, onSelect: () => onDelete(asset) },
  ];
  return items.filter((item): item is MenuItem => !!item);
}

/** Where the original is saved from: the API answers with a redirect to the file marked as an attachment
 * (`SH010-image-12.png`), which works when the bucket is on another origin, unlike `<a download>`. */
export const downloadHref = (asset: Asset) => `/api/assets/${asset.id}/download/`;

/** Saves the original file. */
export function downloadOriginal(asset: Asset): void {
  if (!asset.file_url) return;
  const a = document.createElement("a");
  a.href = downloadHref(asset);
  document.body.appendChild(a);
  a.click();
  a.remove();
}

/** The star that favourites an asset (on the card and in the lightbox). */
export function FavoriteButton({ asset, onFavorite, className }: { asset: Asset; onFavorite: (a: Asset) => void; className?: string }) {
  return (
    <button
      type="button"
      className={["icon-btn", asset.is_favorite && "fav-on", className].filter(Boolean).join(" ")}
      aria-pressed={asset.is_favorite}
      aria-label={asset.is_favorite ? "Unfavourite" : "Favourite"}
      title="Favourite (f)"
      disabled={asset.id < 0}
      onClick={(e) => {
        e.stopPropagation();
        onFavorite(asset);
      }}
    >
      {asset.is_favorite ? "★" : "☆"}
    </button>
  );
}

/** Elapsed time, ticking, and the model's typical duration as a bar. */
function RunProgress({ asset, typicalSeconds }: { asset: Asset; typicalSeconds: number | null }) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  const p = progressOf(asset.created_at, typicalSeconds, now);
  return (
    <div className="run-progress" data-testid="progress">
      <span className="small">{progressLabel(p)}</span>
      {p.fraction !== null && <progress max={1} value={p.fraction} aria-label="Progress" />}
    </div>
  );
}

/** The picture at its own ratio: known pixels, else the requested ratio, then the loaded file's own. */
function Media({ asset, ratio, onRatio }: { asset: Asset; ratio: number | null; onRatio: (r: number) => void }) {
  const style: CSSProperties = ratio ? { aspectRatio: String(ratio) } : {};
  if (asset.kind === "video" && asset.status === "COMPLETED" && asset.file_url) {
    return (
      <div className="media" style={style}>
        <video
          src={asset.file_url}
          poster={asset.thumbnail_url ?? undefined}
          muted
          loop
          playsInline
          preload="metadata"
          data-testid="video"
          aria-label={asset.prompt.slice(0, 120)}
          onLoadedMetadata={(e) => e.currentTarget.videoHeight && onRatio(e.currentTarget.videoWidth / e.currentTarget.videoHeight)}
          onMouseEnter={(e) => void e.currentTarget.play().catch(() => {})}
          onMouseLeave={(e) => e.currentTarget.pause()}
        />
      </div>
    );
  }
  const src = asset.thumbnail_url ?? (asset.kind === "image" ? asset.file_url : null);
  if (src) {
    return (
      <div className="media" style={style}>
        {/* eslint-disable-next-line @next/next/no-img-element -- static export: plain presigned URLs */}
        <img
          src={src}
          alt={asset.prompt.slice(0, 120)}
          loading="lazy"
          onLoad={(e) => e.currentTarget.naturalHeight && onRatio(e.currentTarget.naturalWidth / e.currentTarget.naturalHeight)}
        />
      </div>
    );
  }
  return <div className="media empty" style={{ aspectRatio: String(ratio ?? 1) }} />;
}

function Card({
  asset,
  marks,
  tabbable,
  purgeAt,
  typicalSeconds = null,
  actions,
}: {
  asset: Asset;
  marks: AssetMarks;
  /** The one card of the grid in the Tab order (roving tabindex). */
  tabbable: boolean;
  purgeAt?: string;
  typicalSeconds?: number | null;
  actions: AssetActions;
}) {
  const [natural, setNatural] = useState<number | null>(null);
  const ratio = natural ?? aspectOf(asset);
  const done = asset.status === "COMPLETED";
  const working = asset.status === "PENDING" || asset.status === "RUNNING";
  const { isHeadliner, selected, isInput } = marks;
  const { onHeadliner } = actions;
  // Who asked for it (generated, animated, retried or uploaded it); none for assets from before studios.
  const who = asset.requested_by_name;
  const name = `${asset.kind === "video" ? "Video" : "Image"}${done ? "" : ` (${asset.status.toLowerCase()})`}: ${asset.prompt.slice(0, 80) || "no prompt"}`;
  return (
    <article
      className={`asset-card${isHeadliner ? " headliner" : ""}${selected ? " selected" : ""}`}
      style={{ "--ratio": ratio ?? 1 } as CSSProperties}
      data-testid="asset-card"
      data-asset-id={asset.id}
      data-status={asset.status}
      data-kind={asset.kind}
      tabIndex={tabbable ? 0 : -1}
      aria-label={name}
      onFocus={(e) => e.target === e.currentTarget && actions.onFocus(asset)}
      onClick={() => actions.onOpen(asset)}
      onKeyDown={(e) => {
        if (e.key === "Enter" && e.target === e.currentTarget) {
          e.preventDefault();
          actions.onOpen(asset);
        }
      }}
    >
      <Media asset={asset} ratio={ratio} onRatio={(r) => Math.abs(r - (ratio ?? 0)) > 0.001 && setNatural(r)} />
      <div className="marks">
        {/* A clip's still looks like a picture until it plays (on hover, or in the lightbox): say it is one. The card's
            name already starts with "Video". */}
        {asset.kind === "video" && (
          <span className="mark" data-testid="mark-video" aria-hidden="true">
            ▶ Video
          </span>
        )}
        {asset.is_favorite && (
          <span className="mark fav" title="Favourite" data-testid="mark-favourite">
            ★<span className="sr-only"> Favourite</span>
          </span>
        )}
        {isHeadliner && <span className="badge head">Headliner</span>}
        {selected && <span className="mark" data-testid="mark-compare">✓ Compare</span>}
        {isInput && <span className="mark" data-testid="mark-input">Input</span>}
        {purgeAt && !asset.is_favorite && !isHeadliner && <RetentionCountdown purgeAt={purgeAt} />}
        {who && <Initials name={who} label={`Requested by ${who}`} />}
      </div>
      {!done && (
        <div className="state">
          <StatusBadge status={asset.status} />
          {working && <RunProgress asset={asset} typicalSeconds={typicalSeconds} />}
          {asset.status === "FAILED" && (
            <div className="error small" data-testid="error-message">
              {asset.error_message || "Generation failed"}
            </div>
          )}
        </div>
      )}
      <div className="card-actions">
        {actions.onFavorite && (
          <FavoriteButton asset={asset} onFavorite={actions.onFavorite} className={asset.is_favorite ? undefined : "reveal"} />
        )}
        {onHeadliner && done && !isHeadliner && (
          <button
            className="icon-btn reveal"
            aria-label="Make headliner"
            title="Make headliner (h)"
            onClick={(e) => {
              e.stopPropagation();
              onHeadliner(asset);
            }}
          >
            ⚑
          </button>
        )}
        <ActionMenu label="More actions" buttonClassName="reveal" items={assetMenu(asset, marks, actions)} />
      </div>
    </article>
  );
}

type CardProps = Parameters<typeof Card>[0];

function sameMarks(a: AssetMarks, b: AssetMarks): boolean {
  return a.isHeadliner === b.isHeadliner && a.selected === b.selected && a.isInput === b.isInput;
}

/** Re-renders only when its own asset or marks change: moving the cursor or opening the lightbox touches two cards, not 200. */
export const AssetCard = memo(Card, (a: CardProps, b: CardProps) =>
  a.asset === b.asset &&
  a.tabbable === b.tabbable &&
  a.purgeAt === b.purgeAt &&
  a.typicalSeconds === b.typicalSeconds &&
  a.actions === b.actions &&
  sameMarks(a.marks, b.marks),
);
