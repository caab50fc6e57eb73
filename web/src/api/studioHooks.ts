// Server state of studios: the caller's studios, one studio's members and invites, joining by an invite link.
"use client";
import { useMutation, useQuery, useQueryClient, type QueryClient } from "@tanstack/react-query";
import { useEffect } from "react";
import { usePrefs } from "@/stores/prefs";
import { useAuth } from "@/stores/auth";
import { activityKey } from "./activityHooks";
import { api, unwrap, type Project, type Schemas } from "./client";
import { keys } from "./hooks";

export type Studio = Schemas["StudioPublic"];
export type Member = Schemas["MemberPublic"];
export type StudioInvite = Schemas["StudioInvitePublic"];
export type JoinInfo = Schemas["JoinInfoPublic"];
type StudioRole = Schemas["StudioRole"];

export const studioKeys = {
  studios: ["studios"] as const,
  studio: (id: number) => ["studios", id] as const,
  members: (id: number) => ["members", id] as const,
  invites: (id: number) => ["invites", id] as const,
  join: (token: string) => ["join", token] as const,
};

const PAGE = { limit: 200, offset: 0 };
const studioPath = (studioId: number) => ({ path: { studio_id: studioId } });

const fetchStudios = () => unwrap(api.GET("/api/studios/", { params: { query: PAGE } }));

export function useStudios() {
  return useQuery({ queryKey: studioKeys.studios, queryFn: fetchStudios });
}

/** The caller may have lost their place in a project's studio (their socket closed with 1008): refetch the project
 * (its page then says it is gone), the project lists and the studios, and forget a chosen studio they left. */
export async function recheckMembership(qc: QueryClient, projectId: number): Promise<void> {
  void qc.invalidateQueries({ queryKey: keys.project(projectId) });
  void qc.invalidateQueries({ queryKey: keys.projects });
  void qc.invalidateQueries({ queryKey: studioKeys.studios });
  const studios = await qc.fetchQuery({ queryKey: studioKeys.studios, queryFn: fetchStudios }).catch(() => null);
  if (!studios) return; // the switcher shows the error; what is chosen stays until the list says otherwise
  const { studioId, setStudio } = usePrefs.getState();
  if (studioId !== null && !studios.items.some((s) => s.id === studioId)) setStudio(null);
}

/** The studio the person works in: the one chosen in the switcher (remembered), else their first. */
export function useCurrentStudio(): { studios: Studio[]; current: Studio | null; isPending: boolean } {
  const studios = useStudios();
  const chosen = usePrefs((s) => s.studioId);
  const items = studios.data?.items ?? [];
  const current = items.find((s) => s.id === chosen) ?? items[0] ?? null;
  return { studios: items, current, isPending: studios.isPending };
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
    queryFn: () => unwrap(api.GET("/api/studios/{studio_id}/", { params: studioPath(id) })),
    enabled: id > 0,
  });
}

export function useCreateStudio() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (name: string) => unwrap(api.POST("/api/studios/", { body: { name } })),
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
    mutationFn: (body: Schemas["StudioUpdate"]) => unwrap(api.PATCH("/api/studios/{studio_id}/", { params: studioPath(id), body })),
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
    queryFn: () => unwrap(api.GET("/api/studios/{studio_id}/members/", { params: { ...studioPath(studioId), query: PAGE } })),
    enabled: studioId > 0,
  });
}

export function useChangeRole(studioId: number) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ userId, role }: { userId: number; role: StudioRole }) =>
      unwrap(
        api.PATCH("/api/studios/{studio_id}/members/{user_id}/", {
          params: { path: { studio_id: studioId, user_id: userId } },
          body: { role },
        }),
      ),
    onSettled: () => {
      void qc.invalidateQueries({ queryKey: studioKeys.studios }); // my own role may have changed
      return qc.invalidateQueries({ queryKey: studioKeys.members(studioId) });
    },
  });
}

/** After leaving a studio, what was cached of it goes (Back must not show its members or projects). */
function forgetStudio(qc: QueryClient, studioId: number): void {
  const projectIds = qc
    .getQueriesData<Project>({ queryKey: ["project"] })
    .filter(([, project]) => project?.studio_id === studioId)
    .map(([key]) => Number(key[1]));
  for (const projectId of projectIds) {
    for (const queryKey of [keys.project(projectId), keys.boxes(projectId), keys.comments(projectId), keys.retention(projectId), activityKey(projectId)]) {
      qc.removeQueries({ queryKey });
    }
  }
  for (const queryKey of [studioKeys.studio(studioId), studioKeys.members(studioId), studioKeys.invites(studioId), keys.projects]) {
    qc.removeQueries({ queryKey });
  }
}

/** Removes a member, or (with one's own id) leaves the studio. */
export function useRemoveMember(studioId: number) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (userId: number) =>
      unwrap(api.DELETE("/api/studios/{studio_id}/members/{user_id}/", { params: { path: { studio_id: studioId, user_id: userId } } })),
    onSuccess: (_, userId) => {
      if (userId === useAuth.getState().user?.id) forgetStudio(qc, studioId);
      void qc.invalidateQueries({ queryKey: studioKeys.studios });
      void qc.invalidateQueries({ queryKey: keys.projects });
      return qc.invalidateQueries({ queryKey: studioKeys.members(studioId) });
    },
  });
}

export function useInvites(studioId: number) {
  return useQuery({
    queryKey: studioKeys.invites(studioId),
    queryFn: () => unwrap(api.GET("/api/studios/{studio_id}/invites/", { params: { ...studioPath(studioId), query: PAGE } })),
    enabled: studioId > 0,
  });
}

export function useCreateInvite(studioId: number) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: { role: StudioRole; expires_in_hours: number }) =>
      unwrap(api.POST("/api/studios/{studio_id}/invites/", { params: studioPath(studioId), body })),
    onSuccess: () => qc.invalidateQueries({ queryKey: studioKeys.invites(studioId) }),
  });
}

export function useRevokeInvite(studioId: number) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (inviteId: number) =>
      unwrap(api.DELETE("/api/studios/{studio_id}/invites/{invite_id}/", { params: { path: { studio_id: studioId, invite_id: inviteId } } })),
    onSuccess: () => qc.invalidateQueries({ queryKey: studioKeys.invites(studioId) }),
  });
}

/** The sentence of an invite link that no longer works, or null while it does. */
export function closedInvite(info: JoinInfo): string | null {
  if (info.status === "used") return "This invite link has already been used: ask the studio's owner for a new one.";
  if (info.status === "expired") return "This invite link has expired: ask the studio's owner for a new one.";
  return null;
}

export const fetchJoinInfo = (token: string) => unwrap(api.GET("/api/join/{token}/", { params: { path: { token } } }));

/** What an invite link offers; no login needed. */
export function useJoinInfo(token: string) {
  return useQuery({
    queryKey: studioKeys.join(token),
    queryFn: () => fetchJoinInfo(token),
    enabled: token !== "",
  });
}

export function useJoin(token: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: () => unwrap(api.POST("/api/join/{token}/", { params: { path: { token } } })),
    onSuccess: (studio) => {
      usePrefs.getState().setStudio(studio.id);
      void qc.invalidateQueries({ queryKey: keys.projects });
      return qc.invalidateQueries({ queryKey: studioKeys.studios });
    },
  });
}
