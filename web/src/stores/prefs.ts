// A person's display preferences, kept in localStorage: the colour theme, whether single-key shortcuts are on
// (WCAG 2.1.4: single-character shortcuts can be turned off) and the studio they work in.
import { create } from "zustand";
import { createJSONStorage, persist } from "zustand/middleware";

/** "system" follows the operating system's light/dark setting. */
export type Theme = "system" | "light" | "dark";

export interface PrefsState {
  theme: Theme;
  shortcuts: boolean;
  /** The studio chosen in the header's switcher (null: the first one the person belongs to). */
  studioId: number | null;
  setTheme: (theme: Theme) => void;
  setShortcuts: (on: boolean) => void;
  setStudio: (id: number | null) => void;
}

export const usePrefs = create<PrefsState>()(
  persist(
    (set) => ({
      theme: "system",
      shortcuts: true,
      studioId: null,
      setTheme: (theme) => set({ theme }),
      setShortcuts: (shortcuts) => set({ shortcuts }),
      setStudio: (studioId) => set({ studioId }),
    }),
    {
      name: "aam.prefs",
      version: 1,
      storage: createJSONStorage(() => localStorage),
      partialize: (s) => ({ theme: s.theme, shortcuts: s.shortcuts, studioId: s.studioId }),
    },
  ),
);
