"use client";
/** What a picture needs: an owner's asset or a review link's public asset. */
export interface Pictured {
  kind: "image" | "video";
  status?: string;
  prompt: string;
  file_url: string | null;
  thumbnail_url: string | null;
}

/** The picture of an asset: its thumbnail, an inline player for a finished video, or a placeholder. */
export function Thumb({ asset, playable = false }: { asset: Pictured | null | undefined; playable?: boolean }) {
  if (!asset) return <div className="thumb muted small">No headliner yet</div>;
  if (asset.kind === "video" && (asset.status ?? "COMPLETED") === "COMPLETED" && asset.file_url && playable) {
    return (
      <div className="thumb">
        <video src={asset.file_url} poster={asset.thumbnail_url ?? undefined} controls muted loop playsInline preload="metadata" data-testid="video" />
      </div>
    );
  }
  const src = asset.thumbnail_url ?? (asset.kind === "image" ? asset.file_url : null);
  if (src) {
    return (
      <div className="thumb">
        {/* eslint-disable-next-line @next/next/no-img-element -- static export: plain presigned URLs */}
        <img src={src} alt={asset.prompt.slice(0, 120)} loading="lazy" />
      </div>
    );
  }
  return <div className="thumb muted small">{asset.status === "FAILED" ? "Failed" : (asset.status ?? "COMPLETED") === "COMPLETED" ? "No preview" : "Working…"}</div>;
}
