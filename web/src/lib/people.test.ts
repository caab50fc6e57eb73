import { describe, expect, it } from "vitest";
import { initialsOf, relativeTime } from "./people";

describe("initialsOf", () => {
  it("takes the first letters of the first and last words", () => {
    expect(initialsOf("Ana Lima")).toBe("AL");
    expect(initialsOf("  eddie  van der editor ")).toBe("EE");
    expect(initialsOf("Olga")).toBe("O");
    expect(initialsOf("Élodie Ørsted")).toBe("ÉØ");
    expect(initialsOf("")).toBe("?");
  });
});

describe("relativeTime", () => {
  const now = Date.parse("2026-11-27T12:00:00Z");
  it("says how long ago, coarser as it gets older", () => {
    expect(relativeTime("2026-11-27T11:59:50Z", now)).toBe("just now");
    expect(relativeTime("2026-11-27T11:55:00Z", now)).toBe("5 min ago");
    expect(relativeTime("2026-11-27T09:00:00Z", now)).toBe("3 h ago");
    expect(relativeTime("2026-11-25T12:00:00Z", now)).toBe("2 d ago");
    expect(relativeTime("2026-10-01T12:00:00Z", now)).toBe(new Date("2026-10-01T12:00:00Z").toLocaleDateString());
    expect(relativeTime("not a date", now)).toBe("");
  });
});
