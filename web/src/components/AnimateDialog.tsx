"use client";
import { useEffect, useState } from "react";
import type { Asset } from "@/api/client";
import { useAnimate, useModels } from "@/api/hooks";
import { estimateRequest } from "@/lib/cost";
import { defaultParams, onlySupported } from "@/lib/models";
import { useSingleFlight } from "@/lib/singleFlight";
import { ParamsForm } from "./ParamsForm";
import { Thumb } from "./Thumb";
import { UsageLine } from "./UsageLine";

/** Image → video with a video model (Seedance): its own parameters, a motion prompt. */
export function AnimateDialog({ source, onClose }: { source: Asset; onClose: () => void }) {
  const models = useModels();
  const animate = useAnimate(source.box_id);
  const { pending: sending, run } = useSingleFlight(); // a video costs credits: one click, one job
  const videoModels = (models.data ?? []).filter((m) => m.kind === "video");
  const [modelId, setModelId] = useState("");
  const model = videoModels.find((m) => m.provider_model_id === modelId) ?? videoModels[0];
  const [params, setParams] = useState<Record<string, unknown>>({});
  const [prompt, setPrompt] = useState(source.prompt);
  useEffect(() => setParams(defaultParams(model)), [model]);
  const estimate = model ? estimateRequest(model, { ...defaultParams(model), ...onlySupported(model, params) }) : null;
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => e.key === "Escape" && onClose();
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [onClose]);

  return (
    <div className="dialog-backdrop" onClick={onClose}>
      <div className="dialog stack" role="dialog" aria-label="Animate" onClick={(e) => e.stopPropagation()}>
        <h2 style={{ margin: 0 }}>Animate into video</h2>
        <div style={{ maxWidth: 240 }}>
          <Thumb asset={source} />
        </div>
        {models.isPending ? (
          <p className="muted">Loading models…</p>
        ) : videoModels.length === 0 ? (
          <p className="error">No video model is available.</p>
        ) : (
          <form
            className="stack"
            onSubmit={(e) => {
              e.preventDefault();
              if (!model) return;
              run((done) =>
                animate.mutate(
                  { source, prompt, params: onlySupported(model, params), model: model.provider_model_id },
                  { onSuccess: onClose, onSettled: done },
                ),
              );
            }}
          >
            {videoModels.length > 1 && (
              <label>
                Model
                <select value={model?.provider_model_id} onChange={(e) => setModelId(e.target.value)}>
                  {videoModels.map((m) => (
                    <option key={m.id} value={m.provider_model_id}>
                      {m.display_name}
                    </option>
                  ))}
                </select>
              </label>
            )}
            <ParamsForm model={model} values={params} onChange={setParams} />
            <label>
              Motion prompt
              <textarea name="animate-prompt" value={prompt} onChange={(e) => setPrompt(e.target.value)} required minLength={3} />
            </label>
            {estimate && (
              <p className="small" data-testid="animate-estimate" data-credits={estimate.total}>
                Estimated cost: {estimate.text}
              </p>
            )}
            <UsageLine />
            {animate.error && <p className="error" role="alert">{animate.error.message}</p>}
            <div className="row">
              <button className="primary" type="submit" disabled={sending} data-testid="animate-submit">
                Animate
              </button>
              <button type="button" onClick={onClose}>
                Cancel
              </button>
            </div>
          </form>
        )}
      </div>
    </div>
  );
}
