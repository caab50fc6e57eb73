"use client";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useEffect, useId, useRef, useState, type ReactNode } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { ApiError, api, unwrap } from "@/api/client";
import { ErrorState } from "@/components/States";
import { StudioSwitcher } from "@/components/StudioSwitcher";
import { useApplyTheme } from "@/lib/theme";
import { EXPIRED, listenToOtherTabs, useAuth } from "@/stores/auth";
import { useDrafts } from "@/stores/drafts";
import { usePrefs, type Theme } from "@/stores/prefs";
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

/** The colour theme: the system's, or always light, or always dark. */
export function ThemeSelect() {
  const theme = usePrefs((s) => s.theme);
  const setTheme = usePrefs((s) => s.setTheme);
  return (
    <label className="inline small">
      Theme
      <select value={theme} onChange={(e) => setTheme(e.target.value as Theme)} data-testid="theme-select">
        <option value="system">System</option>
        <option value="light">Light</option>
        <option value="dark">Dark</option>
      </select>
    </label>
  );
}

/** Single-key shortcuts can be turned off (WCAG 2.1.4); the shot view honours it. */
export function ShortcutsToggle() {
  const on = usePrefs((s) => s.shortcuts);
  const setShortcuts = usePrefs((s) => s.setShortcuts);
  return (
    <label className="inline small">
      <input type="checkbox" role="switch" aria-checked={on} checked={on} onChange={(e) => setShortcuts(e.target.checked)} />
      Keyboard shortcuts
    </label>
  );
}

/** The header's settings and account: inline on a wide screen, behind a "Menu" disclosure on a phone. */
function HeaderTools({ children }: { children: ReactNode }) {
  const [open, setOpen] = useState(false);
  const id = useId();
  const root = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!open) return;
    const close = (e: Event) => {
      if (e instanceof KeyboardEvent ? e.key === "Escape" : !root.current?.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener("keydown", close);
    document.addEventListener("pointerdown", close);
    return () => {
      document.removeEventListener("keydown", close);
      document.removeEventListener("pointerdown", close);
    };
  }, [open]);
  return (
    <div className="header-tools" ref={root}>
      <button className="header-menu-button" aria-expanded={open} aria-controls={id} onClick={() => setOpen((o) => !o)}>
        Menu
      </button>
      <div id={id} className={`header-tools-items${open ? " open" : ""}`}>
        {children}
      </div>
    </div>
  );
}

export function Shell({ children, crumbs }: { children: ReactNode; crumbs?: ReactNode }) {
  const user = useAuth((s) => s.user);
  const qc = useQueryClient();
  useApplyTheme();
  const [leaving, setLeaving] = useState(false);
  const [logoutError, setLogoutError] = useState<string | null>(null);
  /** Ends this browser's session (or all of the user's sessions and tokens); RequireAuth then shows the login
   * page, which brings the user back here after the next login. */
  async function logOut(everywhere: boolean) {
    setLeaving(true);
    setLogoutError(null);
    try {
      await unwrap(everywhere ? api.POST("/api/auth/logout-everywhere/") : api.DELETE("/api/auth/session/"));
    } catch (error) {
      // A 401: the session was over already. Anything else: the session may still be alive, so saying "logged out"
      // would leave the next person at this computer logged in as this user.
      if (!(error instanceof ApiError && error.status === 401)) {
        setLeaving(false);
        const why = error instanceof Error ? error.message : String(error);
        setLogoutError(`Could not log out. ${why.endsWith(".") ? why : `${why}.`} Try again.`);
        return;
      }
    }
    useDrafts.getState().forgetAll();
    qc.clear();
    useAuth.getState().loggedOut();
  }
  return (
    <RequireAuth>
      <a href="#main" className="skip-link">
        Skip to content
      </a>
      <header className="header">
        {/* No aria-label: the name must contain the visible text ("AAM" on a phone; WCAG 2.5.3). */}
        <Link href="/projects/" className="brand">
          <span className="brand-long">AI Asset Manager</span>
          <span className="brand-short">AAM</span>
        </Link>
        <nav className="crumbs small" aria-label="Breadcrumb">
          {crumbs}
        </nav>
        <span className="spacer" />
        <LiveIndicator />
        <HeaderTools>
          <StudioSwitcher />
          <ThemeSelect />
          <ShortcutsToggle />
        <span className="session-actions">
          <span className="small muted session-name">{user?.display_name ?? ""}</span>
          <button onClick={() => logOut(false)} disabled={leaving}>
            Log out
          </button>
          <button onClick={() => logOut(true)} disabled={leaving} title="End every session and token of your account">
            Log out everywhere
          </button>
          {logoutError && (
            <span className="small error" role="alert" data-testid="logout-error">
              {logoutError}
            </span>
          )}
        </span>
        </HeaderTools>
      </header>
      <main id="main" className="main" tabIndex={-1}>
        {children}
      </main>
    </RequireAuth>
  );
}
