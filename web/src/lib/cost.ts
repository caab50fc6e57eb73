// What a request will cost, reckoned as the API does (core/spend.py variant_cost): the same table of cases
// (costCases.json) runs in Vitest here and in pytest there, so the figure shown equals the API's estimate.

export interface PricedModel {
  price_credits?: number | null;
  capabilities?: Record<string, unknown> | null;
}

export interface CostEstimate {
  perVariant: number;
  count: number;
  total: number;
  /** How the figure was reckoned, e.g. "4 × 28 = 112 credits" or "12 s × 15 credits/s (1080p, audio) = 180 credits". */
  text: string;
}

const round2 = (value: number) => Math.round(value * 100) / 100;

/** 112 → "112", 3.5 → "3.5", 1234.567 → "1234.57" (as the API writes credits). */
export function creditsText(value: number): string {
  return round2(value).toFixed(2).replace(/0+$/, "").replace(/\.$/, "");
}

/** 1 → "1 credit", 28 → "28 credits". */
export function creditsAmount(value: number): string {
  return `${creditsText(value)} ${round2(value) === 1 ? "credit" : "credits"}`;
}

function asNumber(value: unknown): number | null {
  if (typeof value === "boolean" || value === null || value === undefined || value === "") return null;
  const number = Number(value);
  return Number.isFinite(number) ? number : null;
}

/** One variant's credits: per second by resolution and audio × duration where the model has such rates, else its
 * price; null when the model has no price (the API refuses to generate with it). */
export function variantCost(model: PricedModel, params: Record<string, unknown>): { credits: number; how: string } | null {
  const rates = model.capabilities?.credits_per_second;
  if (rates && typeof rates === "object" && !Array.isArray(rates)) {
    const resolution = String(params.resolution ?? "720p");
    const rate = (rates as Record<string, unknown>)[resolution];
    if (rate && typeof rate === "object") {
      const audio = Boolean(params.generate_audio);
      const perSecond = (rate as Record<string, unknown>)[audio ? "audio" : "silent"];
      const duration = asNumber(params.duration ?? 8);
      if (typeof perSecond === "number" && duration !== null) {
        return {
          credits: round2(perSecond * duration),
          how: `${creditsText(duration)} s × ${creditsText(perSecond)} credits/s (${resolution}${audio ? ", audio" : ""})`,
        };
      }
    }
  }
  if (model.price_credits === null || model.price_credits === undefined) return null;
  const price = model.price_credits;
  return { credits: price, how: `${creditsText(price)} credits` };
}

/** The whole request: `count` variants of the model with these (resolved) parameters; null without a price. */
export function estimateRequest(model: PricedModel, params: Record<string, unknown>, count = 1): CostEstimate | null {
  const cost = variantCost(model, params);
  if (cost === null) return null;
  const { credits, how } = cost;
  const total = round2(credits * count);
  const text =
    count > 1
      ? `${count} × ${creditsText(credits)} = ${creditsText(total)} credits`
      : how.endsWith(" credits")
        ? how
        : `${how} = ${creditsText(total)} credits`;
  return { perVariant: credits, count, total, text };
}
