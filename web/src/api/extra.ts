// Shapes of endpoints the generated schema does not describe yet (being built in parallel) and of the
// WebSocket events. When an endpoint lands, its type comes from schema.d.ts instead.
export interface GenerateBody {
  model: string;
  prompt: string;
  params: Record<string, unknown>;
  count?: number;
  input_asset_ids?: number[];
}

export interface GenerateAccepted {
  asset_id: number;
  status: string;
}

/** `POST /generate/` answers one `{asset_id, status}` or, for several variants, a list (or `{items}`). */
export function acceptedIds(body: unknown): number[] {
  const list: unknown[] = Array.isArray(body)
    ? body
    : body && typeof body === "object" && "items" in body && Array.isArray(body.items)
      ? body.items
      : body && typeof body === "object" && "asset_ids" in body && Array.isArray(body.asset_ids)
        ? body.asset_ids.map((id: unknown) => ({ asset_id: id }))
        : [body];
  return list
    .map((item) => (item && typeof item === "object" && "asset_id" in item ? Number(item.asset_id) : NaN))
    .filter((id) => Number.isFinite(id));
}
