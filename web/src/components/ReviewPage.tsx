"use client";
import { useEffect, useMemo, useState, type FormEvent } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { ApiError, request } from "@/api/client";
import type { PublicComment, PublicProject } from "@/api/extra";
import { LiveSocket, wsUrl, type LiveState } from "@/lib/live";
import { Loading } from "./States";
import { Thumb } from "./Thumb";

const NAME_KEY = "aam.reviewer-name";

export function tokenFromPath(pathname: string): string | null {
  const match = /^\/review\/([^/]+)\/?$/.exec(pathname);
  const token = match?.[1] ? decodeURIComponent(match[1]) : null;
  return token && token !== "_" ? token : null;
}

function commentKey(c: PublicComment): string {
  return String(c.id ?? c.comment_id ?? `${c.created_at}-${c.text}`);
}

function mergeComment(list: PublicComment[], c: PublicComment): PublicComment[] {
  const key = commentKey(c);
  return list.some((x) => commentKey(x) === key) ? list : [...list, c];
}

export function ReviewPage() {
  const [token, setToken] = useState<string | null>(null);
  const [ready, setReady] = useState(false);
  useEffect(() => {
    setToken(tokenFromPath(window.location.pathname));
    setReady(true);
  }, []);
  if (!ready) return <main className="main"><Loading /></main>;
  if (!token) return <Unavailable reason="This review link is not valid." />;
  return <Review token={token} />;
}

function Unavailable({ reason }: { reason: string }) {
  return (
    <main className="center-card panel" data-testid="review-unavailable">
      <h1>Link unavailable</h1>
      <p>{reason}</p>
      <p className="muted small">Ask the person who sent it for a new review link.</p>
    </main>
  );
}

function Review({ token }: { token: string }) {
  const qc = useQueryClient();
  const queryKey = useMemo(() => ["public", token], [token]);
  const project = useQuery({
    queryKey,
    queryFn: () => request<PublicProject>("GET", `/api/public/${encodeURIComponent(token)}/`),
    retry: (count, error) => !(error instanceof ApiError && error.status < 500) && count < 3,
  });
  const [extra, setExtra] = useState<PublicComment[]>([]);
  const [live, setLive] = useState<LiveState>("connecting");
  const [gone, setGone] = useState(false);

  useEffect(() => {
    const socket = new LiveSocket({
      url: (since) => wsUrl(`/ws/public/${encodeURIComponent(token)}/`, { since }),
      onEvent: (event) => {
        if (event.type === "new_comment") {
          const d = event.data as Record<string, unknown>;
          setExtra((list) =>
            mergeComment(list, {
              id: (d.comment_id ?? d.id) as number | undefined,
              box_id: (d.box_id as number | null) ?? null,
              asset_id: (d.asset_id as number | null) ?? null,
              author_name: String(d.author_name ?? "Guest"),
              text: String(d.text ?? ""),
              created_at: String(d.created_at ?? new Date().toISOString()),
            }),
          );
        } else {
          void qc.invalidateQueries({ queryKey });
        }
      },
      onState: (s) => {
        setLive(s);
        if (s === "denied") setGone(true);
      },
      onResume: () => void qc.invalidateQueries({ queryKey }),
    });
    socket.start();
    return () => socket.stop();
  }, [token, qc, queryKey]);

  if (project.isPending) return <main className="main"><Loading label="Loading the storyboard…" /></main>;
  if (project.isError) {
    const status = project.error instanceof ApiError ? project.error.status : 0;
    if (status === 404 || status === 410 || status === 403) {
      return <Unavailable reason="This review link has expired or was revoked." />;
    }
    return (
      <main className="main">
        <p className="error" role="alert">{project.error.message}</p>
        <button onClick={() => project.refetch()}>Try again</button>
      </main>
    );
  }
  if (gone) return <Unavailable reason="This review link has expired or was revoked." />;

  const data = project.data;
  const comments = [...(data.comments ?? []), ...data.boxes.flatMap((b) => b.comments ?? [])].reduce(mergeComment, [] as PublicComment[]);
  const all = extra.reduce(mergeComment, comments);
  const boxes = [...data.boxes].sort((a, b) => a.position - b.position);
  return (
    <>
      <header className="header">
        <strong>{data.project.name}</strong>
        <span className="spacer" />
        <span className="small muted" data-testid="live-state" data-state={live}>
          <span className={`live-dot ${live}`} />
          {live === "open" ? "Live" : live === "reconnecting" ? "Reconnecting…" : ""}
        </span>
      </header>
      <main className="main stack">
        {data.project.description && <p>{data.project.description}</p>}
        {data.expires_at && <p className="small muted">This link expires {new Date(data.expires_at).toLocaleString()}.</p>}
        {boxes.length === 0 && <p className="muted">No shots yet.</p>}
        {boxes.map((box) => (
          <section key={box.id} className="panel review-shot" data-testid="review-shot" data-box-id={box.id}>
            <div className="stack">
              <h2 style={{ margin: 0 }}>
                <span className="shot-no">#{box.position}</span>
                {box.title || "Untitled shot"}
              </h2>
              <Thumb asset={box.headliner} playable />
              {(box.videos ?? []).map((v) => (
                <Thumb key={v.id} asset={v} playable />
              ))}
              {box.notes && <p className="small">{box.notes}</p>}
            </div>
            <ShotComments token={token} boxId={box.id} comments={all.filter((c) => c.box_id === box.id)} onPosted={(c) => setExtra((l) => mergeComment(l, c))} />
          </section>
        ))}
      </main>
    </>
  );
}

function ShotComments({
  token,
  boxId,
  comments,
  onPosted,
}: {
  token: string;
  boxId: number;
  comments: PublicComment[];
  onPosted: (c: PublicComment) => void;
}) {
  const [name, setName] = useState(() => (typeof window === "undefined" ? "" : (window.localStorage.getItem(NAME_KEY) ?? "")));
  const [text, setText] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      window.localStorage.setItem(NAME_KEY, name);
      const posted = await request<PublicComment>("POST", `/api/public/${encodeURIComponent(token)}/comments/`, {
        box_id: boxId,
        author_name: name,
        text,
      });
      onPosted({ ...posted, box_id: posted.box_id ?? boxId });
      setText("");
    } catch (err) {
      setError(err instanceof Error ? err.message : "Could not post the comment");
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="stack">
      <h3 style={{ margin: 0 }}>Comments</h3>
      {comments.length === 0 && <p className="muted small">No comments on this shot yet.</p>}
      {comments.map((c) => (
        <div key={commentKey(c)} className="comment" data-testid="comment">
          <strong>{c.author_name}</strong> <span className="small muted">{new Date(c.created_at).toLocaleString()}</span>
          <div>{c.text}</div>
        </div>
      ))}
      <form className="stack" onSubmit={submit}>
        <input aria-label="Your name" placeholder="Your name" value={name} onChange={(e) => setName(e.target.value)} required maxLength={120} />
        <textarea aria-label="Comment" placeholder="Your comment on this shot" value={text} onChange={(e) => setText(e.target.value)} required />
        {error && <p className="error">{error}</p>}
        <button type="submit" disabled={busy}>
          Post comment
        </button>
      </form>
    </div>
  );
}
