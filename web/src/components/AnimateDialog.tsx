"use client";
import { useState } from "react";
import type { AIModel, Asset } from "@/api/client";
import { useAnimate, useModels } from "@/api/hooks";
import { estimateRequest } from "@/lib/cost";
import { capabilitiesOf, defaultParams, nearestAspectRatio, onlySupported } from "@/lib/models";
import { useSingleFlight } from "@/lib/singleFlight";
import { Dialog } from "./Dialog";
import { ParamsForm } from "./ParamsForm";
import { Thumb } from "./Thumb";
import { UsageLine } from "./UsageLine";
import "@/styles/generate.css";

/** The video model's defaults, with the aspect ratio closest to the source image's (a square image gives a square
 * video unless changed). */
export function animateDefaults(model: AIModel | undefined, source: Pick<Asset, "width" | "height" | "params">): Record<string, unknown> {
  const params = defaultParams(model);
  const options = capabilitiesOf(model).params?.aspect_ratio?.values;
  const nearest = options ? nearestAspectRatio(source, options) : null;
  return nearest ? { ...params, aspect_ratio: nearest } : params;
}

/** Image → video with a video model (Seedance): its own parameters, a motion prompt (asked for, never copied from
 * the image's prompt: that describes the picture, not the movement). */
export function AnimateDialog({ source, onClose }: { source: Asset; onClose: () => void }) {
  const models = useModels();
  const animate = useAnimate(source.box_id);
  const { pending: sending, run } = useSingleFlight(); // a video costs credits: one click, one job
  const videoModels = (models.data ?? []).filter((m) => m.kind === "video");
  const [modelId, setModelId] = useState("");
  const model = videoModels.find((m) => m.provider_model_id === modelId) ?? videoModels[0];
  const [params, setParams] = useState<Record<string, unknown>>({});
  const [prompt, setPrompt] = useState("");
  // Defaults again only for another model or another picture: not when the model list is refetched (a new object,
  // e.g. with a newer typical duration) or the source is patched in the cache while the dialog is open.
  const { width, height } = source;
  const sourceRatio = source.params?.aspect_ratio;
  const defaultsKey = `${model?.provider_model_id ?? ""}|${width}|${height}|${String(sourceRatio)}`;
  const [paramsFor, setParamsFor] = useState<string | null>(null);
  if (model && paramsFor !== defaultsKey) {
    setParamsFor(defaultsKey);
    setParams(animateDefaults(model, { width, height, params: { aspect_ratio: sourceRatio } }));
  }
  const estimate = model ? estimateRequest(model, { ...defaultParams(model), ...onlySupported(model, params) }) : null;
  const noMotion = !prompt.trim();

  return (
    <Dialog label="Animate" onClose={onClose}>
      <h2 style={{ margin: 0 }}>Animate into video</h2>
      <div className="gen-animate-source">
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
            Motion prompt (required)
            <textarea
              name="animate-prompt"
              value={prompt}
              placeholder="Describe the motion: camera, subject, pace…"
              onChange={(e) => setPrompt(e.target.value)}
              required
              minLength={3}
              autoFocus
            />
          </label>
          {estimate && (
            <p className="small" data-testid="animate-estimate" data-credits={estimate.total}>
              Estimated cost: {estimate.text}
            </p>
          )}
          <UsageLine />
          {animate.error && <p className="error" role="alert">{animate.error.message}</p>}
          <div className="row">
            <button className="primary" type="submit" disabled={sending || noMotion} data-testid="animate-submit">
              Animate
            </button>
            <button type="button" onClick={onClose}>
              Cancel
            </button>
            {noMotion && <span className="small muted" data-testid="animate-why">Describe the motion to animate.</span>}
          </div>
        </form>
      )}
    </Dialog>
  );
}
