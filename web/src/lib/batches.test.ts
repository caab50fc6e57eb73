import { describe, expect, it } from "vitest";
import { aspectOf, changedParams, groupBatches, layoutShot, parseRatio, type Batchable } from "./batches";

let seq = 0;
function asset(over: Partial<Batchable> = {}): Batchable {
  seq += 1;
  return { id: seq, batch_id: null, created_at: "2026-11-27T10:00:00Z", prompt: "a lighthouse", model: "google/nano-banana", params: {}, ...over };
}

describe("groupBatches", () => {
  it("puts the variants of one request together and the newest request first", () => {
    const a1 = asset({ batch_id: "a", created_at: "2026-11-27T10:00:00Z" });
    const b1 = asset({ batch_id: "b", created_at: "2026-11-27T11:00:00Z" });
    const a2 = asset({ batch_id: "a", created_at: "2026-11-27T10:00:00Z" });
    const b2 = asset({ batch_id: "b", created_at: "2026-11-27T11:00:00Z" });
    // The API lists newest first; inside a batch the variants read in the order they were made.
    expect(groupBatches([b2, b1, a2, a1]).map((g) => g.map((x) => x.id))).toEqual([
      [b1.id, b2.id],
      [a1.id, a2.id],
    ]);
  });

  it("makes an asset without a batch (a placeholder, an upload) a group of its own", () => {
    const old = asset({ batch_id: "a", created_at: "2026-11-27T10:00:00Z" });
    const upload1 = asset({ created_at: "2026-11-27T12:00:00Z" });
    const upload2 = asset({ created_at: "2026-11-27T12:00:00Z" });
    expect(groupBatches([old, upload1, upload2]).map((g) => g.map((x) => x.id))).toEqual([[upload2.id], [upload1.id], [old.id]]);
  });
});

describe("changedParams", () => {
  it("lists the parameters that differ, a missing one included, and nothing when equal", () => {
    expect(changedParams({ aspect_ratio: "1:1", format: "png" }, { aspect_ratio: "16:9", format: "png", seed: 3 })).toEqual([
      { name: "aspect_ratio", before: "1:1", after: "16:9" },
      { name: "seed", before: undefined, after: 3 },
    ]);
    expect(changedParams({ a: [1, 2] }, { a: [1, 2] })).toEqual([]);
  });
});

describe("layoutShot", () => {
  const older = asset({ batch_id: "a", created_at: "2026-11-27T10:00:00Z", prompt: "a lighthouse", params: { aspect_ratio: "1:1" } });
  const olderTwin = asset({ batch_id: "a", created_at: "2026-11-27T10:00:00Z", prompt: "a lighthouse", params: { aspect_ratio: "1:1" } });
  const newer = asset({ batch_id: "b", created_at: "2026-11-27T11:00:00Z", prompt: "a lighthouse at night", params: { aspect_ratio: "16:9" } });

  it("pins the headliner first, in its own strip, and out of its batch", () => {
    const layout = layoutShot([newer, older, olderTwin], olderTwin.id);
    expect(layout.headliner?.id).toBe(olderTwin.id);
    expect(layout.batches.map((b) => b.assets.map((x) => x.id))).toEqual([[newer.id], [older.id]]);
    expect(layout.batches[1]!.count).toBe(2);
    expect(layout.order.map((x) => x.id)).toEqual([olderTwin.id, newer.id, older.id]);
  });

  it("says what changed from the batch before; the oldest has nothing before it", () => {
    const [first, second] = layoutShot([newer, older, olderTwin], null).batches;
    expect(first!.prompt).toBe("a lighthouse at night");
    expect(first!.previous).toEqual({
      prompt: "a lighthouse",
      model: "google/nano-banana",
      changedParams: [{ name: "aspect_ratio", before: "1:1", after: "16:9" }],
    });
    expect(second!.previous).toBeNull();
  });

  it("compares a clip with the clip before it, never with a picture's prompt", () => {
    const picture = { ...newer, kind: "image" };
    const clip = asset({ batch_id: "c", created_at: "2026-11-27T12:00:00Z", prompt: "slow push in", kind: "video", params: { duration: 8 } });
    const retake = asset({ batch_id: "d", created_at: "2026-11-27T13:00:00Z", prompt: "slow push in, then tilt up", kind: "video", params: { duration: 8 } });
    const [second, first, image] = layoutShot([retake, clip, picture], null).batches;
    expect(first!.previous).toBeNull();
    expect(second!.previous).toEqual({ prompt: "slow push in", model: "google/nano-banana", changedParams: [] });
    expect(image!.previous).toBeNull();
  });

  it("drops a batch whose only variant is the headliner (it is shown in the strip)", () => {
    const layout = layoutShot([newer, older, olderTwin], newer.id);
    expect(layout.batches.map((b) => b.key)).toEqual(["batch:a"]);
    expect(layout.order.map((x) => x.id)).toEqual([newer.id, older.id, olderTwin.id]);
  });

  it("has no headliner when it is not in the list (filtered out or deleted)", () => {
    expect(layoutShot([older], 99999).headliner).toBeNull();
  });
});

describe("aspect ratio", () => {
  it("uses the pixels when known, else the requested aspect_ratio, else nothing", () => {
    expect(aspectOf({ width: 1024, height: 1024, params: { aspect_ratio: "16:9" } })).toBe(1);
    expect(aspectOf({ width: null, height: null, params: { aspect_ratio: "16:9" } })).toBeCloseTo(16 / 9);
    expect(aspectOf({ width: null, height: null, params: {} })).toBeNull();
    expect(parseRatio("auto")).toBeNull();
    expect(parseRatio("0:1")).toBeNull();
  });
});
