"use client";
// Input images for an edit: their own step in the generate panel (apart from the compare selection). The chosen
// thumbnails, each removable, and "Choose images…", a dialog listing the shot's finished images.
import { useEffect, useMemo, useState } from "react";
import type { AIModel, Asset } from "@/api/client";
import { useAssets } from "@/api/hooks";
import { capabilitiesOf, inputImagesRule } from "@/lib/models";
import { useDrafts } from "@/stores/drafts";
import { Dialog } from "./Dialog";

/** The shot's images that can be an input: finished, saved (not a placeholder). */
export function usableImages(items: readonly Asset[]): Asset[] {
  return items.filter((a) => a.kind === "image" && a.status === "COMPLETED" && a.id > 0);
}

function Picture({ asset }: { asset: Asset }) {
  const src = asset.thumbnail_url ?? asset.file_url;
  // eslint-disable-next-line @next/next/no-img-element -- static export: plain presigned URLs
  return src ? <img src={src} alt={`Variant #${asset.id}: ${asset.prompt.slice(0, 80)}`} loading="lazy" /> : <span className="small muted">#{asset.id}</span>;
}

export function InputImages({ boxId, model, inputIds }: { boxId: number; model: AIModel | undefined; inputIds: number[] }) {
  const assets = useAssets(boxId, {});
  const images = useMemo(() => usableImages(assets.data?.items ?? []), [assets.data]);
  const keepInputs = useDrafts((s) => s.keepInputs);
  const setInputs = useDrafts((s) => s.setInputs);
  const [picking, setPicking] = useState(false);
  const rule = capabilitiesOf(model).input_images;

  // An input deleted or gone from the shot is forgotten (once the shot's list is known).
  useEffect(() => {
    if (assets.data) keepInputs(boxId, images.map((a) => a.id));
  }, [assets.data, images, boxId, keepInputs]);

  const chosen = inputIds.map((id) => images.find((a) => a.id === id)).filter((a): a is Asset => !!a);
  if (!model) return null;
  if (!rule) {
    // Marked with a card's "Use as input" while this model takes none: say so rather than drop them silently.
    return chosen.length ? (
      <p className="small muted" data-testid="input-rule">
        {chosen.length === 1 ? "1 image is" : `${chosen.length} images are`} marked as input; {model.display_name} takes no
        input images (choose an edit model to use {chosen.length === 1 ? "it" : "them"}).
      </p>
    ) : null;
  }
  const short = chosen.length < rule.min;
  const over = chosen.length > rule.max;
  return (
    <fieldset className="gen-inputs stack" data-testid="input-images">
      <legend>Input images</legend>
      <p className={`small ${short || over ? "error" : "muted"}`} data-testid="input-rule">
        {inputImagesRule(model, chosen.length)}
        {over && ` Only the first ${rule.max} are used.`}
      </p>
      {chosen.length > 0 && (
        <ul className="gen-input-list" aria-label="Chosen input images">
          {chosen.map((a) => (
            <li key={a.id} className="gen-input" data-testid="input-image" data-asset-id={a.id}>
              <Picture asset={a} />
              <button
                type="button"
                className="gen-input-remove"
                aria-label={`Remove input image #${a.id}`}
                title="Remove"
                onClick={() => setInputs(boxId, inputIds.filter((id) => id !== a.id))}
              >
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
      <div className="row">
        <button type="button" onClick={() => setPicking(true)} disabled={images.length === 0}>
          Choose images…
        </button>
        {images.length === 0 && <span className="small muted">No finished image in this shot yet.</span>}
      </div>
      {picking && (
        <InputPicker
          images={images}
          chosen={inputIds}
          max={rule.max}
          onDone={(ids) => {
            setInputs(boxId, ids);
            setPicking(false);
          }}
          onClose={() => setPicking(false)}
        />
      )}
    </fieldset>
  );
}

/** The dialog: tick up to `max` of the shot's finished images; "Use" keeps the ticked ones in the order ticked. */
export function InputPicker({
  images,
  chosen,
  max,
  onDone,
  onClose,
}: {
  images: Asset[];
  chosen: number[];
  max: number;
  onDone: (ids: number[]) => void;
  onClose: () => void;
}) {
  const [ticked, setTicked] = useState(() => chosen.filter((id) => images.some((a) => a.id === id)).slice(0, max));
  const full = ticked.length >= max;
  return (
    <Dialog label="Choose input images" onClose={onClose} testId="input-picker">
      <h2 style={{ margin: 0 }}>Choose input images</h2>
      <p className="small muted" aria-live="polite">
        {ticked.length} of at most {max} chosen{full ? " — untick one to choose another." : "."}
      </p>
      <ul className="gen-pick-grid">
        {images.map((a) => {
          const on = ticked.includes(a.id);
          return (
            <li key={a.id}>
              <label className={`gen-pick${on ? " on" : ""}`}>
                <input
                  type="checkbox"
                  checked={on}
                  disabled={!on && full}
                  aria-label={`Use variant #${a.id} as input`}
                  onChange={() => setTicked((t) => (on ? t.filter((id) => id !== a.id) : [...t, a.id]))}
                />
                <Picture asset={a} />
              </label>
            </li>
          );
        })}
      </ul>
      <div className="row">
        <button type="button" className="primary" onClick={() => onDone(ticked)}>
          Use {ticked.length} {ticked.length === 1 ? "image" : "images"}
        </button>
        <button type="button" onClick={onClose}>
          Cancel
        </button>
      </div>
    </Dialog>
  );
}
