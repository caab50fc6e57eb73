// The colour tokens in globals.css: every text colour readable (WCAG AA, >= 4.5:1) in both themes, and no colour
// hard-coded outside the token block (so both themes reach everything).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

// Vitest runs in web/ (vitest.config.ts).
const css = readFileSync(join(process.cwd(), "src/app/globals.css"), "utf8");
const rootBlock = /:root\s*{[^}]*}/.exec(css)![0];

type Rgb = [number, number, number];
const hex = (h: string): Rgb => [0, 2, 4].map((i) => parseInt(h.slice(1).padEnd(6, h.slice(1)).slice(i, i + 2), 16)) as Rgb;
function tokens(theme: 0 | 1): Record<string, Rgb> {
  const out: Record<string, Rgb> = {};
  for (const m of rootBlock.matchAll(/--([\w-]+):\s*light-dark\((#[0-9a-fA-F]{6}),\s*(#[0-9a-fA-F]{6})\)/g)) out[m[1]!] = hex(m[2 + theme]!);
  return out;
}
const channel = (c: number) => ((c /= 255) <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
const luminance = ([r, g, b]: Rgb) => 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
function contrast(a: Rgb, b: Rgb): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi! + 0.05) / (lo! + 0.05);
}
/** color-mix(in srgb, a p%, b): how a badge's tint is made. */
const mix = (a: Rgb, b: Rgb, p: number): Rgb => a.map((v, i) => Math.round(v * p + b[i]! * (1 - p))) as Rgb;

const TEXT = ["ink", "muted", "accent", "danger", "ok", "warn"];
const SURFACES = ["bg", "panel", "panel-2"];

describe.each([
  ["light", 0 as const],
  ["dark", 1 as const],
])("the %s theme", (_name, theme) => {
  const t = tokens(theme);

  it("defines every token the app uses", () => {
    for (const name of [...TEXT, ...SURFACES, "line", "accent-ink", "focus"]) expect(t[name], name).toBeDefined();
  });

  it.each(TEXT)("--%s text is >= 4.5:1 on every surface and on its own badge tint", (name) => {
    for (const surface of SURFACES) expect(contrast(t[name]!, t[surface]!), `${name} on ${surface}`).toBeGreaterThanOrEqual(4.5);
    expect(contrast(t[name]!, mix(t[name]!, t.panel!, 0.14)), `${name} badge`).toBeGreaterThanOrEqual(4.5);
  });

  it("keeps button and badge fills readable and the focus ring visible", () => {
    expect(contrast(t["accent-ink"]!, t.accent!)).toBeGreaterThanOrEqual(4.5);
    expect(contrast(t.panel!, t.ok!), "headliner badge").toBeGreaterThanOrEqual(4.5);
    for (const surface of SURFACES) expect(contrast(t.focus!, t[surface]!)).toBeGreaterThanOrEqual(3);
  });
});

it("hard-codes no colour outside the token block (the media viewer's black aside)", () => {
  const rest = css.replace(rootBlock, "").replace(/\/\*[\s\S]*?\*\//g, "");
  const colours = [...rest.matchAll(/#[0-9a-fA-F]{3,6}\b|rgba?\([^)]*\)/g)].map((m) => m[0]);
  expect(colours.filter((c) => !["#000", "#fff", "rgba(0, 0, 0, 0.35)", "rgba(20, 20, 20, 0.92)"].includes(c))).toEqual([]);
});
