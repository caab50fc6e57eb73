// Server state of a project's activity feed: pages newest first, "Load older" adds one. Items arriving on the project
// socket (event `activity`) are kept in a list of their own, merged into what the pages hold when read: writing them
// into the pages would be lost to a fetch in flight (an infinite query rebuilds from the pages it started with), and
// the pages may not be loaded yet.
"use client";
import { useInfiniteQuery, useQuery, type InfiniteData, type QueryClient } from "@tanstack/react-query";
import { api, unwrap, type Schemas } from "./client";

export type Activity = Schemas["ActivityPublic"];
type ActivityPage = Schemas["Page_ActivityPublic_"];

const PAGE = 30;
/** Live items kept per project; older ones are in the pages by the time anyone scrolls that far. */
const LIVE_KEPT = 200;

export const activityKey = (projectId: number) => ["activity", projectId] as const;
export const liveActivityKey = (projectId: number) => ["activity-live", projectId] as const;

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

/** The items that arrived on the socket, newest first (only ever written by `addActivity`). */
export function useLiveActivity(projectId: number): Activity[] {
  const live = useQuery<Activity[]>({ queryKey: liveActivityKey(projectId), queryFn: () => [], enabled: false });
  return live.data ?? NONE;
}
const NONE: Activity[] = [];

/** Every item loaded or arrived live, each once, newest first (by id: the order they happened in). A live item
 * shifts the offsets, so the next page may repeat one already shown. */
export function activityItems(data: InfiniteData<ActivityPage> | undefined, live: Activity[] = []): Activity[] {
  const byId = new Map<number, Activity>();
  for (const item of [...live, ...(data?.pages ?? []).flatMap((page) => page.items)]) byId.set(item.id, item);
  return [...byId.values()].sort((a, b) => b.id - a.id);
}

/** Keeps an item from the socket, whether or not the feed is loaded or fetching. */
export function addActivity(qc: QueryClient, projectId: number, item: Activity): void {
  qc.setQueryData<Activity[]>(liveActivityKey(projectId), (live = []) =>
    live.some((a) => a.id === item.id) ? live : [item, ...live].sort((a, b) => b.id - a.id).slice(0, LIVE_KEPT),
  );
}
