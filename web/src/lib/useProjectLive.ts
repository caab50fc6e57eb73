// Keeps a project's screens live: one socket per open project, events patched into the React Query cache.
"use client";
import { useQueryClient, type QueryClient } from "@tanstack/react-query";
import { useEffect } from "react";
import { activityKey, addActivity, type Activity } from "@/api/activityHooks";
import { findAsset, keys } from "@/api/hooks";
import { api, errorMessage, type Asset, type Box } from "@/api/client";
import { recheckMembership } from "@/api/studioHooks";
import { announce } from "@/components/Announcer";
import { useAuth } from "@/stores/auth";
import { useLive, type LiveComment } from "@/stores/ui";
import { createAnnouncementQueue, type Happening } from "./announcements";
import { LiveRefused, LiveSocket, wsUrl, type LiveEvent } from "./live";

interface PageOf<T> {
  items: T[];
  total: number;
}

export function commentFromEvent(data: Record<string, unknown>): LiveComment {
  const id = data.comment_id ?? data.id;
  return {
    key: id !== undefined ? String(id) : `${String(data.created_at)}-${String(data.text)}`,
    box_id: typeof data.box_id === "number" ? data.box_id : null,
    asset_id: typeof data.asset_id === "number" ? data.asset_id : null,
    author_name: String(data.author_name ?? "Guest"),
    text: String(data.text ?? ""),
    created_at: String(data.created_at ?? new Date().toISOString()),
  };
}

/** Applies one project event to the cache. Exported for the tests. */
export function applyEvent(qc: QueryClient, event: LiveEvent): void {
  const data = event.data ?? {};
  if (event.type === "asset_status_changed") {
    const assetId = Number(data.asset_id);
    const boxId = Number(data.box_id);
    const patch: Partial<Asset> = { status: data.status as Asset["status"] };
    if ("error_message" in data) patch.error_message = (data.error_message as string | null) ?? null;
    if (data.thumbnail_url) patch.thumbnail_url = data.thumbnail_url as string;
    if (data.file_url) patch.file_url = data.file_url as string;
    let found = false;
    for (const [key, page] of qc.getQueriesData<PageOf<Asset>>({ queryKey: ["assets"] })) {
      if (!page?.items?.some((a) => a.id === assetId)) continue;
      found = true;
      qc.setQueryData(key, { ...page, items: page.items.map((a) => (a.id === assetId ? { ...a, ...patch } : a)) });
    }
    const final = data.status === "COMPLETED" || data.status === "FAILED";
    if ((!found || final) && Number.isFinite(boxId)) {
      void qc.invalidateQueries({ queryKey: keys.assets(boxId) });
    }
    if (final) {
      void qc.invalidateQueries({ queryKey: keys.usage }); // a finished generation frees a slot, may settle its cost
      void qc.invalidateQueries({ queryKey: keys.boxes(event.project_id) });
      void qc.invalidateQueries({ queryKey: keys.retention(event.project_id) });
      if (Number.isFinite(boxId)) void qc.invalidateQueries({ queryKey: keys.box(boxId) });
    }
  } else if (event.type === "headliner_changed") {
    void qc.invalidateQueries({ queryKey: keys.boxes(event.project_id) });
    void qc.invalidateQueries({ queryKey: keys.retention(event.project_id) });
    const boxId = Number(data.box_id);
    if (Number.isFinite(boxId)) void qc.invalidateQueries({ queryKey: keys.box(boxId) });
  } else if (event.type === "new_comment") {
    useLive.getState().addComment(commentFromEvent(data));
    void qc.invalidateQueries({ queryKey: keys.comments(event.project_id) });
  } else if (event.type === "activity") {
    addActivity(qc, event.project_id, data as unknown as Activity);
  } else if (event.type === "snapshot") {
    // What is still pending or running now: statuses that changed while this page was not listening.
    const assets = Array.isArray(data.assets) ? (data.assets as Record<string, unknown>[]) : [];
    const projectId = Number(data.project_id);
    for (const item of assets) {
      applyEvent(qc, { type: "asset_status_changed", project_id: projectId, data: item, ts: event.ts });
    }
  }
}

