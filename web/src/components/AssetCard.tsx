"use client";
import type { Asset } from "@/api/client";
import { creditsAmount } from "@/lib/cost";
import { RetentionCountdown } from "./Countdown";
import { Thumb } from "./Thumb";

export interface AssetActions {
  onFavorite: (asset: Asset) => void;
  onHeadliner: (asset: Asset) => void;
  onAnimate: (asset: Asset) => void;
  onRetry: (asset: Asset) => void;
  onDelete: (asset: Asset) => void;
  onCompare: (asset: Asset) => void;
  onFocus: (asset: Asset) => void;
}

export function StatusBadge({ status }: { status: string }) {
  return (
    <span className={`badge ${status}`} data-testid="status">
      {status}
    </span>
  );
}

export function AssetCard({
  asset,
  isHeadliner,
  focused,
  selected,
  purgeAt,
  actions,
}: {
  asset: Asset;
  isHeadliner: boolean;
  focused: boolean;
  selected: boolean;
  purgeAt?: string;
  actions: AssetActions;
}) {
  const placeholder = asset.id < 0;
  const done = asset.status === "COMPLETED";
  const retryCost = asset.estimated_cost_credits != null ? creditsAmount(asset.estimated_cost_credits) : null;
  return (
    <article
      className={`asset-card${focused ? " focused" : ""}${isHeadliner ? " headliner" : ""}`}
      data-testid="asset-card"
      data-asset-id={asset.id}
      data-status={asset.status}
      data-kind={asset.kind}
      aria-current={focused ? "true" : undefined}
      onClick={() => actions.onFocus(asset)}
    >
      <Thumb asset={asset} playable />
      <div className="meta">
        <div className="row">
          <StatusBadge status={asset.status} />
          <span className="badge">{asset.kind}</span>
          {isHeadliner && <span className="badge head">Headliner</span>}
          {purgeAt && !asset.is_favorite && !isHeadliner && <RetentionCountdown purgeAt={purgeAt} />}
        </div>
        <div className="prompt" title={asset.prompt}>
          {asset.prompt || <span className="muted">(no prompt)</span>}
        </div>
        {asset.status === "FAILED" && (
          <div className="error small" role="alert" data-testid="error-message">
            {asset.error_message || "Generation failed"}
          </div>
        )}
        <div className="row">
          <button
            className={`icon-btn${asset.is_favorite ? " fav-on" : ""}`}
            aria-pressed={asset.is_favorite}
            aria-label={asset.is_favorite ? "Unfavourite" : "Favourite"}
            title="Favourite (f)"
            disabled={placeholder}
            onClick={(e) => {
              e.stopPropagation();
              actions.onFavorite(asset);
            }}
          >
            {asset.is_favorite ? "★" : "☆"}
          </button>
          {done && !isHeadliner && (
            <button title="Make headliner (h)" onClick={(e) => { e.stopPropagation(); actions.onHeadliner(asset); }}>
              Make headliner
            </button>
          )}
          {done && asset.kind === "image" && (
            <button onClick={(e) => { e.stopPropagation(); actions.onAnimate(asset); }}>Animate</button>
          )}
          {asset.status === "FAILED" && (
            <>
              <button
                title={retryCost != null ? `Retry: estimated cost ${retryCost}` : undefined}
                onClick={(e) => { e.stopPropagation(); actions.onRetry(asset); }}
              >
                Retry
              </button>
              {/* A retry runs the same request again, so it costs what the asset was estimated at. */}
              {retryCost != null && (
                <span className="small muted" data-testid="retry-cost">
                  Estimated cost: {retryCost}
                </span>
              )}
            </>
          )}
          <label className="inline small" onClick={(e) => e.stopPropagation()}>
            <input type="checkbox" checked={selected} disabled={!done} onChange={() => actions.onCompare(asset)} aria-label="Select for compare" />
            compare
          </label>
          <button
            className="danger icon-btn"
            aria-label="Delete"
            disabled={placeholder}
            onClick={(e) => {
              e.stopPropagation();
              actions.onDelete(asset);
            }}
          >
            ✕
          </button>
        </div>
      </div>
    </article>
  );
}
