// Client state of the box view (filters, the focused card, the compare selection) and of the live connection.
import { create } from "zustand";
import type { AssetFilters } from "@/api/hooks";
import type { LiveState } from "@/lib/live";

export interface BoxViewState {
  filters: AssetFilters;
  focusedId: number | null;
  compareIds: number[];
  comparing: boolean;
  setFilter: <K extends keyof AssetFilters>(key: K, value: AssetFilters[K] | undefined) => void;
  focus: (id: number | null) => void;
  /** Moves the focus by `step` through `ids` (the cards on screen, in order), wrapping at neither end. */
  move: (ids: number[], step: number) => void;
  toggleCompare: (id: number) => void;
  setComparing: (on: boolean) => void;
  reset: () => void;
}

export const useBoxView = create<BoxViewState>((set, get) => ({
  filters: {},
  focusedId: null,
  compareIds: [],
  comparing: false,
  setFilter: (key, value) =>
    set((s) => {
      const filters = { ...s.filters };
      if (value === undefined) delete filters[key];
      else filters[key] = value;
      return { filters };
    }),
  focus: (id) => set({ focusedId: id }),
  move: (ids, step) => {
    if (!ids.length) return;
    const current = get().focusedId;
    const index = current === null ? -1 : ids.indexOf(current);
    const next = index === -1 ? (step > 0 ? 0 : ids.length - 1) : Math.min(ids.length - 1, Math.max(0, index + step));
    set({ focusedId: ids[next] ?? null });
  },
  toggleCompare: (id) =>
    set((s) => ({
      compareIds: s.compareIds.includes(id) ? s.compareIds.filter((x) => x !== id) : [...s.compareIds, id],
    })),
  setComparing: (on) => set({ comparing: on }),
  reset: () => set({ filters: {}, focusedId: null, compareIds: [], comparing: false }),
}));

export interface LiveComment {
  key: string;
  box_id: number | null;
  asset_id: number | null;
  author_name: string;
  text: string;
  created_at: string;
}

export interface LiveStore {
  state: LiveState;
  /** The server's sentence when live updates were refused ("denied"). */
  reason: string | null;
  comments: LiveComment[];
  setState: (state: LiveState, reason?: string | null) => void;
  addComment: (comment: LiveComment) => void;
  setComments: (comments: LiveComment[]) => void;
}

export const useLive = create<LiveStore>((set) => ({
  state: "closed",
  reason: null,
  comments: [],
  setState: (state, reason = null) => set({ state, reason }),
  addComment: (comment) =>
    set((s) => (s.comments.some((c) => c.key === comment.key) ? s : { comments: [...s.comments, comment] })),
  setComments: (comments) => set({ comments }),
}));
