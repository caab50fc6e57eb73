// Applies the colour theme preference to <html data-theme>, which globals.css reads; "system" removes it so the
// operating system's light/dark setting decides.
"use client";
import { useEffect } from "react";
import { usePrefs, type Theme } from "@/stores/prefs";

export function applyTheme(theme: Theme, root: HTMLElement = document.documentElement): void {
  if (theme === "light" || theme === "dark") root.dataset.theme = theme;
  else delete root.dataset.theme;
}

/** Keeps <html data-theme> in step with the stored preference. */
export function useApplyTheme(): void {
  const theme = usePrefs((s) => s.theme);
  useEffect(() => applyTheme(theme), [theme]);
}

/**
 * Run inline in <head> before the first paint (layout.tsx), so a dark-theme page never flashes light on load. Reads
 * what the persisted prefs store (`aam.prefs`, zustand's {state: {theme}}) wrote; the CSP allows inline scripts.
 */
export const THEME_SCRIPT =
  'try{var t=(JSON.parse(localStorage.getItem("aam.prefs")||"{}").state||{}).theme;' +
  'if(t==="light"||t==="dark")document.documentElement.dataset.theme=t}catch(e){}';