/** How a shot is named aloud: its code (SH010) when the cache knows it, else its title. */
export function shotName(qc: QueryClient, projectId: number, boxId: number): string {
  const box =
    qc.getQueryData<Box>(keys.box(boxId)) ?? qc.getQueryData<PageOf<Box>>(keys.boxes(projectId))?.items.find((b) => b.id === boxId);
  const code = (box as { code?: unknown } | undefined)?.code;
  if (typeof code === "string" && code) return code;
  return box ? `shot ${box.title}` : "a shot";
}

/** What a screen reader is told about one event: finished or failed generations and clients' comments. Exported
 * for the tests. A snapshot only lists work still running, so it says nothing. */
export function happeningOf(qc: QueryClient, event: LiveEvent): Happening | null {
  const data = event.data ?? {};
  const shot = () => shotName(qc, event.project_id, Number(data.box_id));
  if (event.type === "asset_status_changed" && data.status === "COMPLETED") {
    return { kind: "completed", shot: shot(), media: data.kind === "video" ? "video" : "image" };
  }
  if (event.type === "asset_status_changed" && data.status === "FAILED") {
    return { kind: "failed", shot: shot(), reason: String(data.error_message ?? "no reason given") };
  }
  if (event.type === "new_comment" && data.via_link === true) {
    return { kind: "comment", shot: shot(), author: String(data.author_name ?? "a guest") };
  }
  return null;
}

/** The owner socket's URL for one attempt: a fresh single-use ticket (never the access token) and `since`.
 * A refused ticket request (the project is gone, the account deactivated) stops the socket with its sentence;
 * a network error or a 5xx is retried like a dropped socket. Exported for the tests. */
export async function projectSocketUrl(projectId: number, since: string | null): Promise<string | null> {
  if (useAuth.getState().status === "out") return null;
  const { data, error, response } = await api.POST("/api/auth/socket-ticket/", { body: { project_id: projectId } });
  if (data) return wsUrl(`/ws/projects/${projectId}/`, { ticket: data.ticket, since });
  if (response.status >= 400 && response.status < 500 && response.status !== 429) {
    throw new LiveRefused(errorMessage(error, response.status));
  }
  throw new Error(errorMessage(error, response.status));
}

export function useProjectLive(projectId: number): void {
  const qc = useQueryClient();
  useEffect(() => {
    if (!(projectId > 0)) return;
    const setState = useLive.getState().setState;
    const announcements = createAnnouncementQueue(announce);
    // A resumed socket may send an event again: say each one once.
    const said = new Set<string>();
    const socket = new LiveSocket({
      url: (since) => projectSocketUrl(projectId, since),
      onEvent: (event) => {
        applyEvent(qc, event);
        const happening = happeningOf(qc, event);
        if (!happening) return;
        const key = event.id ?? `${event.type}:${JSON.stringify(event.data)}:${event.ts}`;
        if (said.has(key)) return;
        said.add(key);
        announcements.push(happening);
      },
      onState: (state) => {
        setState(state, socket.denial?.reason ?? null);
        // 1008: not allowed (any more), e.g. removed from the studio: the board must not stay usable on cached data.
        if (state === "denied" && socket.denial?.code === 1008) void recheckMembership(qc, projectId);
      },
      // Events may have been missed while disconnected and `since` is best effort: refetch what is on screen.
      onResume: () => {
        void qc.invalidateQueries({ queryKey: ["assets"] });
        void qc.invalidateQueries({ queryKey: keys.boxes(projectId) });
        void qc.invalidateQueries({ queryKey: activityKey(projectId) });
      },
    });
    socket.start();
    return () => {
      socket.stop();
      announcements.stop();
    };
  }, [projectId, qc]);
}

export { findAsset };
