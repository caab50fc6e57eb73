import { describe, expect, it } from "vitest";
import { formatSeconds, MAX_FRACTION, progressLabel, progressOf } from "./progress";

const start = "2026-11-27T10:00:00Z";
const after = (seconds: number) => Date.parse(start) + seconds * 1000;

describe("progressOf", () => {
  it("tells the elapsed time and how far along the model's typical duration it is", () => {
    const p = progressOf(start, 40, after(10));
    expect(p.elapsedSeconds).toBe(10);
    expect(p.fraction).toBeCloseTo(0.25);
    expect(p.overdue).toBe(false);
    expect(progressLabel(p)).toBe("10 s · ~40 s");
  });

  it("never shows a full bar while running, and says when it takes longer than usual", () => {
    const p = progressOf(start, 40, after(90));
    expect(p.fraction).toBe(MAX_FRACTION);
    expect(p.overdue).toBe(true);
    expect(progressLabel(p)).toBe("1 min 30 s · ~40 s (longer than usual)");
  });

  it("has no bar and no estimate when the model's duration is unknown", () => {
    const p = progressOf(start, null, after(5));
    expect(p.fraction).toBeNull();
    expect(progressLabel(p)).toBe("5 s");
  });

  it("counts a clock behind the server as zero elapsed", () => {
    expect(progressOf(start, 40, after(-3)).elapsedSeconds).toBe(0);
  });
});

describe("formatSeconds", () => {
  it("reads like a person would say it", () => {
    expect(formatSeconds(0.4)).toBe("0 s");
    expect(formatSeconds(59)).toBe("59 s");
    expect(formatSeconds(120)).toBe("2 min");
    expect(formatSeconds(125)).toBe("2 min 5 s");
  });
});
