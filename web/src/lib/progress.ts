// How far a running generation is: elapsed time and an estimate from the model's recent durations
// (`AIModelPublic.typical_seconds`, the median of its last finished assets).

export interface Progress {
  elapsedSeconds: number;
  /** The model's typical duration, or null when too few assets finished to know it. */
  typicalSeconds: number | null;
  /** 0–1 when the typical duration is known (held below 1 until the asset really finishes); else null. */
  fraction: number | null;
  /** True once the asset has run longer than its model usually takes. */
  overdue: boolean;
}

/** The most a bar shows before the asset is done: a bar at 100 % that is still running reads as stuck. */
export const MAX_FRACTION = 0.95;

export function progressOf(startedAt: string, typicalSeconds: number | null | undefined, now: number): Progress {
  const started = Date.parse(startedAt);
  const elapsedSeconds = Number.isFinite(started) ? Math.max(0, (now - started) / 1000) : 0;
  const typical = typicalSeconds != null && typicalSeconds > 0 ? typicalSeconds : null;
  return {
    elapsedSeconds,
    typicalSeconds: typical,
    fraction: typical === null ? null : Math.min(MAX_FRACTION, elapsedSeconds / typical),
    overdue: typical !== null && elapsedSeconds > typical,
  };
}

/** `42` → "42 s", `125` → "2 min 5 s", `120` → "2 min". */
export function formatSeconds(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const rest = s % 60;
  return rest ? `${Math.floor(s / 60)} min ${rest} s` : `${s / 60} min`;
}

/** What a running card says: "1 min 5 s · ~40 s" (or just the elapsed time when no estimate is known). */
export function progressLabel(p: Progress): string {
  const elapsed = formatSeconds(p.elapsedSeconds);
  if (p.typicalSeconds === null) return elapsed;
  return `${elapsed} · ~${formatSeconds(p.typicalSeconds)}${p.overdue ? " (longer than usual)" : ""}`;
}
