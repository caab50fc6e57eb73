// Server state of the shot view beyond hooks.ts: an asset's lineage for the lightbox.
"use client";
import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "./client";

export const assetKeys = {
  lineage: (assetId: number) => ["lineage", assetId] as const,
};

/** Where an asset comes from and what was made from it: `{source, inputs, derived}`. */
export function useLineage(assetId: number) {
  return useQuery({
    queryKey: assetKeys.lineage(assetId),
    queryFn: () => unwrap(api.GET("/api/assets/{asset_id}/lineage/", { params: { path: { asset_id: assetId } } })),
    enabled: assetId > 0,
    staleTime: 30_000,
  });
}
