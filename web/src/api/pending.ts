// TEMPORARY: the shapes of issue 15's endpoints that are not in schema.d.ts yet (studios, members, invites, joining,
// the activity feed, who did what), exactly as /work/notes/issue15-api.md fixes them. Deleted once `make web-client`
// regenerates the schema with them.
import type { Schemas } from "./client";

export type StudioRole = Schemas["StudioRole"];

export interface StudioPublic {
  id: number;
  name: string;
  role: StudioRole;
  member_count: number;
  daily_credit_budget: number | null;
  spent_today: number;
  created_at: string;
}

export interface MemberPublic {
  user_id: number;
  display_name: string;
  email: string;
  role: StudioRole;
  joined_at: string;
}

export type InviteStatus = "open" | "used" | "expired";

export interface StudioInvitePublic {
  id: number;
  token: string;
  link: string;
  role: StudioRole;
  expires_at: string;
  used_at: string | null;
  used_by_name: string | null;
  created_by_name: string | null;
  created_at: string;
  status: InviteStatus;
}

export interface JoinInfoPublic {
  studio_name: string;
  role: StudioRole;
  status: InviteStatus;
  expires_at: string;
  invited_by: string | null;
  registration_open: boolean;
}

export type ActivityKind =
  | "generated"
  | "failed"
  | "headliner"
  | "commented"
  | "link_created"
  | "link_revoked"
  | "shot_deleted"
  | "asset_deleted";

export interface ActivityPublic {
  id: number;
  kind: ActivityKind;
  actor_name: string;
  actor_user_id: number | null;
  box_id: number | null;
  asset_id: number | null;
  details: Record<string, unknown>;
  summary: string;
  created_at: string;
}

export interface PageOf<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

/** Who did what, added to existing shapes. */
export type AssetWho = Schemas["AssetPublic"] & { requested_by_name?: string | null };
export type BoxWho = Schemas["BoxPublic"] & { headliner_set_by_name?: string | null; headliner_set_at?: string | null };
