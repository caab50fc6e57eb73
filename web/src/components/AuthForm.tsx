"use client";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useEffect, useState, type FormEvent } from "react";
import { api, unwrap, type Schemas } from "@/api/client";
import { closedInvite, fetchJoinInfo, type JoinInfo } from "@/api/studioHooks";
import { InviteOffer } from "./InviteOffer";
import { useHydrated } from "@/lib/useHydrated";
import { useAuth } from "@/stores/auth";
import { usePrefs } from "@/stores/prefs";

/** Only same-site paths are followed after login, so a crafted `?next=` cannot send the user elsewhere. */
export function safeNext(raw: string | null): string {
  if (!raw || !raw.startsWith("/") || raw.startsWith("//") || raw.startsWith("/\\")) return "/projects/";
  return raw;
}

type RegistrationPublic = Schemas["RegistrationPublic"];

/** What the register page says instead of its form, or null when the form is shown. */
export function registrationNotice(info: RegistrationPublic, invite: string | null): string | null {
  if (info.mode === "open") return null;
  if (info.mode === "closed") return "Registration is closed on this server. Ask its administrator for an account, or log in.";
  if (!invite) return "Registration is by invitation: ask your studio's administrator for a link.";
  if (info.invite === "used") return "This invite link has already been used: ask your studio's administrator for a new one.";
  if (info.invite === "expired") return "This invite link has expired: ask your studio's administrator for a new one.";
  if (info.invite === "unknown") return "This invite link is not valid: check that it was copied whole, or ask for a new one.";
  return null;
}

/** The register page asks the API who may sign up (open, invite-only, closed) before it shows the form. */
function useRegistration(enabled: boolean) {
  const [info, setInfo] = useState<RegistrationPublic | null>(null);
  const [invite, setInvite] = useState<string | null>(null);
  useEffect(() => {
    const query = new URLSearchParams(window.location.search);
    // A studio's invite link is checked by useStudioInvite instead.
    if (!enabled || query.get("studio_invite")) return;
    const given = query.get("invite");
    setInvite(given);
    let live = true;
    unwrap(api.GET("/api/auth/registration/", { params: { query: given ? { invite: given.slice(0, 64) } : {} } }))
      .then((answer) => live && setInfo(answer))
      // Unreachable: show the form; the server still decides when it is sent.
      .catch(() => live && setInfo({ mode: "open", invite: null }));
    return () => {
      live = false;
    };
  }, [enabled]);
  return { info, invite };
}

/** A studio's invite link (`/register/?studio_invite=…`, from the join page): what it offers, or why it cannot be
 * used. Registering through it joins that studio (the API checks it again). */
function useStudioInvite(enabled: boolean) {
  const [token, setToken] = useState<string | null>(null);
  const [info, setInfo] = useState<JoinInfo | null>(null);
  const [refusal, setRefusal] = useState<string | null>(null);
  useEffect(() => {
    if (!enabled) return;
    const given = new URLSearchParams(window.location.search).get("studio_invite")?.trim();
    if (!given) return;
    setToken(given);
    let live = true;
    fetchJoinInfo(given)
      .then((answer) => {
        if (!live) return;
        setInfo(answer);
        setRefusal(
          closedInvite(answer) ??
            (answer.registration_open ? null : "Registration is closed on this server: log in with an existing account to join."),
        );
      })
      .catch((error: unknown) => live && setRefusal(error instanceof Error ? error.message : "This invite link is not valid."));
    return () => {
      live = false;
    };
  }, [enabled]);
  return { token, info, refusal, loading: token !== null && info === null && refusal === null };
}

export function AuthForm({ mode }: { mode: "login" | "register" }) {
  const router = useRouter();
  const signedIn = useAuth((s) => s.signedIn);
  // Why the user is here (session expired, logged out in another tab): known only in the browser.
  const hydrated = useHydrated();
  const notice = useAuth((s) => s.notice);
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [displayName, setDisplayName] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const studioInvite = useStudioInvite(mode === "register");
  const { info, invite } = useRegistration(mode === "register");

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (mode === "register") {
        await unwrap(
          api.POST("/api/auth/register/", {
            body: {
              email,
              password,
              display_name: displayName,
              ...(invite ? { invite } : {}),
              ...(studioInvite.token ? { studio_invite: studioInvite.token } : {}),
            },
          }),
        );
      }
      // The answer sets the HttpOnly session cookie; the page only learns who logged in.
      signedIn(await unwrap(api.POST("/api/auth/session/", { body: { email, password } })));
      // Registered through a studio's invite: the projects page opens on the studio just joined.
      if (studioInvite.info) usePrefs.getState().setStudio(studioInvite.info.studio_id);
      router.replace(safeNext(new URLSearchParams(window.location.search).get("next")));
    } catch (e) {
      setError(e instanceof Error ? e.message : "Failed");
      setBusy(false);
    }
  }

  if (mode === "register" && (studioInvite.token ? studioInvite.loading : info === null)) {
    return (
      <main className="center-card panel">
        <h1>Create an account</h1>
        <p className="small">Loading…</p>
      </main>
    );
  }
  const refusal = mode !== "register" ? null : studioInvite.token ? studioInvite.refusal : info && registrationNotice(info, invite);
  if (refusal) {
    return (
      <main className="center-card panel">
        <h1>Create an account</h1>
        <p className="notice" data-testid="registration-notice">
          {refusal}
        </p>
        <p className="small">
          Already registered? <Link href="/login/">Log in</Link>
        </p>
      </main>
    );
  }

  return (
    <main className="center-card panel">
      <h1>{mode === "login" ? "Log in" : "Create an account"}</h1>
      {studioInvite.info && (
        <p className="small" data-testid="registration-notice">
          <InviteOffer info={studioInvite.info} />: your account joins it (and gets a studio of its own).
        </p>
      )}
      {mode === "register" && !studioInvite.token && info?.mode === "invite_only" && (
        <p className="small" data-testid="registration-notice">
          You were invited: this link creates one account.
        </p>
      )}
      {hydrated && notice && mode === "login" && <p className="notice">{notice}</p>}
      <form className="stack" onSubmit={submit}>
        {mode === "register" && (
          <label>
            Name
            <input name="display_name" required maxLength={120} value={displayName} onChange={(e) => setDisplayName(e.target.value)} />
          </label>
        )}
        <label>
          Email
          <input name="email" type="email" required autoComplete="email" value={email} onChange={(e) => setEmail(e.target.value)} />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            required
            minLength={mode === "register" ? 8 : 1}
            autoComplete={mode === "register" ? "new-password" : "current-password"}
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <button className="primary" type="submit" disabled={busy}>
          {busy ? "Please wait…" : mode === "login" ? "Log in" : "Register"}
        </button>
      </form>
      <p className="small">
        {mode === "login" ? (
          <>
            No account? <Link href="/register/">Register</Link>
          </>
        ) : (
          <>
            Already registered? <Link href="/login/">Log in</Link>
          </>
        )}
      </p>
    </main>
  );
}
