// A person's display preferences, kept in localStorage: the colour theme and whether single-key shortcuts are on
// (WCAG 2.1.4: single-character shortcuts can be turned off).
import { create } from "zustand";
import { createJSONStorage, persist } from "zustand/middleware";

/** "system" follows the operating system's light/dark setting. */
export type Theme = "system" | "light" | "dark";

export interface PrefsState {
  theme: Theme;
  shortcuts: boolean;
  setTheme: (theme: Theme) => void;
  setShortcuts: (on: boolean) => void;
}

export const usePrefs = create<PrefsState>()(
  persist(
    (set) => ({
      theme: "system",
      shortcuts: true,
      setTheme: (theme) => set({ theme }),
      setShortcuts: (shortcuts) => set({ shortcuts }),
    }),
    {
      name: "aam.prefs",
      version: 1,
      storage: createJSONStorage(() => localStorage),
      partialize: (s) => ({ theme: s.theme, shortcuts: s.shortcuts }),
    },
  ),
);
