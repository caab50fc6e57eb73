"use client";
// Smart edit, under the prompt it rewrites: an instruction, "Rewrite prompt", the before/after difference with Use or
// Discard. When it cannot run it says why in words, not only with a greyed button.
import { useState } from "react";
import { ApiError, type Schemas } from "@/api/client";
import { useSmartEdit, useUsage } from "@/api/hooks";
import { creditsAmount, creditsText } from "@/lib/cost";
import { announce } from "./Announcer";
import { PromptDiff } from "./PromptDiff";

/** Why a smart edit cannot be asked for now, as a sentence; null when it can. */
export function smartEditBlocked(prompt: string, instruction: string, usage: Schemas["UsagePublic"] | undefined): string | null {
  if (!prompt.trim()) return "Write a prompt first: smart edit rewrites it.";
  if (usage && usage.remaining < usage.smart_edit_cost) {
    return `Today's credit limit is reached: a smart edit costs ${creditsAmount(usage.smart_edit_cost)} and ${creditsText(
      Math.max(0, usage.remaining),
    )} remain until 00:00 UTC.`;
  }
  if (!instruction.trim()) return "Say what to change, e.g. “make it night, add rain”.";
  return null;
}

/** The API's answer when the LLM cannot be reached or is not set up (503), said as such. */
function unavailable(error: Error | null): string | null {
  if (!(error instanceof ApiError) || error.status !== 503) return null;
  return `Smart edit is unavailable: the LLM that rewrites prompts cannot be used right now (${error.message}).`;
}

export function SmartEdit({ boxId, prompt, onUse }: { boxId: number; prompt: string; onUse: (prompt: string) => void }) {
  const usage = useUsage().data;
  const smartEdit = useSmartEdit();
  const [instruction, setInstruction] = useState("");
  const [preview, setPreview] = useState<{ before: string; after: string } | null>(null);
  const blocked = smartEditBlocked(prompt, instruction, usage);
  const down = unavailable(smartEdit.error);

  function rewrite() {
    if (blocked || smartEdit.isPending) return;
    smartEdit.mutate(
      { prompt, instruction, box_id: boxId },
      {
        onSuccess: (r) => {
          setPreview({ before: r.original_prompt ?? prompt, after: r.prompt });
          announce("The rewritten prompt is ready: review the difference, then use or discard it.");
        },
      },
    );
  }

  return (
    <div className="gen-smart stack" role="group" aria-labelledby={`smart-edit-${boxId}`}>
      <div className="row gen-smart-head">
        <span id={`smart-edit-${boxId}`} className="gen-smart-title">
          Smart edit
        </span>
        {usage && (
          <span className="small muted" data-testid="smart-edit-estimate">
            Estimated cost: {creditsAmount(usage.smart_edit_cost)}
          </span>
        )}
      </div>
      <div className="gen-smart-ask">
        <input
            name="instruction"
            className="gen-grow"
            aria-label="Instruction"
            value={instruction}
            placeholder="e.g. make it night"
            onChange={(e) => setInstruction(e.target.value)}
            onKeyDown={(e) => {
              if (e.key !== "Enter") return;
              e.preventDefault(); // Enter here rewrites; it must not submit the generate form around it
              rewrite();
            }}
            aria-describedby={blocked ? `smart-edit-why-${boxId}` : undefined}
          />
        <button type="button" onClick={rewrite} disabled={!!blocked || smartEdit.isPending} data-testid="smart-edit-rewrite">
          {smartEdit.isPending ? "Rewriting…" : down ? "Try again" : "Rewrite prompt"}
        </button>
      </div>
      {blocked && (
        <p className="small muted" id={`smart-edit-why-${boxId}`} data-testid="smart-edit-why">
          {blocked}
        </p>
      )}
      {smartEdit.error && (
        <p className="error small" role="alert" data-testid="smart-edit-error">
          {down ?? smartEdit.error.message}
        </p>
      )}
      {preview && (
        <div className="stack gen-smart-preview" data-testid="smart-edit-preview">
          <PromptDiff before={preview.before} after={preview.after} />
          <div className="row">
            <button
              type="button"
              className="primary"
              onClick={() => {
                onUse(preview.after);
                setPreview(null);
                setInstruction("");
                announce("The prompt was replaced with the rewrite.");
              }}
            >
              Use
            </button>
            <button type="button" onClick={() => setPreview(null)}>
              Discard
            </button>
          </div>
        </div>
      )}
    </div>
  );
}
