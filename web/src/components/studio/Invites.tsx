"use client";
// Member invites (owners only): a single-use link with a role and an expiry, copied and sent by the owner; the
// list says which are open, used (by whom) or expired, and an open one can be revoked.
import { useState } from "react";
import { useCreateInvite, useInvites, useRevokeInvite, type Studio, type StudioInvite } from "@/api/studioHooks";
import { ErrorState, Loading } from "@/components/States";
import { roleLabel, ROLES, type Role } from "@/lib/roles";
import { CopyLink } from "./CopyLink";

const EXPIRIES = [
  { hours: 1, label: "1 hour" },
  { hours: 24, label: "1 day" },
  { hours: 168, label: "7 days" },
  { hours: 720, label: "30 days" },
];

function inviteState(invite: StudioInvite): string {
  if (invite.status === "used") {
    const when = invite.used_at ? ` on ${new Date(invite.used_at).toLocaleDateString()}` : "";
    return `used by ${invite.used_by_name ?? "a deleted account"}${when}`;
  }
  if (invite.status === "expired") return "expired";
  return `open until ${new Date(invite.expires_at).toLocaleString()}`;
}

function InviteRow({ invite, studioId }: { invite: StudioInvite; studioId: number }) {
  const revoke = useRevokeInvite(studioId);
  // Open invites differ only by role and expiry: their buttons say which one they act on.
  const which = `the ${roleLabel(invite.role).toLowerCase()} invite ${inviteState(invite)}`;
  return (
    <li className="invite" data-testid="invite" data-status={invite.status}>
      <span className="grow">
        <strong>{roleLabel(invite.role)}</strong> <span className="small muted">{inviteState(invite)}</span>
        {invite.created_by_name && <span className="small muted"> · by {invite.created_by_name}</span>}
      </span>
      {invite.status === "open" && (
        <span className="row">
          <CopyLink link={invite.link} name={`Copy link of ${which}`} />
          <button
            type="button"
            className="danger"
            onClick={() => revoke.isPending || revoke.mutate(invite.id)}
            aria-disabled={revoke.isPending || undefined}
            aria-label={`Revoke ${which}`}
          >
            Revoke
          </button>
        </span>
      )}
      {revoke.error && (
        <p className="error small" role="alert">
          {revoke.error.message}
        </p>
      )}
    </li>
  );
}

export function Invites({ studio }: { studio: Studio }) {
  const invites = useInvites(studio.id);
  const create = useCreateInvite(studio.id);
  const [role, setRole] = useState<Role>("editor");
  const [hours, setHours] = useState(168);
  return (
    <section className="panel stack" aria-labelledby="invites-title">
      <h2 id="invites-title">Invite people</h2>
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          create.mutate({ role, expires_in_hours: hours });
        }}
      >
        <label>
          Role
          <select value={role} onChange={(e) => setRole(e.target.value as Role)}>
            {ROLES.map((r) => (
              <option key={r.value} value={r.value}>
                {r.label}
              </option>
            ))}
          </select>
        </label>
        <label>
          Expires after
          <select value={hours} onChange={(e) => setHours(Number(e.target.value))}>
            {EXPIRIES.map((x) => (
              <option key={x.hours} value={x.hours}>
                {x.label}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" className="primary invite-submit" disabled={create.isPending}>
          Create invite link
        </button>
      </form>
      {create.error && (
        <p className="error" role="alert">
          {create.error.message}
        </p>
      )}
      {create.data && (
        <div className="new-invite stack" data-testid="new-invite">
          <p className="small">
            Send this link to the person you invite as {roleLabel(create.data.role).toLowerCase()}: it works once, until{" "}
            {new Date(create.data.expires_at).toLocaleString()}.
          </p>
          <p className="share-url small" data-testid="invite-link">
            {create.data.link}
          </p>
          <div className="row">
            <CopyLink link={create.data.link} />
          </div>
        </div>
      )}
      <h3 className="small">Invites</h3>
      {invites.isPending ? (
        <Loading />
      ) : invites.isError ? (
        <ErrorState error={invites.error} retry={() => invites.refetch()} />
      ) : invites.data.items.length === 0 ? (
        <p className="small muted">No invites yet.</p>
      ) : (
        <ul className="list invites">
          {invites.data.items.map((invite) => (
            <InviteRow key={invite.id} invite={invite} studioId={studio.id} />
          ))}
        </ul>
      )}
    </section>
  );
}
