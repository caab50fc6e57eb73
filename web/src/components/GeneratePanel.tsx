"use client";
// The shot's generate panel. What is being written (prompt, model, parameters, variant count, input images) is the
// shot's draft in useDrafts: it survives navigation, reloads and other tabs, and a card's "Reuse prompt and settings"
// refills it.
import { useEffect, useMemo, useRef, type FormEvent } from "react";
import { useGenerate, useModels } from "@/api/hooks";
import { estimateRequest } from "@/lib/cost";
import { capabilitiesOf, defaultParams, keepSupported } from "@/lib/models";
import { useSingleFlight } from "@/lib/singleFlight";
import { useDraft, useDrafts } from "@/stores/drafts";
import { announce } from "./Announcer";
import { InputImages } from "./InputPicker";
import { ParamsForm } from "./ParamsForm";
import { SmartEdit } from "./SmartEdit";
import { UsageLine } from "./UsageLine";
import "@/styles/generate.css";

/** The API accepts 1-4 variants per request (core/generation.py MAX_VARIANTS). */
const MAX_VARIANTS = 4;

/** On a narrow screen the grid sits below this panel, out of sight: bring the new batch (the newest, first) into view
 * so the person who pressed Generate sees it start. 900 px is where `.layout-2` becomes one column. */
function showNewBatch() {
  if (!window.matchMedia?.("(max-width: 900px)").matches) return;
  document.querySelector('[data-testid="batch"]')?.scrollIntoView({ block: "start" });
}

/** "Reused from variant #12" with Undo, shown after a card's "Reuse prompt and settings" in this shot. */
function ReusedNote({ boxId }: { boxId: number }) {
  const reused = useDrafts((s) => (s.reused?.boxId === boxId ? s.reused : null));
  if (!reused) return null;
  return (
    <div className="gen-reused row small" data-testid="reused-note">
      <span>Reused from variant #{reused.assetId}.</span>
      <button
        type="button"
        className="link-btn"
        onClick={() => {
          useDrafts.getState().undoReuse(boxId);
          announce("The previous prompt and settings are back.");
        }}
      >
        Undo
      </button>
      <button type="button" className="link-btn" aria-label="Dismiss" onClick={() => useDrafts.setState({ reused: null })}>
        ×
      </button>
    </div>
  );
}

export function GeneratePanel({ boxId }: { boxId: number }) {
  const models = useModels();
  const generate = useGenerate(boxId);
  const draft = useDraft(boxId);
  const { update, chooseModel } = useDrafts.getState();
  const choices = useMemo(() => (models.data ?? []).filter((m) => m.kind !== "text"), [models.data]);
  // A generation costs credits: one click (or double-click), one batch.
  const { pending: sending, run } = useSingleFlight();
  const promptRef = useRef<HTMLTextAreaElement>(null);

  // The draft's model, or the first one (a new shot, or a model no longer offered).
  const model = choices.find((m) => m.provider_model_id === draft.model) ?? choices[0];
  const caps = capabilitiesOf(model);
  // As the API resolves them (the model's defaults under what is chosen), so the figure equals its estimate.
  const params = useMemo(() => ({ ...defaultParams(model), ...keepSupported(model, draft.params) }), [model, draft.params]);
  const rule = caps.input_images;
  const inputIds = rule ? draft.inputIds.slice(0, rule.max) : [];
  const missingInputs = !!rule && inputIds.length < rule.min;
  const estimate = model ? estimateRequest(model, params, draft.count) : null;

  // A card's "Reuse prompt and settings" (in this shot): show the refilled prompt and put the focus in it.
  const reuseSerial = useDrafts((s) => (s.reused?.boxId === boxId ? s.reused.serial : 0));
  const seenSerial = useRef(reuseSerial);
  useEffect(() => {
    if (reuseSerial === seenSerial.current) return;
    seenSerial.current = reuseSerial;
    promptRef.current?.scrollIntoView({ block: "center" });
    promptRef.current?.focus({ preventScroll: true });
    announce("The prompt and settings of that variant are in the generate panel.");
  }, [reuseSerial]);

  function submit(e: FormEvent) {
    e.preventDefault();
    if (!model || !draft.prompt.trim() || missingInputs) return;
    const body = {
      model: model.provider_model_id,
      prompt: draft.prompt, // kept after the generate: people iterate on it
      params,
      count: draft.count,
      ...(inputIds.length ? { input_asset_ids: inputIds } : {}),
    };
    run((done) => generate.mutate(body, { onSuccess: showNewBatch, onSettled: done }));
  }

  const why = !draft.prompt.trim() ? "Write a prompt to generate." : missingInputs ? "Choose the input images first." : null;
  if (models.isError) return <p className="error">Models could not be loaded: {models.error.message}</p>;
  return (
    <section className="panel stack gen-panel" aria-label="Generate">
      <h2 style={{ margin: 0 }}>Generate</h2>
      <form className="stack" onSubmit={submit}>
        <ReusedNote boxId={boxId} />
        <label>
          Model
          <select
            name="model"
            value={model?.provider_model_id ?? ""}
            onChange={(e) => {
              const picked = choices.find((m) => m.provider_model_id === e.target.value);
              if (picked) chooseModel(boxId, picked);
            }}
            disabled={models.isPending}
          >
            {models.isPending && <option>Loading models…</option>}
            {choices.map((m) => (
              <option key={m.id} value={m.provider_model_id}>
                {m.display_name}
              </option>
            ))}
          </select>
        </label>
        <ParamsForm model={model} values={params} onChange={(values) => update(boxId, { params: values })} />
        <label>
          Prompt
          <textarea
            ref={promptRef}
            name="prompt"
            value={draft.prompt}
            required
            minLength={caps.prompt?.min_length}
            maxLength={caps.prompt?.max_length}
            onChange={(e) => update(boxId, { prompt: e.target.value })}
          />
        </label>
        <SmartEdit boxId={boxId} prompt={draft.prompt} onUse={(prompt) => update(boxId, { prompt })} />
        <InputImages boxId={boxId} model={model} inputIds={draft.inputIds} />
        <label>
          Variants
          <input
            name="count"
            type="number"
            min={1}
            max={MAX_VARIANTS}
            value={draft.count}
            onChange={(e) => update(boxId, { count: Math.max(1, Math.min(MAX_VARIANTS, Number(e.target.value) || 1)) })}
          />
        </label>
        {estimate && (
          <p className="small" data-testid="estimate" data-credits={estimate.total}>
            Estimated cost: {estimate.text}
          </p>
        )}
        <button type="submit" className="primary" disabled={sending || !model || !!why} data-testid="generate" aria-describedby={why ? `generate-why-${boxId}` : undefined}>
          {sending ? "Starting…" : "Generate"}
        </button>
        {why && (
          <p className="small muted" id={`generate-why-${boxId}`} data-testid="generate-why">
            {why}
          </p>
        )}
        <UsageLine />
        {generate.error && <p className="error" role="alert">{generate.error.message}</p>}
      </form>
    </section>
  );
}
