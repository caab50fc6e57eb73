"use client";
import { useEffect, useMemo, useState, type FormEvent } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { ApiError, api, unwrap, type Schemas } from "@/api/client";
import { LiveSocket, wsUrl, type LiveState } from "@/lib/live";
import { useApplyTheme } from "@/lib/theme";
import { Loading } from "./States";

type ReviewComment = Schemas["ReviewComment"];
type ReviewAsset = Schemas["ReviewAsset"];

const NAME_KEY = "aam.reviewer-name";

export function tokenFromPath(pathname: string): string | null {
  const match = /^\/review\/([^/]+)\/?$/.exec(pathname);
  const token = match?.[1] ? decodeURIComponent(match[1]) : null;
  return token && token !== "_" ? token : null;
}

export function mergeComments(list: ReviewComment[], more: ReviewComment[]): ReviewComment[] {
  const seen = new Set(list.map((c) => c.ref));
  const out = [...list];
  for (const c of more) {
    if (!seen.has(c.ref)) {
      seen.add(c.ref);
      out.push(c);
    }
  }
  return out;
}

export function ReviewPage() {
  useApplyTheme();
  const [token, setToken] = useState<string | null>(null);
  const [ready, setReady] = useState(false);
  useEffect(() => {
    setToken(tokenFromPath(window.location.pathname));
    setReady(true);
  }, []);
  if (!ready)
    return (
      <main className="main">
        <Loading />
      </main>
    );
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

const isGone = (error: unknown) =>
  error instanceof ApiError && (error.status === 404 || error.status === 410 || error.status === 403 || error.status === 422);

function Review({ token }: { token: string }) {
  const qc = useQueryClient();
  const viewKey = useMemo(() => ["public", token], [token]);
  const commentsKey = useMemo(() => ["public-comments", token], [token]);
  const noRetryOn4xx = (count: number, error: unknown) => !(error instanceof ApiError && error.status < 500) && count < 3;
  const view = useQuery({
    queryKey: viewKey,
    queryFn: () => unwrap(api.GET("/api/public/{token}/", { params: { path: { token } } })),
    retry: noRetryOn4xx,
    // Presigned URLs stop working after url_ttl_seconds: fetch fresh ones before that.
    refetchInterval: (query) => Math.max(30, (query.state.data?.url_ttl_seconds ?? 900) * 0.8) * 1000,
  });
  const stored = useQuery({
    queryKey: commentsKey,
    queryFn: () => unwrap(api.GET("/api/public/{token}/comments/", { params: { path: { token }, query: { limit: 200, offset: 0 } } })),
    retry: noRetryOn4xx,
  });
  const [extra, setExtra] = useState<ReviewComment[]>([]);
  const [live, setLive] = useState<LiveState>("connecting");
  const [gone, setGone] = useState(false);
  const [refused, setRefused] = useState<string | null>(null);

  useEffect(() => {
    const socket = new LiveSocket({
      url: (since) => wsUrl(`/ws/public/${encodeURIComponent(token)}/`, { since }),
      onEvent: (event) => {
        if (event.type === "new_comment") {
          setExtra((list) => mergeComments(list, [event.data as unknown as ReviewComment]));
        } else if (event.type === "headliner_changed") {
          void qc.invalidateQueries({ queryKey: viewKey });
        }
      },
      onState: (s) => {
        setLive(s);
        // 1008: the link was revoked or expired; any other refusal (4429: too many viewers) says its own reason.
        if (s === "denied" && socket.denial?.code === 1008) setGone(true);
        else if (s === "denied") setRefused(socket.denial?.reason ?? "Live updates were refused.");
      },
      onResume: () => {
        void qc.invalidateQueries({ queryKey: viewKey });
        void qc.invalidateQueries({ queryKey: commentsKey });
      },
    });
    socket.start();
    return () => socket.stop();
  }, [token, qc, viewKey, commentsKey]);

  if (view.isPending)
    return (
      <main className="main">
        <Loading label="Loading the storyboard…" />
      </main>
    );
  if (view.isError) {
    if (isGone(view.error)) return <Unavailable reason="This review link has expired or was revoked." />;
    return (
      <main className="main">
        <p className="error" role="alert">
          {view.error instanceof Error ? view.error.message : "Failed to load"}
        </p>
        <button onClick={() => view.refetch()}>Try again</button>
      </main>
    );
  }
  if (gone || (stored.isError && isGone(stored.error))) return <Unavailable reason="This review link has expired or was revoked." />;

  const data = view.data;
  const comments = mergeComments(stored.data?.items ?? [], extra);
  const boxes = [...data.boxes].sort((a, b) => a.position - b.position);
  return (
    <>
      <a href="#main" className="skip-link">
        Skip to content
      </a>
      <header className="header">
        <strong className="review-title">{data.name}</strong>
        <span className="spacer" />
        <span className="small muted" data-testid="live-state" data-state={live}>
          <span className={`live-dot ${live}`} />
          {live === "open" ? "Live" : live === "reconnecting" ? "Reconnecting…" : live === "denied" && refused ? `Live updates stopped: ${refused}` : ""}
        </span>
      </header>
      <main id="main" className="main stack" tabIndex={-1}>
        {data.expires_at && <p className="small muted">This link expires {new Date(data.expires_at).toLocaleString()}.</p>}
        {boxes.length === 0 && <p className="muted">No shots yet.</p>}
        {boxes.map((box) => (
          <section key={box.ref} className="panel review-shot" data-testid="review-shot">
            <div className="stack">
              <h2 style={{ margin: 0 }}>
                <span className="shot-code" data-testid="shot-code">
                  {box.code}
                </span>{" "}
                {box.title || "Untitled shot"}
              </h2>
              <ReviewMedia asset={box.headliner} poster={null} />
              {box.video && <ReviewMedia asset={box.video} poster={box.headliner} />}
            </div>
            <ShotComments
              token={token}
              boxRef={box.ref}
              comments={comments.filter((c) => c.box_ref === box.ref)}
              onPosted={(c) => setExtra((l) => mergeComments(l, [c]))}
            />
          </section>
        ))}
      </main>
    </>
  );
}

/**
 * A headliner or video as the client sees it: the full-resolution file (never the 320 px thumbnail, which would be
 * blurry at this size), drawn at most at its own pixel width so it is never upscaled, with its aspect ratio reserved
 * by `width`/`height` before it loads. The thumbnail only shows through as a quick preview while the file loads.
 */
export function ReviewMedia({ asset, poster }: { asset: ReviewAsset | null; poster: ReviewAsset | null }) {
  if (!asset) return <div className="review-empty muted small">No image selected yet</div>;
  const size = { width: asset.width ?? undefined, height: asset.height ?? undefined };
  const preview = asset.thumbnail_url ? { backgroundImage: `url("${asset.thumbnail_url}")` } : undefined;
  if (asset.kind === "video") {
    if (!asset.file_url) return <div className="review-empty muted small">Video unavailable</div>;
    // The video starts from the image it animates: show that image, sharp, until it plays.
    const still = poster?.kind === "image" && poster.file_url ? poster.file_url : (asset.thumbnail_url ?? undefined);
    return (
      <video className="review-media" src={asset.file_url} poster={still} controls muted loop playsInline preload="metadata" data-testid="video" {...size} />
    );
  }
  const src = asset.file_url ?? asset.thumbnail_url;
  if (!src) return <div className="review-empty muted small">No preview</div>;
  return (
    // eslint-disable-next-line @next/next/no-img-element -- static export: plain presigned URLs
    <img className="review-media" src={src} alt={asset.prompt.slice(0, 120)} loading="lazy" decoding="async" style={preview} {...size} />
  );
}

function ShotComments({
  token,
  boxRef,
  comments,
  onPosted,
}: {
  token: string;
  boxRef: string;
  comments: ReviewComment[];
  onPosted: (c: ReviewComment) => void;
}) {
  const [name, setName] = useState("");
  const [text, setText] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => setName(window.localStorage.getItem(NAME_KEY) ?? ""), []);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      window.localStorage.setItem(NAME_KEY, name);
      const posted = await unwrap(
        api.POST("/api/public/{token}/comments/", { params: { path: { token } }, body: { author_name: name, text, box_ref: boxRef } }),
      );
      onPosted(posted);
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
        <div key={c.ref} className="comment" data-testid="comment">
          <strong>{c.author_name}</strong>
          {c.from_studio && <span className="badge">studio</span>}{" "}
          <span className="small muted">{new Date(c.created_at).toLocaleString()}</span>
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
