// Server state: React Query hooks over the typed client, and how live events patch the cache.
"use client";
import { useCallback } from "react";
import { useMutation, useQuery, useQueryClient, type QueryClient } from "@tanstack/react-query";
import { api, unwrap, type AIModel, type Asset, type Box, type Project } from "./client";
import { acceptedIds, type GenerateBody } from "./extra";

export interface AssetFilters {
  kind?: "image" | "video";
  status?: "PENDING" | "RUNNING" | "COMPLETED" | "FAILED";
  is_favorite?: boolean;
}

interface PageOf<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

export const keys = {
  usage: ["usage"] as const,
  projects: ["projects"] as const,
  studioProjects: (studioId: number | null) => ["projects", studioId] as const,
  project: (id: number) => ["project", id] as const,
  boxes: (projectId: number) => ["boxes", projectId] as const,
  box: (id: number) => ["box", id] as const,
  assets: (boxId: number) => ["assets", boxId] as const,
  assetList: (boxId: number, filters: AssetFilters) => ["assets", boxId, filters] as const,
  models: ["models"] as const,
  shareLinks: (projectId: number) => ["share-links", projectId] as const,
  retention: (projectId: number) => ["retention", projectId] as const,
  comments: (projectId: number) => ["comments", projectId] as const,
};

const PAGE = 200;

/** Today's spend and limits (and the Kie.ai balance for superusers); refreshed after each request and completion. */
export function useUsage() {
  return useQuery({ queryKey: keys.usage, queryFn: () => unwrap(api.GET("/api/auth/me/usage/")) });
}

/** The projects of one studio (null: of every studio the caller belongs to). */
export function useProjects(studioId: number | null, enabled = true) {
  return useQuery({
    queryKey: keys.studioProjects(studioId),
    queryFn: () =>
      unwrap(
        api.GET("/api/projects/", {
          params: { query: { limit: PAGE, offset: 0, ...(studioId !== null && { studio_id: studioId }) } },
        }),
      ),
    enabled,
  });
}

export function useProject(id: number) {
  return useQuery({
    queryKey: keys.project(id),
    queryFn: () => unwrap(api.GET("/api/projects/{project_id}/", { params: { path: { project_id: id } } })),
    enabled: id > 0,
  });
}

/** Every page of a listing (or the first `maxPages`), as one page: the board needs all its shots (reordering lists
 * every one of them); a shot view shows its newest variants and more on request. */
export async function allPages<T>(fetchPage: (offset: number) => Promise<PageOf<T>>, maxPages = Infinity): Promise<PageOf<T>> {
  const first = await fetchPage(0);
  const items = [...first.items];
  for (let pages = 1; items.length < first.total && pages < maxPages; pages++) {
    const next = await fetchPage(items.length);
    if (next.items.length === 0) break; // shots deleted meanwhile: what is there is all there is
    items.push(...next.items);
  }
  return { ...first, items, limit: items.length };
}

export function useBoxes(projectId: number) {
  return useQuery({
    queryKey: keys.boxes(projectId),
    queryFn: () =>
      allPages((offset) =>
        unwrap(
          api.GET("/api/projects/{project_id}/boxes/", {
            params: { path: { project_id: projectId }, query: { limit: PAGE, offset } },
          }),
        ),
      ),
    enabled: projectId > 0,
  });
}

export function useBox(id: number) {
  return useQuery({
    queryKey: keys.box(id),
    queryFn: () => unwrap(api.GET("/api/boxes/{box_id}/", { params: { path: { box_id: id } } })),
    enabled: id > 0,
  });
}

/** A model by its name ("Seedance 1.5 Pro", not "bytedance/seedance-1.5-pro"); the id while the catalogue loads or
 * for a retired model, "upload" for none. */
export function useModelName(): (id: string | null | undefined) => string {
  const models = useModels();
  return useCallback(
    (id: string | null | undefined) =>
      id == null ? "upload" : (models.data?.find((m) => m.provider_model_id === id)?.display_name ?? id),
    [models.data],
  );
}

/** Pages of 200 variants a shot view shows, per shot ("Show older" adds one); the query key stays the same, so the
 * cache patches of live events keep finding the list. */
const assetPages = new Map<number, number>();

export function useAssets(boxId: number, filters: AssetFilters) {
  return useQuery({
    queryKey: keys.assetList(boxId, filters),
    queryFn: () =>
      allPages(
        (offset) =>
          unwrap(
            api.GET("/api/boxes/{box_id}/assets/", {
              params: { path: { box_id: boxId }, query: { ...filters, limit: PAGE, offset } },
            }),
          ),
        assetPages.get(boxId) ?? 1,
      ),
    enabled: boxId > 0,
  });
}

