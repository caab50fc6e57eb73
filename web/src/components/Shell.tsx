"use client";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useEffect, useState, type ReactNode } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { ApiError, api, unwrap } from "@/api/client";
import { ErrorState } from "@/components/States";
import { EXPIRED, listenToOtherTabs, useAuth } from "@/stores/auth";
import "@/styles/sessions.css";
import { useLive } from "@/stores/ui";

/** Asks the API who is logged in (the session cookie is invisible to scripts); one request however many mount. */
let checking: Promise<void> | null = null;
export function checkSession(): Promise<void> {
  checking ??= unwrap(api.GET("/api/auth/me/"))
    .then((user) => useAuth.getState().signedIn(user))
    .catch((error: unknown) => {
      // Only a 401 means "not logged in" (and "session_expired": a session this browser had has ended); anything
      // else (offline, a 503) is shown with a retry.
      if (!(error instanceof ApiError && error.status === 401)) throw error;
      useAuth.getState().signedOut(error.code === "session_expired" ? EXPIRED : undefined);
    })
    .finally(() => {
      checking = null;
    });
  return checking;
}

/** Renders children only with a live session; otherwise sends the user to login and back here afterwards. */
export function RequireAuth({ children }: { children: ReactNode }) {
  const status = useAuth((s) => s.status);
  const router = useRouter();
  const [failure, setFailure] = useState<unknown>(null);
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    listenToOtherTabs();
  }, []);
  useEffect(() => {
    if (status !== "unknown") return;
    checkSession().catch(setFailure);
  }, [status, attempt]);
  useEffect(() => {
    if (status !== "out") return;
    const next = window.location.pathname + window.location.search;
    router.replace(`/login/?next=${encodeURIComponent(next)}`);
  }, [status, router]);
  if (failure !== null && status === "unknown") {
    return (
      <main className="main">
        <ErrorState
          error={failure}
          retry={() => {
            setFailure(null);
            setAttempt((n) => n + 1);
          }}
        />
      </main>
    );
  }
  if (status !== "in") return <p className="main muted">Loading…</p>;
  return <>{children}</>;
}

export function LiveIndicator() {
  const state = useLive((s) => s.state);
  const reason = useLive((s) => s.reason);
  if (state === "closed") return null;
  // Refused for good (deactivated account, expired session, too many tabs): say why instead of retrying.
  const denied = reason ? `Live updates stopped: ${reason}` : "Live updates refused";
  const label = { open: "Live", connecting: "Connecting…", reconnecting: "Reconnecting…", denied, closed: "" }[state];
  return (
    <span className="small muted" data-testid="live-state" data-state={state} role={state === "denied" ? "status" : undefined}>
      <span className={`live-dot ${state}`} />
      {label}
    </span>
  );
}

export function Shell({ children, crumbs }: { children: ReactNode; crumbs?: ReactNode }) {
  const user = useAuth((s) => s.user);
  const qc = useQueryClient();
  const [leaving, setLeaving] = useState(false);
  /** Ends this browser's session (or all of the user's sessions and tokens); RequireAuth then shows the login
   * page, which brings the user back here after the next login. */
  async function logOut(everywhere: boolean) {
    setLeaving(true);
    try {
      await unwrap(everywhere ? api.POST("/api/auth/logout-everywhere/") : api.DELETE("/api/auth/session/"));
    } catch {
      // Already over (a 401) or unreachable: this tab forgets the user anyway.
    }
    qc.clear();
    useAuth.getState().loggedOut();
  }
  return (
    <RequireAuth>
      <header className="header">
        <Link href="/projects/" className="brand">
          AI Asset Manager
        </Link>
        <nav className="row small">{crumbs}</nav>
        <span className="spacer" />
        <LiveIndicator />
        <span className="session-actions">
          <span className="small muted session-name">{user?.display_name ?? ""}</span>
          <button onClick={() => logOut(false)} disabled={leaving}>
            Log out
          </button>
          <button onClick={() => logOut(true)} disabled={leaving} title="End every session and token of your account">
            Log out everywhere
          </button>
        </span>
      </header>
      <main className="main">{children}</main>
    </RequireAuth>
  );
}
