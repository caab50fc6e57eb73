import { QueryClient } from "@tanstack/react-query";
import { describe, expect, it, vi } from "vitest";
import { keys } from "@/api/hooks";
import { createAnnouncementQueue, summarise, type Happening } from "./announcements";
import { happeningOf } from "./useProjectLive";

const done = (shot = "SH010"): Happening => ({ kind: "completed", shot, media: "image" });

describe("summarise", () => {
  it("says one happening in full", () => {
    expect(summarise([done()])).toBe("Variant completed in SH010");
    expect(summarise([{ kind: "completed", shot: "SH020", media: "video" }])).toBe("Video completed in SH020");
    expect(summarise([{ kind: "failed", shot: "SH010", reason: "The prompt was refused." }])).toBe(
      "Generation failed in SH010: The prompt was refused.",
    );
    expect(summarise([{ kind: "comment", shot: "SH030", author: "Claire" }])).toBe("New comment from Claire in SH030");
  });

  it("counts a burst, naming the shot only when there is one", () => {
    expect(summarise([done(), done(), done()])).toBe("3 variants completed in SH010");
    expect(summarise([done("SH010"), done("SH020")])).toBe("2 variants completed");
    expect(
      summarise([done(), { kind: "failed", shot: "SH020", reason: "x" }, { kind: "comment", shot: "SH030", author: "C" }]),
    ).toBe("1 variant completed in SH010, 1 generation failed in SH020, 1 new comment in SH030");
  });
});

describe("the announcement queue", () => {
  it("says the first at once, then at most one sentence a second, folding what came in between", () => {
    vi.useFakeTimers();
    const said: string[] = [];
    const queue = createAnnouncementQueue((s) => said.push(s));
    queue.push(done());
    expect(said).toEqual(["Variant completed in SH010"]);
    queue.push(done());
    queue.push(done());
    queue.push(done());
    vi.advanceTimersByTime(999);
    expect(said).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(said).toEqual(["Variant completed in SH010", "3 variants completed in SH010"]);
    // A quiet second later, the next one is said at once again.
    vi.advanceTimersByTime(1000);
    queue.push(done("SH020"));
    expect(said.at(-1)).toBe("Variant completed in SH020");
  });

  it("drops what is waiting when stopped", () => {
    vi.useFakeTimers();
    const said: string[] = [];
    const queue = createAnnouncementQueue((s) => said.push(s));
    queue.push(done());
    queue.push(done());
    queue.stop();
    vi.advanceTimersByTime(5000);
    expect(said).toEqual(["Variant completed in SH010"]);
  });
});

describe("what a live event says", () => {
  const qc = new QueryClient();
  qc.setQueryData(keys.boxes(1), { items: [{ id: 7, title: "Opening", code: "SH010" }], total: 1 });
  const event = (type: string, data: Record<string, unknown>) => ({ type, project_id: 1, data, ts: 1 });

  it("names finished and failed generations and clients' comments by shot code", () => {
    expect(happeningOf(qc, event("asset_status_changed", { box_id: 7, status: "COMPLETED", kind: "image" }))).toEqual(done());
    expect(happeningOf(qc, event("asset_status_changed", { box_id: 7, status: "FAILED", error_message: "Refused." }))).toEqual({
      kind: "failed",
      shot: "SH010",
      reason: "Refused.",
    });
    expect(happeningOf(qc, event("new_comment", { box_id: 7, author_name: "Claire", via_link: true }))).toEqual({
      kind: "comment",
      shot: "SH010",
      author: "Claire",
    });
  });

  it("keeps quiet about work in progress and the studio's own comments", () => {
    expect(happeningOf(qc, event("asset_status_changed", { box_id: 7, status: "RUNNING" }))).toBeNull();
    expect(happeningOf(qc, event("new_comment", { box_id: 7, author_name: "Olga", via_link: false }))).toBeNull();
  });
});
