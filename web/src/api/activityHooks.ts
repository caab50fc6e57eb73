// Server state of a project's activity feed: pages newest first, "Load older" adds one, and items arriving on the
// project socket (event `activity`) go on top of the first page.
"use client";
import { useInfiniteQuery, type InfiniteData, type QueryClient } from "@tanstack/react-query";
import { api, unwrap, type Schemas } from "./client";

export type Activity = Schemas["ActivityPublic"];
type ActivityPage = Schemas["Page_ActivityPublic_"];

const PAGE = 30;

export const activityKey = (projectId: number) => ["activity", projectId] as const;

export function useActivity(projectId: number) {
  return useInfiniteQuery({
    queryKey: activityKey(projectId),
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET("/api/projects/{project_id}/activity/", {
          params: { path: { project_id: projectId }, query: { limit: PAGE, offset: pageParam } },
        }),
      ),
    initialPageParam: 0,
    getNextPageParam: (last) => (last.offset + last.items.length < last.total ? last.offset + last.items.length : undefined),
    enabled: projectId > 0,
  });
}

/** Every item loaded, newest first, each once: an item that arrived live shifts the offsets, so the next page may
 * repeat the last one. */
export function activityItems(data: InfiniteData<ActivityPage> | undefined): Activity[] {
  const seen = new Set<number>();
  return (data?.pages ?? []).flatMap((page) => page.items).filter((item) => !seen.has(item.id) && seen.add(item.id));
}

/** Puts an item from the socket on top, unless the feed is not loaded (it fetches fresh when opened) or has it. */
export function addActivity(qc: QueryClient, projectId: number, item: Activity): void {
  qc.setQueryData<InfiniteData<ActivityPage>>(activityKey(projectId), (data) => {
    const first = data?.pages[0];
    if (!data || !first || activityItems(data).some((a) => a.id === item.id)) return data;
    return { ...data, pages: [{ ...first, items: [item, ...first.items], total: first.total + 1 }, ...data.pages.slice(1)] };
  });
}
