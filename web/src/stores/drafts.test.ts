import { createElement } from "react";
import { renderToString } from "react-dom/server";
import { render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { AIModel, Asset } from "@/api/client";
import { placeholderAsset } from "@/api/hooks";
import { resetDrafts } from "@/test/render";
import { EMPTY_DRAFT, MAX_DRAFTS, useDraft, useDrafts } from "./drafts";

const KEY = "aam.drafts";

const nanoBanana = {
  id: 1,
  provider_model_id: "google/nano-banana",
  display_name: "Nano Banana",
  kind: "image",
  default_params: { aspect_ratio: "1:1" },
  capabilities: {
    params: {
      aspect_ratio: { type: "enum", values: ["1:1", "16:9", "auto"], default: "1:1" },
      output_format: { type: "enum", values: ["png", "jpeg"], default: "png" },
    },
  },
} as unknown as AIModel;

const seedance = {
  id: 3,
  provider_model_id: "bytedance/seedance-1.5-pro",
  display_name: "Seedance",
  kind: "video",
  default_params: {},
  capabilities: {
    params: {
      aspect_ratio: { type: "enum", values: ["1:1", "16:9", "9:16"], default: "1:1" },
      duration: { type: "enum", values: [4, 8], default: 8 },
      generate_audio: { type: "bool", default: false },
    },
  },
} as unknown as AIModel;

function asset(over: Partial<Asset> = {}): Asset {
  return { ...placeholderAsset(7, { prompt: "a fox", model: "google/nano-banana" }, "image"), id: 31, ...over };
}

afterEach(resetDrafts);

describe("drafts store", () => {
  it("keeps one draft per shot", () => {
    const s = useDrafts.getState();
    s.update(1, { prompt: "shot one", count: 3 });
    s.update(2, { prompt: "shot two" });
    expect(s.draft(1)).toEqual({ ...EMPTY_DRAFT, prompt: "shot one", count: 3 });
    expect(s.draft(2)).toEqual({ ...EMPTY_DRAFT, prompt: "shot two" });
    expect(s.draft(3)).toEqual(EMPTY_DRAFT);
  });

  it("survives a reload: written to localStorage and read back from it", async () => {
    useDrafts.getState().update(5, { prompt: "a lighthouse", model: "google/nano-banana", params: { aspect_ratio: "16:9" }, count: 2 });
    const saved = window.localStorage.getItem(KEY) ?? "{}";
    const stored = JSON.parse(saved);
    expect(stored.state.drafts["5"].prompt).toBe("a lighthouse");
    expect(stored.state.reused).toBeUndefined(); // the undo of a reuse is not kept
    useDrafts.setState({ drafts: {} }); // a new page: nothing in memory, only what the browser stored
    window.localStorage.setItem(KEY, saved);
    await useDrafts.persist.rehydrate();
    expect(useDrafts.getState().draft(5)).toEqual({ prompt: "a lighthouse", model: "google/nano-banana", params: { aspect_ratio: "16:9" }, count: 2, inputIds: [] });
  });

  it("takes a draft another tab wrote (the storage event)", async () => {
    const other = { state: { drafts: { "9": { ...EMPTY_DRAFT, prompt: "from the other tab", touched: 1 } } }, version: 1 };
    window.localStorage.setItem(KEY, JSON.stringify(other));
    window.dispatchEvent(new StorageEvent("storage", { key: KEY }));
    await vi.waitFor(() => expect(useDrafts.getState().draft(9).prompt).toBe("from the other tab"));
  });

  it("reuse fills prompt, model, params and inputs, and undo restores the draft it replaced", () => {
    const s = useDrafts.getState();
    s.update(7, { prompt: "mine", count: 3, params: { aspect_ratio: "1:1" } });
    s.reuse(7, asset({ prompt: "theirs", model: "google/nano-banana-edit", params: { aspect_ratio: "16:9" }, input_asset_ids: [4, 5] }));
    expect(s.draft(7)).toEqual({ prompt: "theirs", model: "google/nano-banana-edit", params: { aspect_ratio: "16:9" }, count: 3, inputIds: [4, 5] });
    expect(useDrafts.getState().reused).toMatchObject({ boxId: 7, assetId: 31, serial: 1 });
    s.undoReuse(8); // another shot's undo does nothing here
    expect(s.draft(7).prompt).toBe("theirs");
    s.undoReuse(7);
    expect(s.draft(7)).toEqual({ ...EMPTY_DRAFT, prompt: "mine", count: 3, params: { aspect_ratio: "1:1" } });
    expect(useDrafts.getState().reused).toBeNull();
  });

  it("reusing an animated video takes its source image as the input", () => {
    useDrafts.getState().reuse(7, asset({ kind: "video", model: "bytedance/seedance-1.5-pro", input_asset_ids: [], source_asset_id: 12 }));
    expect(useDrafts.getState().draft(7).inputIds).toEqual([12]);
  });

  it("toggles an input, sets the chosen ones, and forgets those no longer in the shot", () => {
    const s = useDrafts.getState();
    s.toggleInput(4, 10);
    s.toggleInput(4, 11);
    expect(s.draft(4).inputIds).toEqual([10, 11]);
    s.toggleInput(4, 10);
    expect(s.draft(4).inputIds).toEqual([11]);
    s.setInputs(4, [11, 12, 12, 13]);
    expect(s.draft(4).inputIds).toEqual([11, 12, 13]);
    s.keepInputs(4, [12, 13, 14]);
    expect(s.draft(4).inputIds).toEqual([12, 13]);
    const before = useDrafts.getState().drafts;
    s.keepInputs(4, [12, 13]); // nothing to forget: the state is not rewritten (no render loop)
    expect(useDrafts.getState().drafts).toBe(before);
    s.clearInputs(4);
    expect(s.draft(4).inputIds).toEqual([]);
  });

  it("keeps at most MAX_DRAFTS shots, dropping the least recently touched", () => {
    let now = 1_000;
    vi.spyOn(Date, "now").mockImplementation(() => ++now);
    const s = useDrafts.getState();
    for (let box = 1; box <= MAX_DRAFTS; box++) s.update(box, { prompt: `p${box}` });
    s.update(1, { prompt: "touched again" }); // shot 1 is now the most recent; shot 2 the oldest
    s.update(MAX_DRAFTS + 1, { prompt: "one too many" });
    const kept = Object.keys(useDrafts.getState().drafts);
    expect(kept).toHaveLength(MAX_DRAFTS);
    expect(kept).not.toContain("2");
    expect(s.draft(1).prompt).toBe("touched again");
    expect(s.draft(MAX_DRAFTS + 1).prompt).toBe("one too many");
  });

  it("a model change keeps the parameters the new model supports and drops the others", () => {
    const s = useDrafts.getState();
    s.update(3, { model: nanoBanana.provider_model_id, params: { aspect_ratio: "16:9", output_format: "jpeg" } });
    s.chooseModel(3, seedance);
    expect(s.draft(3)).toMatchObject({ model: "bytedance/seedance-1.5-pro", params: { aspect_ratio: "16:9" } });
    s.update(3, { params: { aspect_ratio: "9:16", duration: 4, generate_audio: true } });
    s.chooseModel(3, nanoBanana); // 9:16 is not one of this model's values either
    expect(s.draft(3).params).toEqual({});
  });
});

describe("useDraft", () => {
  function Probe({ boxId }: { boxId: number }) {
    return createElement("p", null, `prompt:${useDraft(boxId).prompt}`);
  }

  it("renders the empty draft in the exported HTML (no localStorage there), the stored one in the browser", () => {
    useDrafts.getState().update(6, { prompt: "kept" });
    expect(renderToString(createElement(Probe, { boxId: 6 }))).toBe("<p>prompt:</p>");
    render(createElement(Probe, { boxId: 6 }));
    expect(screen.getByText("prompt:kept")).toBeTruthy();
  });
});
