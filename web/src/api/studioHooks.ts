// Server state of studios: the caller's studios, one studio's members and invites, joining by an invite link.
"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect } from "react";
import { usePrefs } from "@/stores/prefs";
import { request } from "./client";
import { keys } from "./hooks";
import type { JoinInfoPublic, MemberPublic, PageOf, StudioInvitePublic, StudioPublic, StudioRole } from "./pending";

export type Studio = StudioPublic;
export type Member = MemberPublic;
export type StudioInvite = StudioInvitePublic;
export type JoinInfo = JoinInfoPublic;

export const studioKeys = {
  studios: ["studios"] as const,
  studio: (id: number) => ["studios", id] as const,
  members: (id: number) => ["members", id] as const,
  invites: (id: number) => ["invites", id] as const,
  join: (token: string) => ["join", token] as const,
};

const PAGE = "limit=200&offset=0";

export function useStudios() {
  return useQuery({
    queryKey: studioKeys.studios,
    queryFn: () => request<PageOf<Studio>>("GET", `/api/studios/?${PAGE}`),
  });
}

/** The studio the person works in: the one chosen in the switcher (remembered), else their first. */
export function useCurrentStudio(): { studios: Studio[]; current: Studio | null; isPending: boolean; error: Error | null } {
  const studios = useStudios();
  const chosen = usePrefs((s) => s.studioId);
  const items = studios.data?.items ?? [];
  const current = items.find((s) => s.id === chosen) ?? items[0] ?? null;
  return { studios: items, current, isPending: studios.isPending, error: studios.error };
}

/** The page of one studio's project follows it: the switcher and "Projects" then show that studio. */
export function useFollowStudio(studioId: number | undefined): void {
  useEffect(() => {
    if (studioId) usePrefs.getState().setStudio(studioId);
  }, [studioId]);
}

export function useStudio(id: number) {
  return useQuery({
    queryKey: studioKeys.studio(id),
    queryFn: () => request<Studio>("GET", `/api/studios/${id}/`),
    enabled: id > 0,
  });
}

export function useCreateStudio() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (name: string) => request<Studio>("POST", "/api/studios/", { name }),
    onSuccess: (studio) => {
      usePrefs.getState().setStudio(studio.id);
      void qc.invalidateQueries({ queryKey: keys.projects });
      return qc.invalidateQueries({ queryKey: studioKeys.studios });
    },
  });
}

export function useUpdateStudio(id: number) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: { name?: string; daily_credit_budget?: number | null }) => request<Studio>("PATCH", `/api/studios/${id}/`, body),
    onSuccess: (studio) => {
      qc.setQueryData(studioKeys.studio(id), studio);
      void qc.invalidateQueries({ queryKey: keys.projects }); // they show the studio's name
      return qc.invalidateQueries({ queryKey: studioKeys.studios });
    },
  });
}

export function useMembers(studioId: number) {
  return useQuery({
    queryKey: studioKeys.members(studioId),
    queryFn: () => request<PageOf<Member>>("GET", `/api/studios/${studioId}/members/?${PAGE}`),
    enabled: studioId > 0,
  });
}

export function useChangeRole(studioId: number) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ userId, role }: { userId: number; role: StudioRole }) =>
      request<Member>("PATCH", `/api/studios/${studioId}/members/${userId}/`, { role }),
    onSettled: () => {
      void qc.invalidateQueries({ queryKey: studioKeys.studios }); // my own role may have changed
      return qc.invalidateQueries({ queryKey: studioKeys.members(studioId) });
    },
  });
}

/** Removes a member, or (with one's own id) leaves the studio. */
export function useRemoveMember(studioId: number) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (userId: number) => request<void>("DELETE", `/api/studios/${studioId}/members/${userId}/`),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: studioKeys.studios });
      void qc.invalidateQueries({ queryKey: keys.projects });
      return qc.invalidateQueries({ queryKey: studioKeys.members(studioId) });
    },
  });
}

export function useInvites(studioId: number, enabled: boolean) {
  return useQuery({
    queryKey: studioKeys.invites(studioId),
    queryFn: () => request<PageOf<StudioInvite>>("GET", `/api/studios/${studioId}/invites/?${PAGE}`),
    enabled: enabled && studioId > 0,
  });
}

export function useCreateInvite(studioId: number) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: { role: StudioRole; expires_in_hours: number }) =>
      request<StudioInvite>("POST", `/api/studios/${studioId}/invites/`, body),
    onSuccess: () => qc.invalidateQueries({ queryKey: studioKeys.invites(studioId) }),
  });
}

export function useRevokeInvite(studioId: number) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (inviteId: number) => request<void>("DELETE", `/api/studios/${studioId}/invites/${inviteId}/`),
    onSuccess: () => qc.invalidateQueries({ queryKey: studioKeys.invites(studioId) }),
  });
}

/** The sentence of an invite link that no longer works, or null while it does. */
export function closedInvite(info: JoinInfo): string | null {
  if (info.status === "used") return "This invite link has already been used: ask the studio's owner for a new one.";
  if (info.status === "expired") return "This invite link has expired: ask the studio's owner for a new one.";
  return null;
}

/** What an invite link offers; no login needed. */
export function useJoinInfo(token: string) {
  return useQuery({
    queryKey: studioKeys.join(token),
    queryFn: () => request<JoinInfo>("GET", `/api/join/${encodeURIComponent(token)}/`),
    enabled: token !== "",
  });
}

export function useJoin(token: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: () => request<Studio>("POST", `/api/join/${encodeURIComponent(token)}/`),
    onSuccess: (studio) => {
      usePrefs.getState().setStudio(studio.id);
      void qc.invalidateQueries({ queryKey: keys.projects });
      return qc.invalidateQueries({ queryKey: studioKeys.studios });
    },
  });
}
