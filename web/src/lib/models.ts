// Reading a model's capabilities (as seeded in the catalogue) for the pickers.
import type { AIModel } from "@/api/client";

export interface ParamSpec {
  type: "enum" | "bool" | string;
  values?: (string | number)[];
  default?: unknown;
}

export interface Capabilities {
  prompt?: { min_length?: number; max_length?: number };
  supports_seed?: boolean;
  input_images?: { field: string; min: number; max: number } | null;
  params?: Record<string, ParamSpec>;
}

export function capabilitiesOf(model: AIModel | undefined): Capabilities {
  return (model?.capabilities ?? {}) as Capabilities;
}

/** The parameters the model supports, with the model's defaults (then the spec's) filled in. */
export function defaultParams(model: AIModel | undefined): Record<string, unknown> {
  const params = capabilitiesOf(model).params ?? {};
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(params)) {
    const fromModel = (model?.default_params as Record<string, unknown> | undefined)?.[name];
    out[name] = fromModel !== undefined ? fromModel : spec.default;
  }
  return out;
}

/** Drops any parameter the model does not know (e.g. left over from the previously chosen model). */
export function onlySupported(model: AIModel | undefined, values: Record<string, unknown>): Record<string, unknown> {
  const params = capabilitiesOf(model).params ?? {};
  return Object.fromEntries(Object.entries(values).filter(([k, v]) => k in params && v !== undefined));
}

export function label(name: string): string {
  return name.replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());
}

/** The parameters the model accepts as they are: unknown names and enum values the model does not offer are dropped
 * (switching models keeps what still applies, e.g. an aspect ratio both models know). */
export function keepSupported(model: AIModel | undefined, values: Record<string, unknown>): Record<string, unknown> {
  const params = capabilitiesOf(model).params ?? {};
  return Object.fromEntries(
    Object.entries(values).filter(([name, value]) => {
      const spec = params[name];
      if (!spec || value === undefined) return false;
      if (spec.type === "bool") return typeof value === "boolean";
      return !spec.values || spec.values.some((v) => v === value);
    }),
  );
}

/** "16:9" → 1.777…; anything else (e.g. "auto") → null. */
export function ratioOf(text: unknown): number | null {
  const match = typeof text === "string" ? /^(\d+(?:\.\d+)?):(\d+(?:\.\d+)?)$/.exec(text) : null;
  if (!match) return null;
  const [w, h] = [Number(match[1]), Number(match[2])];
  return w > 0 && h > 0 ? w / h : null;
}

/** Of `options` (e.g. a video model's aspect ratios), the one closest to the source image's shape: its pixel size
 * when known, else the aspect ratio it was generated with; null when neither is known. */
export function nearestAspectRatio(
  source: { width?: number | null; height?: number | null; params?: Record<string, unknown> | null },
  options: readonly (string | number)[],
): string | null {
  const ratio =
    source.width && source.height && source.width > 0 && source.height > 0
      ? source.width / source.height
      : ratioOf(source.params?.aspect_ratio);
  if (ratio === null) return null;
  let best: string | null = null;
  let distance = Infinity;
  for (const option of options) {
    const candidate = ratioOf(option);
    if (candidate === null) continue;
    const d = Math.abs(Math.log(candidate / ratio)); // 2:1 and 1:2 are equally far from 1:1
    if (d < distance) [best, distance] = [String(option), d];
  }
  return best;
}

/** What the model asks of input images, as a sentence with how many are chosen; null for a model that takes none.
 * "Nano Banana Edit needs 1–10 input images; 0 chosen." */
export function inputImagesRule(model: AIModel | undefined, chosen: number): string | null {
  const rule = capabilitiesOf(model).input_images;
  if (!model || !rule) return null;
  const images = (n: number) => (n === 1 ? "input image" : "input images");
  const range = rule.min === rule.max ? `${rule.min}` : `${rule.min}–${rule.max}`;
  const head =
    rule.min > 0 ? `${model.display_name} needs ${range} ${images(rule.max)}` : `${model.display_name} can use up to ${rule.max} ${images(rule.max)} (optional)`;
  return `${head}; ${chosen} chosen.`;
}
