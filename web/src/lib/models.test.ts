import { describe, expect, it } from "vitest";
import type { AIModel } from "@/api/client";
import { inputImagesRule, keepSupported, nearestAspectRatio, ratioOf } from "./models";

const VIDEO = ["1:1", "4:3", "3:4", "16:9", "9:16", "21:9"];

describe("nearestAspectRatio", () => {
  it("picks the video ratio closest to the image's pixel size", () => {
    expect(nearestAspectRatio({ width: 1024, height: 1024 }, VIDEO)).toBe("1:1");
    expect(nearestAspectRatio({ width: 1344, height: 768 }, VIDEO)).toBe("16:9"); // 1.75
    expect(nearestAspectRatio({ width: 768, height: 1344 }, VIDEO)).toBe("9:16");
    expect(nearestAspectRatio({ width: 1200, height: 800 }, VIDEO)).toBe("4:3"); // 3:2 is not offered: 4:3 is nearer than 16:9
    expect(nearestAspectRatio({ width: 2520, height: 1080 }, VIDEO)).toBe("21:9");
  });

  it("falls back to the aspect ratio the image was made with, and gives up without either", () => {
    expect(nearestAspectRatio({ width: null, height: null, params: { aspect_ratio: "2:3" } }, VIDEO)).toBe("3:4");
    expect(nearestAspectRatio({ width: null, height: null, params: { aspect_ratio: "auto" } }, VIDEO)).toBeNull();
    expect(nearestAspectRatio({ width: 0, height: 100 }, VIDEO)).toBeNull();
    expect(nearestAspectRatio({ width: 100, height: 100 }, ["auto"])).toBeNull();
  });

  it("reads ratios", () => {
    expect(ratioOf("16:9")).toBeCloseTo(16 / 9);
    expect(ratioOf("auto")).toBeNull();
    expect(ratioOf("0:9")).toBeNull();
    expect(ratioOf(1.5)).toBeNull();
  });
});

const edit = {
  display_name: "Nano Banana Edit",
  capabilities: { input_images: { field: "image_urls", min: 1, max: 4 }, params: { aspect_ratio: { type: "enum", values: ["1:1"] }, hd: { type: "bool" } } },
} as unknown as AIModel;

describe("model rules", () => {
  it("say what a model needs of input images", () => {
    expect(inputImagesRule(edit, 0)).toBe("Nano Banana Edit needs 1–4 input images; 0 chosen.");
    const optional = { ...edit, display_name: "Seedance", capabilities: { input_images: { field: "input_urls", min: 0, max: 2 } } } as unknown as AIModel;
    expect(inputImagesRule(optional, 1)).toBe("Seedance can use up to 2 input images (optional); 1 chosen.");
    expect(inputImagesRule({ ...edit, capabilities: {} } as unknown as AIModel, 0)).toBeNull();
  });

  it("keep only the parameters and values a model supports", () => {
    expect(keepSupported(edit, { aspect_ratio: "1:1", hd: true, seed: 3 })).toEqual({ aspect_ratio: "1:1", hd: true });
    expect(keepSupported(edit, { aspect_ratio: "16:9", hd: "yes" })).toEqual({});
  });
});
