"use client";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useEffect, useId, useRef, useState, type ReactNode } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { useMe } from "@/api/hooks";
import { useApplyTheme } from "@/lib/theme";
import { useHydrated } from "@/lib/useHydrated";
import { useAuth } from "@/stores/auth";
import { usePrefs, type Theme } from "@/stores/prefs";
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
  const logout = useAuth((s) => s.logout);
  const qc = useQueryClient();
  const router = useRouter();
  const me = useMe();
  useApplyTheme();
  return (
    <RequireAuth>
      <a href="#main" className="skip-link">
        Skip to content
      </a>
      <header className="header">
        <Link href="/projects/" className="brand" aria-label="AI Asset Manager">
          <span className="brand-long">AI Asset Manager</span>
          <span className="brand-short">AAM</span>
        </Link>
        <nav className="crumbs small" aria-label="Breadcrumb">
          {crumbs}
        </nav>
        <span className="spacer" />
        <LiveIndicator />
        <HeaderTools>
          <ThemeSelect />
          <ShortcutsToggle />
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
        </HeaderTools>
      </header>
      <main id="main" className="main" tabIndex={-1}>
        {children}
      </main>
    </RequireAuth>
  );
}
