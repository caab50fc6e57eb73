// What a person was about to generate in each shot: prompt, model, parameters, variant count and the input images
// chosen for an edit. Kept per shot in localStorage, so it survives navigation, reloads and new tabs; it holds no
// secret (the same text is sent to the API and shown on the cards).
import { create } from "zustand";
import { createJSONStorage, persist } from "zustand/middleware";
import type { Asset } from "@/api/client";

export interface Draft {
  prompt: string;
  /** The model's `provider_model_id`; empty means "the first model in the list". */
  model: string;
  params: Record<string, unknown>;
  count: number;
  /** Images chosen as inputs for an edit (its own step, apart from the compare selection). */
  inputIds: number[];
}

export const EMPTY_DRAFT: Draft = { prompt: "", model: "", params: {}, count: 1, inputIds: [] };

/** Drafts of more shots than this are dropped, least recently touched first. */
export const MAX_DRAFTS = 200;

export interface DraftsState {
  drafts: Record<string, Draft & { touched: number }>;
  /** The shot's draft (the empty draft when there is none). */
  draft: (boxId: number) => Draft;
  update: (boxId: number, patch: Partial<Draft>) => void;
  /** "Reuse prompt and settings": the asset's prompt, model, parameters and inputs become the shot's draft. */
  reuse: (boxId: number, asset: Asset) => void;
  toggleInput: (boxId: number, assetId: number) => void;
  clearInputs: (boxId: number) => void;
}

function trimmed(drafts: DraftsState["drafts"]): DraftsState["drafts"] {
  const keys = Object.keys(drafts);
  if (keys.length <= MAX_DRAFTS) return drafts;
  const keep = keys.sort((a, b) => drafts[b]!.touched - drafts[a]!.touched).slice(0, MAX_DRAFTS);
  return Object.fromEntries(keep.map((k) => [k, drafts[k]!]));
}

export const useDrafts = create<DraftsState>()(
  persist(
    (set, get) => {
      const write = (boxId: number, next: (current: Draft) => Draft) =>
        set((s) => {
          const current = s.drafts[String(boxId)] ?? EMPTY_DRAFT;
          return { drafts: trimmed({ ...s.drafts, [String(boxId)]: { ...next(current), touched: Date.now() } }) };
        });
      return {
        drafts: {},
        draft: (boxId) => {
          const found = get().drafts[String(boxId)];
          if (!found) return EMPTY_DRAFT;
          const { touched: _touched, ...draft } = found;
          return draft;
        },
        update: (boxId, patch) => write(boxId, (current) => ({ ...current, ...patch })),
        reuse: (boxId, asset) =>
          write(boxId, (current) => ({
            ...current,
            prompt: asset.prompt,
            model: asset.model ?? current.model,
            params: { ...asset.params },
            inputIds: [...asset.input_asset_ids],
          })),
        toggleInput: (boxId, assetId) =>
          write(boxId, (current) => ({
            ...current,
            inputIds: current.inputIds.includes(assetId)
              ? current.inputIds.filter((id) => id !== assetId)
              : [...current.inputIds, assetId],
          })),
        clearInputs: (boxId) => write(boxId, (current) => ({ ...current, inputIds: [] })),
      };
    },
    {
      name: "aam.drafts",
      version: 1,
      storage: createJSONStorage(() => localStorage),
      partialize: (s) => ({ drafts: s.drafts }),
    },
  ),
);
