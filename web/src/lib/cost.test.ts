import { describe, expect, it } from "vitest";
import { creditsAmount, creditsText, estimateRequest, type PricedModel } from "./cost";
import table from "./costCases.json";

interface Case {
  model: string;
  params: Record<string, unknown>;
  count: number;
  per_asset: number | null;
  total: number | null;
}

const models = table.models as Record<string, PricedModel>;

describe("estimateRequest (the same cases as tests/core/test_spend_estimates.py)", () => {
  for (const c of table.cases as Case[]) {
    it(`${c.model} ${JSON.stringify(c.params)} × ${c.count} = ${c.total}`, () => {
      const estimate = estimateRequest(models[c.model]!, c.params, c.count);
      if (c.total === null) {
        expect(estimate).toBeNull(); // no price: the API refuses it
        return;
      }
      expect(estimate?.perVariant).toBe(c.per_asset);
      expect(estimate?.total).toBe(c.total);
    });
  }
});

describe("the estimate's text", () => {
  it("shows every factor", () => {
    const seedance = models["bytedance/seedance-1.5-pro"]!;
    expect(estimateRequest(seedance, { resolution: "1080p", duration: 12, generate_audio: true })?.text).toBe(
      "12 s × 15 credits/s (1080p, audio) = 180 credits",
    );
    expect(estimateRequest(models["google/nano-banana"]!, {}, 4)?.text).toBe("4 × 4 = 16 credits");
    expect(estimateRequest(models["google/nano-banana"]!, {}, 1)?.text).toBe("4 credits");
  });
  it("writes credits as the API does", () => {
    expect(creditsText(112)).toBe("112");
    expect(creditsText(3.5)).toBe("3.5");
    expect(creditsText(1234.567)).toBe("1234.57");
  });
});

describe("creditsAmount", () => {
  it("says credit for one and credits otherwise", () => {
    expect(creditsAmount(1)).toBe("1 credit");
    expect(creditsAmount(1.5)).toBe("1.5 credits");
    expect(creditsAmount(28)).toBe("28 credits");
  });
});
