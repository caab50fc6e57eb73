import { afterEach, describe, expect, it } from "vitest";
import { usePrefs } from "@/stores/prefs";
import { applyTheme, THEME_SCRIPT } from "./theme";

afterEach(() => {
  usePrefs.getState().setTheme("system");
  delete document.documentElement.dataset.theme;
});

describe("theme", () => {
  it("sets data-theme for light and dark, and removes it for system", () => {
    applyTheme("dark");
    expect(document.documentElement.dataset.theme).toBe("dark");
    applyTheme("light");
    expect(document.documentElement.dataset.theme).toBe("light");
    applyTheme("system");
    expect(document.documentElement.dataset.theme).toBeUndefined();
  });

  it("the pre-paint script reads the theme the prefs store persisted", () => {
    usePrefs.getState().setTheme("dark");
    expect(localStorage.getItem("aam.prefs")).toContain("dark");
    new Function(THEME_SCRIPT)();
    expect(document.documentElement.dataset.theme).toBe("dark");
  });

  it("the pre-paint script ignores a missing or broken preference", () => {
    localStorage.setItem("aam.prefs", "{not json");
    new Function(THEME_SCRIPT)();
    localStorage.setItem("aam.prefs", JSON.stringify({ state: { theme: "purple" } }));
    new Function(THEME_SCRIPT)();
    expect(document.documentElement.dataset.theme).toBeUndefined();
  });
});
