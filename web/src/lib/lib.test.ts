import { describe, expect, it } from "vitest";
import { acceptedIds } from "@/api/extra";
import { errorMessage } from "@/api/client";
import { diffWords } from "./diff";
import { defaultParams, onlySupported } from "./models";
import { moveItem } from "./order";
import type { AIModel } from "@/api/client";

const seedance = {
  id: 3,
  provider: "kie",
  provider_model_id: "bytedance/seedance-1.5-pro",
  display_name: "Seedance",
  kind: "video",
  default_params: { aspect_ratio: "16:9", duration: 8 },
  capabilities: {
    params: {
      aspect_ratio: { type: "enum", values: ["1:1", "16:9"], default: "1:1" },
      duration: { type: "enum", values: [4, 8, 12], default: 8 },
      generate_audio: { type: "bool", default: false },
    },
  },
  price_credits: 28,
} as unknown as AIModel;

describe("prompt diff", () => {
  it("marks added and removed words and keeps the rest", () => {
    const parts = diffWords("a cat on a roof", "a black cat on a roof at night");
    expect(parts.filter((p) => p.kind === "added").map((p) => p.text.trim())).toEqual(["black", "at night"]);
    expect(parts.filter((p) => p.kind === "removed")).toEqual([]);
    expect(parts.map((p) => (p.kind === "removed" ? "" : p.text)).join("")).toBe("a black cat on a roof at night");
  });

  it("shows replaced words as removed then added", () => {
    const parts = diffWords("day scene", "night scene");
    expect(parts[0]).toEqual({ kind: "removed", text: "day" });
    expect(parts[1]).toEqual({ kind: "added", text: "night" });
  });
});

describe("model parameters", () => {
  it("prefers the model's defaults, then the spec's", () => {
    expect(defaultParams(seedance)).toEqual({ aspect_ratio: "16:9", duration: 8, generate_audio: false });
  });

  it("drops parameters the model does not support", () => {
    expect(onlySupported(seedance, { duration: 4, output_format: "png" })).toEqual({ duration: 4 });
  });
});

describe("helpers", () => {
  it("reads generate answers of every shape", () => {
    expect(acceptedIds({ asset_id: 4, status: "PENDING" })).toEqual([4]);
    expect(acceptedIds([{ asset_id: 4 }, { asset_id: 5 }])).toEqual([4, 5]);
    expect(acceptedIds({ items: [{ asset_id: 7 }] })).toEqual([7]);
    expect(acceptedIds({ asset_id: 8, status: "PENDING", asset_ids: [8, 9], workflow_ids: [] })).toEqual([8, 9]);
  });

  it("moves an item in a list", () => {
    expect(moveItem([1, 2, 3, 4], 0, 2)).toEqual([2, 3, 1, 4]);
    expect(moveItem([1, 2, 3], 2, 0)).toEqual([3, 1, 2]);
    expect(moveItem([1, 2, 3], 1, 9)).toEqual([1, 3, 2]);
  });

  it("turns API errors into sentences", () => {
    expect(errorMessage({ detail: "Project not found", code: "not_found" }, 404)).toBe("Project not found");
    expect(errorMessage({ detail: [{ loc: ["body", "name"], msg: "too short" }] }, 422)).toBe("name: too short");
    expect(errorMessage(null, 0)).toMatch(/Network/);
  });
});
