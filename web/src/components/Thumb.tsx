"use client";
/** What a picture needs: an owner's asset or a review link's public asset. */
export interface Pictured {
  kind: "image" | "video";
  status?: string;
  prompt: string;
  file_url: string | null;
  thumbnail_url: string | null;
}

/** The still of an asset (a video's poster frame), or a placeholder. Videos play in the lightbox and on the review page. */
export function Thumb({ asset }: { asset: Pictured | null | undefined }) {
  if (!asset) return <div className="thumb muted small">No headliner yet</div>;
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
