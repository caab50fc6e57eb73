// What the live project events say to a screen reader: one polite sentence at most once a second, a burst of
// events folded into one ("3 variants completed in SH010") rather than read out one by one (WCAG 4.1.3).

/** One thing worth saying: a finished or failed generation, or a client's comment. */
export type Happening =
  | { kind: "completed"; shot: string; media: "image" | "video" }
  | { kind: "failed"; shot: string; reason: string }
  | { kind: "comment"; shot: string; author: string };

const plural = (n: number, one: string, many: string) => (n === 1 ? one : `${n} ${many}`);

/** " in SH010" when every item is about that one shot, else "". */
function where(items: Happening[]): string {
  const shots = new Set(items.map((h) => h.shot));
  return shots.size === 1 ? ` in ${items[0]!.shot}` : "";
}

/** One sentence for a batch of happenings (in the order they came). */
export function summarise(items: Happening[]): string {
  const completed = items.filter((h) => h.kind === "completed");
  const failed = items.filter((h) => h.kind === "failed");
  const comments = items.filter((h) => h.kind === "comment");
  if (items.length === 1) {
    const only = items[0]!;
    if (only.kind === "completed") return `${only.media === "video" ? "Video" : "Variant"} completed in ${only.shot}`;
    if (only.kind === "failed") return `Generation failed in ${only.shot}: ${only.reason}`;
    return `New comment from ${only.author} in ${only.shot}`;
  }
  const parts: string[] = [];
  if (completed.length) parts.push(`${plural(completed.length, "1 variant", "variants")} completed${where(completed)}`);
  if (failed.length) parts.push(`${plural(failed.length, "1 generation", "generations")} failed${where(failed)}`);
  if (comments.length) parts.push(`${plural(comments.length, "1 new comment", "new comments")}${where(comments)}`);
  return parts.join(", ");
}

interface Clock {
  now: () => number;
  setTimeout: (fn: () => void, ms: number) => unknown;
  clearTimeout: (handle: unknown) => void;
}

const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/**
 * Says the first happening at once, then at most one sentence per `intervalMs`: what arrives in between waits and
 * is folded into the next sentence. `stop()` drops what is still waiting (the page is leaving the project).
 */
export function createAnnouncementQueue(say: (sentence: string) => void, intervalMs = 1000, clock: Clock = realClock) {
  let waiting: Happening[] = [];
  let lastSaid = -Infinity;
  let timer: unknown = null;

  const flush = () => {
    timer = null;
    if (!waiting.length) return;
    const batch = waiting;
    waiting = [];
    lastSaid = clock.now();
    say(summarise(batch));
  };

  return {
    push(happening: Happening) {
      waiting.push(happening);
      if (timer !== null) return;
      const wait = lastSaid + intervalMs - clock.now();
      if (wait <= 0) flush();
      else timer = clock.setTimeout(flush, wait);
    },
    stop() {
      if (timer !== null) clock.clearTimeout(timer);
      timer = null;
      waiting = [];
    },
  };
}