/** "Show older": one more page of the shot's variants. */
export function useShowOlderAssets(boxId: number): () => Promise<void> {
  const qc = useQueryClient();
  return () => {
    assetPages.set(boxId, (assetPages.get(boxId) ?? 1) + 1);
    return qc.invalidateQueries({ queryKey: keys.assets(boxId) });
  };
}

export function useModels() {
  return useQuery({
    queryKey: keys.models,
    queryFn: () => unwrap(api.GET("/api/models/", {})),
    staleTime: 5 * 60_000,
  });
}

// --- mutations ---------------------------------------------------------------------------------------------

export function useCreateProject() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: { name: string; description?: string; studio_id?: number }) =>
      unwrap(api.POST("/api/projects/", { body: { ...body, description: body.description ?? "" } })),
    onSuccess: () => qc.invalidateQueries({ queryKey: keys.projects }),
  });
}

export function useUpdateProject() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ id, name }: { id: number; name: string }) =>
      unwrap(api.PATCH("/api/projects/{project_id}/", { params: { path: { project_id: id } }, body: { name } })),
    onSuccess: (project) => {
      qc.setQueryData(keys.project(project.id), project);
      return qc.invalidateQueries({ queryKey: keys.projects });
    },
  });
}

export function useDeleteProject() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: number) => unwrap(api.DELETE("/api/projects/{project_id}/", { params: { path: { project_id: id } } })),
    onSuccess: () => qc.invalidateQueries({ queryKey: keys.projects }),
  });
}

export function useCreateBox(projectId: number) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (title: string) =>
      unwrap(
        api.POST("/api/projects/{project_id}/boxes/", { params: { path: { project_id: projectId } }, body: { title } }),
      ),
    onSuccess: () => qc.invalidateQueries({ queryKey: keys.boxes(projectId) }),
  });
}

export function useUpdateBox(projectId: number) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ id, ...body }: { id: number; code?: string; title?: string; notes?: string; headliner_id?: number | null }) =>
      unwrap(api.PATCH("/api/boxes/{box_id}/", { params: { path: { box_id: id } }, body })),
    onSuccess: (box) => {
      qc.setQueryData(keys.box(box.id), box);
      void qc.invalidateQueries({ queryKey: keys.retention(projectId) });
      return qc.invalidateQueries({ queryKey: keys.boxes(projectId) });
    },
  });
}

export function useDeleteBox(projectId: number) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: number) => unwrap(api.DELETE("/api/boxes/{box_id}/", { params: { path: { box_id: id } } })),
    onSuccess: () => qc.invalidateQueries({ queryKey: keys.boxes(projectId) }),
  });
}

/** Reorders optimistically: the new order shows at once and is rolled back if the server refuses it. */
export function useReorderBoxes(projectId: number) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (boxIds: number[]) =>
      unwrap(
        api.POST("/api/projects/{project_id}/boxes/reorder/", {
          params: { path: { project_id: projectId } },
          body: { box_ids: boxIds },
        }),
      ),
    onMutate: async (boxIds) => {
      await qc.cancelQueries({ queryKey: keys.boxes(projectId) });
      const previous = qc.getQueryData<PageOf<Box>>(keys.boxes(projectId));
      if (previous) {
        const byId = new Map(previous.items.map((b) => [b.id, b]));
        const items = boxIds
          .map((id, index) => {
            const box = byId.get(id);
            return box ? { ...box, position: index + 1 } : null;
          })
          .filter((b): b is Box => b !== null);
        qc.setQueryData(keys.boxes(projectId), { ...previous, items });
      }
      return { previous };
    },
    onError: (_error, _ids, context) => {
      if (context?.previous) qc.setQueryData(keys.boxes(projectId), context.previous);
    },
    onSettled: () => qc.invalidateQueries({ queryKey: keys.boxes(projectId) }),
  });
}

function patchAssetEverywhere(qc: QueryClient, assetId: number, patch: (asset: Asset) => Asset | null): boolean {
  let found = false;
  for (const [key, page] of qc.getQueriesData<PageOf<Asset>>({ queryKey: ["assets"] })) {
    if (!page?.items) continue;
    let changed = false;
    const items: Asset[] = [];
    for (const asset of page.items) {
      if (asset.id === assetId) {
        found = true;
        changed = true;
        const next = patch(asset);
        if (next) items.push(next);
      } else items.push(asset);
    }
    if (changed) {
      const removed = page.items.length - items.length;
      qc.setQueryData(key, { ...page, items, total: page.total - removed });
    }
  }
  return found;
}

