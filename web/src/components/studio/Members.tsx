"use client";
// A studio's members with their roles. Owners change roles and remove people; anyone leaves. The last owner's
// controls are disabled with the reason, and a 409 the API answers anyway is shown as it says it.
import { useRouter } from "next/navigation";
import { useEffect, useRef, useState } from "react";
import { useChangeRole, useMembers, useRemoveMember, type Member, type Studio } from "@/api/studioHooks";
import { ErrorState, Loading } from "@/components/States";
import { can, roleLabel, ROLES, type Role } from "@/lib/roles";
import { useAuth } from "@/stores/auth";
import { usePrefs } from "@/stores/prefs";

const LAST_OWNER_NOTE = "last-owner-note";

function MemberRow({ member, studio, me, lastOwner }: { member: Member; studio: Studio; me: boolean; lastOwner: boolean }) {
  const changeRole = useChangeRole(studio.id);
  const remove = useRemoveMember(studio.id);
  const router = useRouter();
  const manage = can(studio.role, "manageMembers");
  const locked = lastOwner ? { disabled: true, "aria-describedby": LAST_OWNER_NOTE } : {};
  // While a request runs the controls say so but keep the keyboard focus (a disabled control would drop it).
  const busy = changeRole.isPending || remove.isPending;
  const whileBusy = busy ? { "aria-disabled": true } : {};
  // The role chosen in the list; nothing is sent until "Change" (arrowing through a closed select passes every role).
  const [role, setRole] = useState<Role>(member.role);
  useEffect(() => setRole(member.role), [member.role]);
  const select = useRef<HTMLSelectElement>(null);

  function change() {
    if (busy || role === member.role) return;
    changeRole.mutate({ userId: member.user_id, role }, { onSuccess: () => select.current?.focus() });
  }

  function removeOrLeave() {
    if (busy) return;
    const question = me
      ? `Leave ${studio.name}? You will no longer see its projects.`
      : `Remove ${member.display_name} from ${studio.name}? Their open pages of this studio close at once.`;
    if (!window.confirm(question)) return;
    remove.mutate(member.user_id, {
      onSuccess: () => {
        if (!me) return;
        usePrefs.getState().setStudio(null);
        router.replace("/projects/");
      },
    });
  }

  return (
    <li className="member" data-testid="member" data-user-id={member.user_id}>
      <span className="grow member-who">
        <strong>{member.display_name}</strong>
        {me && <span className="muted"> (you)</span>}
        <span className="small muted member-email">{member.email}</span>
      </span>
      {manage ? (
        <span className="row member-role">
          <select ref={select} aria-label={`Role of ${member.display_name}`} value={role} {...whileBusy} {...locked} onChange={(e) => busy || setRole(e.target.value as Role)}>
            {ROLES.map((r) => (
              <option key={r.value} value={r.value}>
                {r.label}
              </option>
            ))}
          </select>
          {role !== member.role && (
            <button type="button" onClick={change} {...whileBusy} aria-label={`Change role of ${member.display_name} to ${roleLabel(role)}`}>
              Change
            </button>
          )}
        </span>
      ) : (
        <span className="badge" data-testid="member-role">
          {roleLabel(member.role)}
        </span>
      )}
      {me ? (
        <button type="button" className="danger" onClick={removeOrLeave} {...whileBusy} {...locked}>
          Leave studio
        </button>
      ) : (
        manage && (
          <button type="button" className="danger" onClick={removeOrLeave} {...whileBusy} {...locked} aria-label={`Remove ${member.display_name}`}>
            Remove
          </button>
        )
      )}
      {(changeRole.error ?? remove.error) && (
        <p className="error small member-error" role="alert">
          {(changeRole.error ?? remove.error)?.message}
        </p>
      )}
    </li>
  );
}

export function Members({ studio }: { studio: Studio }) {
  const members = useMembers(studio.id);
  const myId = useAuth((s) => s.user?.id);
  const items = members.data?.items ?? [];
  const owners = items.filter((m) => m.role === "owner").length;
  return (
    <section className="panel stack" aria-labelledby="members-title">
      <h2 id="members-title">Members</h2>
      {members.isPending ? (
        <Loading />
      ) : members.isError ? (
        <ErrorState error={members.error} retry={() => members.refetch()} />
      ) : (
        <>
          <ul className="list members">
            {items.map((m) => (
              <MemberRow key={m.user_id} member={m} studio={studio} me={m.user_id === myId} lastOwner={m.role === "owner" && owners === 1} />
            ))}
          </ul>
          {owners === 1 && (
            <p id={LAST_OWNER_NOTE} className="small muted">
              A studio keeps at least one owner: the last owner cannot be made an editor or viewer, removed or leave.
              Make another member an owner first.
            </p>
          )}
          {!can(studio.role, "manageMembers") && <p className="small muted">Only the studio&apos;s owners change roles and invite people.</p>}
        </>
      )}
    </section>
  );
}
