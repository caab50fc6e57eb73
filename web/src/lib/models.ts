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
