"use client";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useEffect, type ReactNode } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { useMe } from "@/api/hooks";
import { useHydrated } from "@/lib/useHydrated";
import { useAuth } from "@/stores/auth";
import { useLive } from "@/stores/ui";

/** Renders children only with a valid session; otherwise sends the user to login and back here afterwards. */
export function RequireAuth({ children }: { children: ReactNode }) {
  const token = useAuth((s) => s.token);
  const expiresAt = useAuth((s) => s.expiresAt);
  const router = useRouter();
  // The session lives in sessionStorage: the exported HTML (and so the hydrating render) shows "Loading…".
  const hydrated = useHydrated();
  useEffect(() => {
    if (!hydrated) return;
    if (!token) {
      const next = window.location.pathname + window.location.search;
      router.replace(`/login/?next=${encodeURIComponent(next)}`);
      return;
    }
    // Log out the moment the token expires, not at the next failing request.
    if (expiresAt) {
      const ms = expiresAt - Date.now();
      const timer = setTimeout(() => useAuth.getState().validToken(), Math.max(0, Math.min(ms, 2 ** 31 - 1)));
      return () => clearTimeout(timer);
    }
  }, [hydrated, token, expiresAt, router]);
  if (!hydrated || !token) return <p className="main muted">Loading…</p>;
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
  const logout = useAuth((s) => s.logout);
  const qc = useQueryClient();
  const router = useRouter();
  const me = useMe();
  return (
    <RequireAuth>
      <header className="header">
        <Link href="/projects/" className="brand">
          AI Asset Manager
        </Link>
        <nav className="row small">{crumbs}</nav>
        <span className="spacer" />
        <LiveIndicator />
        <span className="small muted">{me.data?.display_name ?? ""}</span>
        <button
          onClick={() => {
            logout();
            qc.clear();
            router.replace("/login/");
          }}
        >
          Log out
        </button>
      </header>
      <main className="main">{children}</main>
    </RequireAuth>
  );
}
