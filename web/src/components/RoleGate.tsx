"use client";
// Where a page puts its editing controls: the controls once the caller's role allows them, a note for a viewer, and
// while the project (and so the role) is still loading a neutral placeholder, so nobody is told "you are a viewer"
// on the way to their own controls.
import type { ReactNode } from "react";
import { can, type Action, type Role } from "@/lib/roles";
import { Loading } from "./States";

export function RoleGate({
  role,
  action,
  children,
  otherwise,
}: {
  /** The caller's role in the project's studio; undefined while the project loads. */
  role: Role | null | undefined;
  action: Action;
  children: ReactNode;
  /** What someone whose role does not allow `action` sees instead. */
  otherwise: ReactNode;
}) {
  if (!role) return <Loading label="Loading your controls…" />;
  return <>{can(role, action) ? children : otherwise}</>;
}

/** "You are a viewer in <studio>: …", saying what a viewer can still do there. */
export function ViewerNote({ studio, className = "small muted", children }: { studio: string; className?: string; children: ReactNode }) {
  return (
    <p className={className} data-testid="read-only">
      You are a viewer in {studio}: {children}
    </p>
  );
}
