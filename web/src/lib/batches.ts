// How the shot view lays out its assets: grouped by batch (one generate request), newest batch first, the headliner
// pinned in its own strip, what changed from the batch before, and the aspect ratio each picture is drawn at.

/** What grouping needs of an asset (the API's `AssetPublic` has all of it). */
export interface Batchable {
  id: number;
  batch_id?: string | null;
  created_at: string;
  prompt: string;
  model: string | null;
  params: Record<string, unknown>;
  /** "image" or "video": a clip's motion prompt is compared with the clip before it, never with a picture's prompt. */
  kind?: string;
}

export interface ParamChange {
  name: string;
  before: unknown;
  after: unknown;
}

export interface Batch<A extends Batchable = Batchable> {
  key: string;
  /** The batch's variants in the order they were requested (the headliner left out: it has its own strip). */
  assets: A[];
  /** How many variants the request made (the headliner included). */
  count: number;
  prompt: string;
  model: string | null;
  params: Record<string, unknown>;
  /** When the request was made (its first asset's `created_at`). */
  createdAt: string;
  /** The batch of the same kind made just before this one, to show what differs; null for the oldest. */
  previous: { prompt: string; model: string | null; changedParams: ParamChange[] } | null;
}

export interface ShotLayout<A extends Batchable = Batchable> {
  headliner: A | null;
  batches: Batch<A>[];
  /** Every asset on screen in reading order (headliner, then the batches): the order ←/→ and j/k move through. */
  order: A[];
}

const time = (iso: string) => Date.parse(iso) || 0;

function byRequest(a: Batchable, b: Batchable): number {
  return time(a.created_at) - time(b.created_at) || Math.abs(a.id) - Math.abs(b.id);
}

/** Assets grouped by `batch_id`; an asset without one (a placeholder, an upload) is a batch of its own. */
export function groupBatches<A extends Batchable>(assets: readonly A[]): A[][] {
  const groups = new Map<string, A[]>();
  for (const asset of assets) {
    const key = asset.batch_id ? `batch:${asset.batch_id}` : `asset:${asset.id}`;
    const group = groups.get(key);
    if (group) group.push(asset);
    else groups.set(key, [asset]);
  }
  const newest = (group: A[]) => group.reduce((t, a) => Math.max(t, time(a.created_at)), 0);
  const highestId = (group: A[]) => group.reduce((n, a) => Math.max(n, Math.abs(a.id)), 0);
  return [...groups.values()]
    .map((group) => [...group].sort(byRequest))
    .sort((a, b) => newest(b) - newest(a) || highestId(b) - highestId(a));
}

/** The parameters whose values differ between two requests (a key only one of them has counts as a change). */
export function changedParams(before: Record<string, unknown>, after: Record<string, unknown>): ParamChange[] {
  const names = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  return names
    .filter((name) => JSON.stringify(before[name]) !== JSON.stringify(after[name]))
    .map((name) => ({ name, before: before[name], after: after[name] }));
}

export function layoutShot<A extends Batchable>(assets: readonly A[], headlinerId: number | null): ShotLayout<A> {
  const groups = groupBatches(assets);
  const headliner = assets.find((a) => a.id === headlinerId) ?? null;
  const batches = groups.map((group, index): Batch<A> => {
    const first = group[0]!;
    const older = groups.slice(index + 1).find((g) => g[0]!.kind === first.kind)?.[0];
    return {
      key: first.batch_id ? `batch:${first.batch_id}` : `asset:${first.id}`,
      assets: group.filter((a) => a !== headliner),
      count: group.length,
      prompt: first.prompt,
      model: first.model,
      params: first.params,
      createdAt: first.created_at,
      previous: older ? { prompt: older.prompt, model: older.model, changedParams: changedParams(older.params, first.params) } : null,
    };
  });
  const shown = batches.filter((b) => b.assets.length > 0);
  return { headliner, batches: shown, order: [...(headliner ? [headliner] : []), ...shown.flatMap((b) => b.assets)] };
}

/** `"16:9"` → 1.777…; anything else → null. */
export function parseRatio(value: unknown): number | null {
  const match = typeof value === "string" ? /^(\d+(?:\.\d+)?):(\d+(?:\.\d+)?)$/.exec(value.trim()) : null;
  if (!match) return null;
  const ratio = Number(match[1]) / Number(match[2]);
  return Number.isFinite(ratio) && ratio > 0 ? ratio : null;
}

/** The width/height ratio a picture is drawn at before it loads: its pixels when known, else the requested ratio. */
export function aspectOf(asset: { width: number | null; height: number | null; params: Record<string, unknown> }): number | null {
  if (asset.width && asset.height) return asset.width / asset.height;
  return parseRatio(asset.params.aspect_ratio);
}
