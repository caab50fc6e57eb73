"use client";
import { useSyncExternalStore } from "react";

const subscribe = () => () => {};

/**
 * False while the page is prerendered and during hydration (so the first client render matches the exported
 * HTML), true from the render right after, and true at once for anything mounted later (client navigation).
 * Render client-only state (sessionStorage, the clock, window) only when this is true.
 */
export function useHydrated(): boolean {
  return useSyncExternalStore(
    subscribe,
    () => true,
    () => false,
  );
}
