// What a person was about to generate in each shot: prompt, model, parameters, variant count and the input images
// chosen for an edit. Kept per shot in localStorage, so it survives navigation, reloads and new tabs; it holds no
// secret (the same text is sent to the API and shown on the cards).
import { create } from "zustand";
import { createJSONStorage, persist } from "zustand/middleware";
import type { AIModel, Asset } from "@/api/client";
import { keepSupported } from "@/lib/models";
import { useHydrated } from "@/lib/useHydrated";

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

/** The last "reuse prompt and settings", so the panel can say so and undo it (kept in memory only). */
export interface Reused {
  boxId: number;
  assetId: number;
  /** The draft it replaced (what Undo restores). */
  previous: Draft;
  /** Increases with every reuse, so the panel moves the focus to the prompt again for a second reuse. */
  serial: number;
}

export interface DraftsState {
  drafts: Record<string, Draft & { touched: number }>;
  reused: Reused | null;
  /** The shot's draft (the empty draft when there is none). */
  draft: (boxId: number) => Draft;
  update: (boxId: number, patch: Partial<Draft>) => void;
  /** Another model: its id, and only the parameters it supports (the others would be refused or ignored). */
  chooseModel: (boxId: number, model: AIModel) => void;
  /** "Reuse prompt and settings": the asset's prompt, model, parameters and inputs become the shot's draft. */
  reuse: (boxId: number, asset: Asset) => void;
  /** Back to the draft the last reuse in this shot replaced. */
  undoReuse: (boxId: number) => void;
  toggleInput: (boxId: number, assetId: number) => void;
  setInputs: (boxId: number, assetIds: number[]) => void;
  /** Forgets chosen inputs that are no longer usable images of the shot (deleted, or gone from it). */
  keepInputs: (boxId: number, usableIds: readonly number[]) => void;
  clearInputs: (boxId: number) => void;
  /** Logging out: unsent prompts do not stay behind on a shared computer (every tab follows through storage). */
  forgetAll: () => void;
}

function trimmed(drafts: DraftsState["drafts"]): DraftsState["drafts"] {
  const keys = Object.keys(drafts);
  if (keys.length <= MAX_DRAFTS) return drafts;
  const keep = keys.sort((a, b) => drafts[b]!.touched - drafts[a]!.touched).slice(0, MAX_DRAFTS);
  return Object.fromEntries(keep.map((k) => [k, drafts[k]!]));
}

function plain(found: (Draft & { touched?: number }) | undefined): Draft {
  if (!found) return EMPTY_DRAFT;
  const { touched: _touched, ...draft } = found;
  return draft;
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
        reused: null,
        draft: (boxId) => plain(get().drafts[String(boxId)]),
        update: (boxId, patch) => write(boxId, (current) => ({ ...current, ...patch })),
        chooseModel: (boxId, model) =>
          write(boxId, (current) => ({ ...current, model: model.provider_model_id, params: keepSupported(model, current.params) })),
        reuse: (boxId, asset) => {
          const previous = get().draft(boxId);
          // A video made from an image (animate) has that image as its source: it is the input to reuse.
          const inputs = asset.input_asset_ids.length ? asset.input_asset_ids : asset.source_asset_id ? [asset.source_asset_id] : [];
          write(boxId, (current) => ({
            ...current,
            prompt: asset.prompt,
            model: asset.model ?? current.model,
            params: { ...asset.params },
            inputIds: [...inputs],
          }));
          set((s) => ({ reused: { boxId, assetId: asset.id, previous, serial: (s.reused?.serial ?? 0) + 1 } }));
        },
        undoReuse: (boxId) => {
          const reused = get().reused;
          if (!reused || reused.boxId !== boxId) return;
          write(boxId, () => reused.previous);
          set({ reused: null });
        },
        setInputs: (boxId, assetIds) => write(boxId, (current) => ({ ...current, inputIds: [...new Set(assetIds)] })),
        keepInputs: (boxId, usableIds) => {
          const current = get().drafts[String(boxId)];
          if (!current || current.inputIds.every((id) => usableIds.includes(id))) return; // nothing to forget: no write
          write(boxId, (draft) => ({ ...draft, inputIds: draft.inputIds.filter((id) => usableIds.includes(id)) }));
        },
        toggleInput: (boxId, assetId) =>
          write(boxId, (current) => ({
            ...current,
            inputIds: current.inputIds.includes(assetId)
              ? current.inputIds.filter((id) => id !== assetId)
              : [...current.inputIds, assetId],
          })),
        clearInputs: (boxId) => write(boxId, (current) => ({ ...current, inputIds: [] })),
        forgetAll: () => set({ drafts: {}, reused: null }),
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

/** The shot's draft for rendering: the empty draft until hydration is over, because the exported HTML was rendered
 * without localStorage and the first client render must match it; the stored draft from the render after. */
export function useDraft(boxId: number): Draft {
  const hydrated = useHydrated();
  const found = useDrafts((s) => s.drafts[String(boxId)]);
  return hydrated && found ? found : EMPTY_DRAFT;
}

// Another tab of the same browser changed a draft: take it, so both tabs show the same prompt.
if (typeof window !== "undefined") {
  window.addEventListener("storage", (e) => {
    if (e.key === useDrafts.persist.getOptions().name) void useDrafts.persist.rehydrate();
  });
}
