"use client";
import type { Asset } from "@/api/client";
import { Dialog } from "./Dialog";

/** Two or more variants side by side, full height, for picking one (`onPick`: absent for a viewer). */
export function CompareView({ assets, onClose, onPick }: { assets: Asset[]; onClose: () => void; onPick?: (a: Asset) => void }) {
  return (
    <Dialog label="Compare variants" onClose={onClose} className="compare" backdropClassName="compare-backdrop" testId="compare">
      <div className="row">
        <strong>Comparing {assets.length} variants</strong>
        <span style={{ flex: 1 }} />
        <button onClick={onClose}>Close (Esc)</button>
      </div>
      <div className="cols">
        {assets.map((a) => (
          <div key={a.id} className="col">
            {a.kind === "video" && a.file_url ? (
              <video src={a.file_url} controls muted loop playsInline />
            ) : (
              // eslint-disable-next-line @next/next/no-img-element -- presigned URLs, static export
              <img src={a.file_url ?? a.thumbnail_url ?? ""} alt={a.prompt.slice(0, 120)} />
            )}
            <div className="small">{a.prompt}</div>
            <div className="small">
              {a.model} {JSON.stringify(a.params)}
            </div>
            {onPick && <button onClick={() => onPick(a)}>Make headliner</button>}
          </div>
        ))}
      </div>
    </Dialog>
  );
}
