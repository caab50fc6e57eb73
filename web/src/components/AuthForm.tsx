"use client";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState, type FormEvent } from "react";
import { api, unwrap } from "@/api/client";
import { useHydrated } from "@/lib/useHydrated";
import { useAuth } from "@/stores/auth";

/** Only same-site paths are followed after login, so a crafted `?next=` cannot send the user elsewhere. */
export function safeNext(raw: string | null): string {
  if (!raw || !raw.startsWith("/") || raw.startsWith("//") || raw.startsWith("/\\")) return "/projects/";
  return raw;
}

export function AuthForm({ mode }: { mode: "login" | "register" }) {
  const router = useRouter();
  const login = useAuth((s) => s.login);
  // The notice comes from sessionStorage, which the exported HTML cannot know: show it after hydration.
  const hydrated = useHydrated();
  const notice = useAuth((s) => s.notice);
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [displayName, setDisplayName] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (mode === "register") {
        await unwrap(api.POST("/api/auth/register/", { body: { email, password, display_name: displayName } }));
      }
      const token = await unwrap(api.POST("/api/auth/login/", { body: { email, password } }));
      login(token.access_token, token.expires_in);
      router.replace(safeNext(new URLSearchParams(window.location.search).get("next")));
    } catch (e) {
      setError(e instanceof Error ? e.message : "Failed");
      setBusy(false);
    }
  }

  return (
    <main className="center-card panel">
      <h1>{mode === "login" ? "Log in" : "Create an account"}</h1>
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