export function useToggleFavorite() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ id, is_favorite }: { id: number; is_favorite: boolean }) =>
      unwrap(api.PATCH("/api/assets/{asset_id}/", { params: { path: { asset_id: id } }, body: { is_favorite } })),
    onMutate: ({ id, is_favorite }) => {
      patchAssetEverywhere(qc, id, (a) => ({ ...a, is_favorite }));
    },
    onError: (_e, { id, is_favorite }) => {
      patchAssetEverywhere(qc, id, (a) => ({ ...a, is_favorite: !is_favorite }));
    },
    onSettled: (_d, _e, { id }) => {
      void qc.invalidateQueries({ queryKey: ["retention"] });
      const asset = findAsset(qc, id);
      if (asset) return qc.invalidateQueries({ queryKey: keys.assets(asset.box_id) });
    },
  });
}

export function useDeleteAsset() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (asset: Asset) => unwrap(api.DELETE("/api/assets/{asset_id}/", { params: { path: { asset_id: asset.id } } })),
    onSuccess: (_d, asset) => {
      patchAssetEverywhere(qc, asset.id, () => null);
      void qc.invalidateQueries({ queryKey: keys.box(asset.box_id) });
      void qc.invalidateQueries({ queryKey: ["boxes"] });
    },
  });
}

export function findAsset(qc: QueryClient, assetId: number): Asset | undefined {
  for (const [, page] of qc.getQueriesData<PageOf<Asset>>({ queryKey: ["assets"] })) {
    const hit = page?.items?.find((a) => a.id === assetId);
    if (hit) return hit;
  }
  return undefined;
}

let placeholderSeq = -1;

/** A card for an asset the server has not numbered yet: shown the moment the user clicks. */
export function placeholderAsset(
  boxId: number,
  body: { prompt: string; model?: string; params?: Record<string, unknown> },
  kind: "image" | "video",
  batchId: string | null = null,
): Asset {
  const now = new Date().toISOString();
  return {
    id: placeholderSeq--,
    box_id: boxId,
    batch_id: batchId,
    kind,
    status: "PENDING",
    prompt: body.prompt,
    model: body.model ?? null,
    model_id: null,
    params: body.params ?? {},
    seed: null,
    source_asset_id: null,
    input_asset_ids: [],
    is_favorite: false,
    error_message: null,
    file_url: null,
    thumbnail_url: null,
    mime_type: null,
    size_bytes: null,
    width: null,
    height: null,
    duration_seconds: null,
    cost_credits: null,
    estimated_cost_credits: null,
    created_at: now,
    updated_at: now,
  } as Asset;
}

/** Puts new cards at the top of every unfiltered (or matching) asset list of the box. */
function prependAssets(qc: QueryClient, boxId: number, assets: Asset[]): void {
  for (const [key, page] of qc.getQueriesData<PageOf<Asset>>({ queryKey: keys.assets(boxId) })) {
    const filters = (key[2] ?? {}) as AssetFilters;
    const fits = assets.filter(
      (a) =>
        (!filters.kind || filters.kind === a.kind) &&
        (!filters.status || filters.status === a.status) &&
        (filters.is_favorite === undefined || filters.is_favorite === a.is_favorite),
    );
    if (!fits.length) continue;
    const base = page ?? { items: [], total: 0, limit: PAGE, offset: 0 };
    qc.setQueryData(key, { ...base, items: [...fits, ...base.items], total: base.total + fits.length });
  }
}

function replacePlaceholders(qc: QueryClient, boxId: number, placeholders: Asset[], ids: number[]): void {
  placeholders.forEach((ph, index) => {
    const realId = ids[index];
    patchAssetEverywhere(qc, ph.id, (a) => (realId === undefined ? null : { ...a, id: realId }));
  });
  void qc.invalidateQueries({ queryKey: keys.assets(boxId) });
}

async function startJobs(
  qc: QueryClient,
  boxId: number,
  placeholders: Asset[],
  call: () => Promise<unknown>,
): Promise<number[]> {
  await qc.cancelQueries({ queryKey: keys.assets(boxId) });
  prependAssets(qc, boxId, placeholders);
  try {
    const ids = acceptedIds(await call());
    replacePlaceholders(qc, boxId, placeholders, ids);
    return ids;
  } catch (error) {
    for (const ph of placeholders) patchAssetEverywhere(qc, ph.id, () => null);
    throw error;
  }
}

