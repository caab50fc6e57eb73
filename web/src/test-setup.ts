// After every test: unmount what it rendered, undo its stubbed globals, spies and fake timers, forget what it stored.
import { cleanup } from "@testing-library/react";
import { afterEach, vi } from "vitest";

afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
  vi.useRealTimers();
  if (typeof window === "undefined") return;
  cleanup();
  window.localStorage.clear();
});
