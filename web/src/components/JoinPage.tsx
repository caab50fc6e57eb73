"use client";
// An invite link (`/join/?token=…`): who invites whom to which studio with which role. Logged in: "Join", then the
// studio's projects. Logged out: log in, or create an account through the link. Used or expired: says so.
import Link from "next/link";
import { useRouter, useSearchParams } from "next/navigation";
import { Suspense, useEffect, useState } from "react";
import { closedInvite, useJoin, useJoinInfo, type JoinInfo } from "@/api/studioHooks";
import { checkSession } from "@/components/Shell";
import { ErrorState, Loading } from "@/components/States";
import { InviteOffer } from "./InviteOffer";
import { useApplyTheme } from "@/lib/theme";
import { useAuth } from "@/stores/auth";

function JoinActions({ token, info }: { token: string; info: JoinInfo }) {
  const status = useAuth((s) => s.status);
  const join = useJoin(token);
  const router = useRouter();
  const here = `/join/?token=${encodeURIComponent(token)}`;
  if (status === "unknown") return <Loading />;
  if (status === "in") {
    return (
      <div className="stack">
        <button className="primary" disabled={join.isPending} onClick={() => join.mutate(undefined, { onSuccess: () => router.push("/projects/") })}>
          Join {info.studio_name}
        </button>
        {join.error && (
          <p className="error" role="alert">
            {join.error.message} <Link href="/projects/">Go to your projects</Link>
          </p>
        )}
      </div>
    );
  }
  return (
    <div className="stack">
      <Link className="button primary" href={`/login/?next=${encodeURIComponent(here)}`}>
        Log in to join
      </Link>
      {info.registration_open ? (
        <Link className="button" href={`/register/?studio_invite=${encodeURIComponent(token)}`}>
          Create an account
        </Link>
      ) : (
        <p className="small muted">New accounts cannot be created on this server: log in with an existing one.</p>
      )}
    </div>
  );
}

function Join() {
  const token = useSearchParams().get("token")?.trim() ?? "";
  const info = useJoinInfo(token);
  const [sessionError, setSessionError] = useState<unknown>(null);
  useApplyTheme();
  useEffect(() => {
    if (useAuth.getState().status === "unknown") checkSession().catch(setSessionError);
  }, []);
  return (
    <main id="main" className="center-card panel stack" data-testid="join">
      <h1 style={{ margin: 0 }}>Join a studio</h1>
      {!token ? (
        <p className="notice">This invite link is incomplete: check that it was copied whole.</p>
      ) : info.isPending ? (
        <Loading />
      ) : info.isError ? (
        <ErrorState error={info.error} retry={() => info.refetch()} />
      ) : info.data.status !== "open" ? (
        <>
          <p className="notice" data-testid="join-closed">
            {closedInvite(info.data)}
          </p>
          <p className="small">
            <Link href="/projects/">Go to your projects</Link>
          </p>
        </>
      ) : (
        <>
          <p data-testid="join-offer">
            <InviteOffer info={info.data} />.
          </p>
          <p className="small muted">The link works once, until {new Date(info.data.expires_at).toLocaleString()}.</p>
          {sessionError ? <ErrorState error={sessionError} /> : <JoinActions token={token} info={info.data} />}
        </>
      )}
    </main>
  );
}

export function JoinPage() {
  return (
    <Suspense fallback={<p className="main muted">Loading…</p>}>
      <Join />
    </Suspense>
  );
}
