"use client";
import { useEffect, useMemo, useState, type FormEvent } from "react";
import type { AIModel } from "@/api/client";
import { useGenerate, useModels, useSmartEdit, useUsage } from "@/api/hooks";
import { creditsAmount, estimateRequest } from "@/lib/cost";
import { capabilitiesOf, defaultParams, onlySupported } from "@/lib/models";
import { useSingleFlight } from "@/lib/singleFlight";
import { useDrafts } from "@/stores/drafts";
import { ParamsForm } from "./ParamsForm";
import { PromptDiff } from "./PromptDiff";
import { UsageLine } from "./UsageLine";

/** The API accepts 1-4 variants per request (core/generation.py MAX_VARIANTS). */
const MAX_VARIANTS = 4;

const NO_INPUTS: number[] = [];

export function GeneratePanel({ boxId }: { boxId: number; selectedImageIds?: number[] }) {
  // Shim until fix/generate lands (it owns this panel): the inputs are the draft's, chosen from a card's "⋯" menu.
  const selectedImageIds = useDrafts((s) => s.drafts[String(boxId)]?.inputIds) ?? NO_INPUTS;
  const models = useModels();
  const generate = useGenerate(boxId);
  const smartEdit = useSmartEdit();
  const smartEditCost = useUsage().data?.smart_edit_cost;
  const choices = useMemo(() => (models.data ?? []).filter((m) => m.kind !== "text"), [models.data]);
  const [modelId, setModelId] = useState<string>("");
  const [params, setParams] = useState<Record<string, unknown>>({});
  const [prompt, setPrompt] = useState("");
  const [count, setCount] = useState(1);
  const [instruction, setInstruction] = useState("");
  const [preview, setPreview] = useState<{ before: string; after: string } | null>(null);
  // A generation costs credits: one click (or double-click), one batch.
  const { pending: sending, run } = useSingleFlight();

  const model: AIModel | undefined = choices.find((m) => m.provider_model_id === modelId);
  const caps = capabilitiesOf(model);

  useEffect(() => {
    if (!modelId && choices[0]) setModelId(choices[0].provider_model_id);
  }, [choices, modelId]);
  useEffect(() => {
    setParams(defaultParams(model));
  }, [model]);

  const needsInputs = (caps.input_images?.min ?? 0) > 0;
  const inputIds = caps.input_images ? selectedImageIds.slice(0, caps.input_images.max) : [];
  const missingInputs = needsInputs && inputIds.length < (caps.input_images?.min ?? 0);
  // As the API resolves them (the model's defaults under what is chosen), so the figure equals its estimate.
  const estimate = model ? estimateRequest(model, { ...defaultParams(model), ...onlySupported(model, params) }, count) : null;

  function start(text: string) {
    if (!model) return;
    run((done) =>
      generate.mutate(
        {
          model: model.provider_model_id,
          prompt: text,
          params: onlySupported(model, params),
          count,
          ...(inputIds.length ? { input_asset_ids: inputIds } : {}),
        },
        { onSettled: done },
      ),
    );
  }

  function submit(e: FormEvent) {
    e.preventDefault();
    start(prompt);
  }

  if (models.isError) return <p className="error">Models could not be loaded: {models.error.message}</p>;
  return (
    <section className="panel stack" aria-label="Generate">
      <h2 style={{ margin: 0 }}>Generate</h2>
      <form className="stack" onSubmit={submit}>
        <label>
          Model
          <select name="model" value={modelId} onChange={(e) => setModelId(e.target.value)} disabled={models.isPending}>
            {models.isPending && <option>Loading models…</option>}
            {choices.map((m) => (
              <option key={m.id} value={m.provider_model_id}>
                {m.display_name}
              </option>
            ))}
          </select>
        </label>
        <ParamsForm model={model} values={params} onChange={setParams} />
        <label>
          Prompt
          <textarea
            name="prompt"
            value={prompt}
            required
            minLength={caps.prompt?.min_length}
            maxLength={caps.prompt?.max_length}
            onChange={(e) => setPrompt(e.target.value)}
          />
        </label>
        <label>
          Variants
          <input name="count" type="number" min={1} max={MAX_VARIANTS} value={count} onChange={(e) => setCount(Math.max(1, Math.min(MAX_VARIANTS, Number(e.target.value) || 1)))} />
        </label>
        {caps.input_images && (
          <p className="small muted">
            Input images: {inputIds.length ? inputIds.map((id) => `#${id}`).join(", ") : "none"} (choose “Use as input” in the “⋯” menu of up to{" "}
            {caps.input_images.max} images)
          </p>
        )}
        {missingInputs && <p className="error small">This model needs at least {caps.input_images?.min} input image(s).</p>}
        {estimate && (
          <p className="small" data-testid="estimate" data-credits={estimate.total}>
            Estimated cost: {estimate.text}
          </p>
        )}
        <button type="submit" className="primary" disabled={sending || !model || !prompt.trim() || missingInputs} data-testid="generate">
          {sending ? "Starting…" : "Generate"}
        </button>
        <UsageLine />
        {generate.error && <p className="error" role="alert">{generate.error.message}</p>}
      </form>
      <details>
        <summary>Smart edit</summary>
        <form
          className="stack"
          onSubmit={(e) => {
            e.preventDefault();
            smartEdit.mutate(
              { prompt, instruction, box_id: boxId },
              { onSuccess: (r) => setPreview({ before: r.original_prompt ?? prompt, after: r.prompt }) },
            );
          }}
        >
          <label>
            Instruction
            <input name="instruction" value={instruction} placeholder="e.g. make it night, add rain" onChange={(e) => setInstruction(e.target.value)} required />
          </label>
          {smartEditCost != null && (
            <p className="small" data-testid="smart-edit-estimate">
              Estimated cost: {creditsAmount(smartEditCost)}
            </p>
          )}
          <button type="submit" disabled={!prompt.trim() || !instruction.trim() || smartEdit.isPending}>
            {smartEdit.isPending ? "Rewriting…" : "Preview rewrite"}
          </button>
          {smartEdit.error && <p className="error">{smartEdit.error.message}</p>}
        </form>
        {preview && (
          <div className="stack" data-testid="smart-edit-preview">
            <PromptDiff before={preview.before} after={preview.after} />
            <div className="row">
              <button
                className="primary"
                onClick={() => {
                  setPrompt(preview.after);
                  start(preview.after);
                  setPreview(null);
                  setInstruction("");
                }}
                disabled={sending || !model || missingInputs}
              >
                Confirm and generate
              </button>
              <button
                onClick={() => {
                  setPrompt(preview.after);
                  setPreview(null);
                }}
              >
                Use prompt
              </button>
              <button onClick={() => setPreview(null)}>Discard</button>
            </div>
          </div>
        )}
      </details>
    </section>
  );
}
