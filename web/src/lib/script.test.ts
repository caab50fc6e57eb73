import { describe, expect, it } from "vitest";
import { MAX_SHOTS, MAX_TITLE, parseScript } from "./script";

describe("parseScript", () => {
  it("makes one shot per non-empty line", () => {
    expect(parseScript("Opening\n\n  \nClosing\n").shots).toEqual([
      { code: null, title: "Opening", notes: "" },
      { code: null, title: "Closing", notes: "" },
    ]);
  });

  it("makes one shot per paragraph: the first line is the title, the rest the notes", () => {
    const text = "Lighthouse at dawn\nWide, fog.\nGulls.\n\nKeeper climbs\nHandheld";
    expect(parseScript(text).shots).toEqual([
      { code: null, title: "Lighthouse at dawn", notes: "Wide, fog.\nGulls." },
      { code: null, title: "Keeper climbs", notes: "Handheld" },
    ]);
  });

  it("reads Windows and old Mac line endings", () => {
    expect(parseScript("A\r\nB\r\n\r\nC\rD").shots.map((s) => [s.title, s.notes])).toEqual([
      ["A", "B"],
      ["C", "D"],
    ]);
  });

  it("strips list markers", () => {
    const titles = parseScript("- one\n* two\n• three\n1. four\n12) five\n-not a marker").shots.map((s) => s.title);
    expect(titles).toEqual(["one", "two", "three", "four", "five", "-not a marker"]);
  });

  it("takes a leading shot code, after a list marker too", () => {
    expect(parseScript("SH030: Title\nsh040 - Other\n3. 1A – Insert\nSH050:").shots).toEqual([
      { code: "SH030", title: "Title", notes: "" },
      { code: "sh040", title: "Other", notes: "" },
      { code: "1A", title: "Insert", notes: "" },
      { code: "SH050", title: "", notes: "" },
    ]);
  });

  it("keeps scene headings and words with a colon as titles", () => {
    expect(parseScript("INT. KITCHEN - NIGHT\nEXT. PIER - DAY\nOpening: the sea").shots).toEqual([
      { code: null, title: "INT. KITCHEN - NIGHT", notes: "" },
      { code: null, title: "EXT. PIER - DAY", notes: "" },
      { code: null, title: "Opening: the sea", notes: "" },
    ]);
  });

  it("cuts a long title at a word boundary and moves the rest to the notes", () => {
    const words = Array.from({ length: 60 }, (_, i) => `word${i}`).join(" ");
    const [line] = parseScript(words).shots;
    expect(line!.title.length).toBeLessThanOrEqual(MAX_TITLE);
    expect(words.charAt(line!.title.length)).toBe(" ");
    expect(`${line!.title} ${line!.notes}`).toBe(words);
    const [paragraph] = parseScript(`${words}\nmore\n\nnext`).shots;
    expect(paragraph!.notes).toBe(`${line!.notes}\nmore`);
  });

  it("creates at most MAX_SHOTS and says how many were left out", () => {
    const text = Array.from({ length: MAX_SHOTS + 5 }, (_, i) => `Shot ${i}`).join("\n");
    const parsed = parseScript(text);
    expect(parsed.shots).toHaveLength(MAX_SHOTS);
    expect(parsed.dropped).toBe(5);
    expect(parsed.shots.at(-1)!.title).toBe(`Shot ${MAX_SHOTS - 1}`);
  });

  it("finds nothing in blank text", () => {
    expect(parseScript(" \n\n\t\n")).toEqual({ shots: [], dropped: 0 });
  });
});
