"use client";
import { useState } from "react";
import { useCreateShareLink, useRevokeShareLink, useShareLinks } from "@/api/hooks";
import type { Schemas } from "@/api/client";

type ShareLink = Schemas["SharedLinkPublic"];
import { ErrorState } from "./States";

export function shareUrl(link: ShareLink): string {
  if (typeof window === "undefined") return `/review/${link.token}/`;
  return `${window.location.origin}/review/${link.token}/`;
}

/** `<input type=datetime-local>` value → ISO string (local time), or null for "never". */
export function expiryToIso(local: string): string | null {
  if (!local) return null;
  const date = new Date(local);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

export function SharePanel({ projectId }: { projectId: number }) {
  const links = useShareLinks(projectId);
  const create = useCreateShareLink(projectId);
  const revoke = useRevokeShareLink(projectId);
  const [expiry, setExpiry] = useState("");
  const [copied, setCopied] = useState<number | null>(null);

  async function copy(link: ShareLink) {
    const url = shareUrl(link);
    try {
      await navigator.clipboard.writeText(url);
    } catch {
      window.prompt("Copy this link", url);
    }
    setCopied(link.id);
    setTimeout(() => setCopied(null), 2000);
  }

  return (
    <section className="panel stack" aria-label="Share">
      <h2>Share with the client</h2>
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          create.mutate(expiryToIso(expiry), { onSuccess: () => setExpiry("") });
        }}
      >
        <label>
          Expires (optional)
          <input type="datetime-local" value={expiry} onChange={(e) => setExpiry(e.target.value)} />
        </label>
        <button type="submit" className="primary" disabled={create.isPending}>
          Create review link
        </button>
      </form>
      {create.error && <p className="error">{create.error.message}</p>}
      {links.isPending ? (
        <p className="muted small">Loading links…</p>
      ) : links.isError ? (
        <ErrorState error={links.error} retry={() => links.refetch()} />
      ) : links.data.items.length === 0 ? (
        <p className="muted small">No review links yet.</p>
      ) : (
        <ul className="list">
          {links.data.items.map((link) => (
            <li key={link.id} className="share-link" data-testid="share-link">
              {/* The URL wraps inside the sidebar; its actions go on their own line below it. */}
              <a className="share-url small" href={`/review/${link.token}/`} target="_blank" rel="noreferrer" data-testid="share-url">
                {shareUrl(link)}
              </a>
              <div className="row">
                <span className="small muted grow">
                  {link.is_expired
                    ? "expired"
                    : link.expires_at
                      ? `expires ${new Date(link.expires_at).toLocaleString()}`
                      : "never expires"}
                </span>
                <button onClick={() => copy(link)}>{copied === link.id ? "Copied" : "Copy"}</button>
                <button className="danger" onClick={() => revoke.mutate(link.id)} disabled={revoke.isPending}>
                  Revoke
                </button>
              </div>
            </li>
          ))}
        </ul>
      )}
      {revoke.error && <p className="error">{revoke.error.message}</p>}
    </section>
  );
}
