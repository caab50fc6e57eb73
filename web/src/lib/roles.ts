// What a studio role allows, in one place (docs/roles.md; the API decides, this only hides what it would refuse).
// Each role can do everything the one before it can: viewer ⊂ editor ⊂ owner.
import type { Schemas } from "@/api/client";

export type Role = Schemas["StudioRole"];

const RANK: Record<Role, number> = { viewer: 0, editor: 1, owner: 2 };

/** The least role each action needs. */
const NEEDS = {
  /** Read the studio's projects, shots, assets, comments, activity and members; download and export. */
  view: "viewer",
  comment: "viewer",
  /** Create and rename projects in the studio. */
  editProjects: "editor",
  /** Create, rename, reorder and delete shots (one by one or pasted). */
  editShots: "editor",
  /** Generate, animate, retry, upload, smart edit. */
  generate: "editor",
  /** Favourite and headliner. */
  curate: "editor",
  deleteAssets: "editor",
  deleteProject: "owner",
  share: "owner",
  manageMembers: "owner",
  manageStudio: "owner",
} as const satisfies Record<string, Role>;

export type Action = keyof typeof NEEDS;

/** May someone with `role` (none while it loads, or outside the studio) do `action`? */
export function can(role: Role | null | undefined, action: Action): boolean {
  return role != null && RANK[role] >= RANK[NEEDS[action]];
}

/** The roles an owner can hand out, most powerful last, with how they read. */
export const ROLES: { value: Role; label: string }[] = [
  { value: "viewer", label: "Viewer" },
  { value: "editor", label: "Editor" },
  { value: "owner", label: "Owner" },
];

export const roleLabel = (role: Role) => ROLES.find((r) => r.value === role)?.label ?? role;