export function useGenerate(boxId: number) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: GenerateBody) => {
      const count = Math.max(1, body.count ?? 1);
      const kind = body.model.includes("seedance") ? "video" : "image";
      // One request, one batch, until the server's answer brings the real batch id.
      const batch = `pending-${placeholderSeq}`;
      const placeholders = Array.from({ length: count }, () => placeholderAsset(boxId, body, kind, batch));
      return startJobs(qc, boxId, placeholders, () =>
        unwrap(api.POST("/api/boxes/{box_id}/generate/", { params: { path: { box_id: boxId } }, body })),
      );
    },
    onSettled: () => qc.invalidateQueries({ queryKey: keys.usage }),
  });
}

export function useAnimate(boxId: number) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ source, ...body }: { source: Asset; prompt: string; params: Record<string, unknown>; model?: string }) => {
      const placeholder = { ...placeholderAsset(boxId, body, "video"), source_asset_id: source.id };
      return startJobs(qc, boxId, [placeholder], () =>
        unwrap(api.POST("/api/assets/{asset_id}/animate/", { params: { path: { asset_id: source.id } }, body })),
      );
    },
    onSettled: () => qc.invalidateQueries({ queryKey: keys.usage }),
  });
}

export function useRetry() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (asset: Asset) =>
      unwrap(api.POST("/api/assets/{asset_id}/retry/", { params: { path: { asset_id: asset.id } } })),
    onMutate: (asset) => {
      patchAssetEverywhere(qc, asset.id, (a) => ({ ...a, status: "PENDING", error_message: null }));
    },
    onError: (_e, asset) => {
      patchAssetEverywhere(qc, asset.id, () => asset);
    },
    onSettled: (_d, _e, asset) => {
      void qc.invalidateQueries({ queryKey: keys.usage });
      return qc.invalidateQueries({ queryKey: keys.assets(asset.box_id) });
    },
  });
}

export function useSmartEdit() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: { prompt: string; instruction: string; box_id?: number }) =>
      unwrap(api.POST("/api/smart-edit/", { body })),
    onSettled: () => qc.invalidateQueries({ queryKey: keys.usage }),
  });
}

export function useShareLinks(projectId: number) {
  return useQuery({
    queryKey: keys.shareLinks(projectId),
    queryFn: () =>
      unwrap(
        api.GET("/api/projects/{project_id}/share-links/", {
          params: { path: { project_id: projectId }, query: { limit: PAGE, offset: 0 } },
        }),
      ),
    enabled: projectId > 0,
  });
}

export function useCreateShareLink(projectId: number) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (expiresAt: string | null) =>
      unwrap(
        api.POST("/api/projects/{project_id}/share-links/", {
          params: { path: { project_id: projectId } },
          body: expiresAt ? { expires_at: expiresAt } : {},
        }),
      ),
    onSuccess: () => qc.invalidateQueries({ queryKey: keys.shareLinks(projectId) }),
  });
}

export function useRevokeShareLink(projectId: number) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: number) => unwrap(api.DELETE("/api/share-links/{link_id}/", { params: { path: { link_id: id } } })),
    onSuccess: () => qc.invalidateQueries({ queryKey: keys.shareLinks(projectId) }),
  });
}

export function useProjectComments(projectId: number) {
  return useQuery({
    queryKey: keys.comments(projectId),
    queryFn: () =>
      unwrap(
        api.GET("/api/projects/{project_id}/comments/", {
          params: { path: { project_id: projectId }, query: { limit: PAGE, offset: 0 } },
        }),
      ),
    enabled: projectId > 0,
  });
}

/** When each asset of the project will be purged unless kept: `asset_id → ISO time`. */
export function useRetention(projectId: number) {
  return useQuery({
    queryKey: keys.retention(projectId),
    queryFn: async () => {
      const preview = await unwrap(
        api.GET("/api/projects/{project_id}/retention-preview/", {
          params: { path: { project_id: projectId }, query: { scope: "upcoming", limit: PAGE, offset: 0 } },
        }),
      );
      return new Map(preview.items.map((item) => [item.asset_id, item.purge_at] as const));
    },
    enabled: projectId > 0,
    staleTime: 60_000,
  });
}

export type { AIModel, Asset, Box, Project };
