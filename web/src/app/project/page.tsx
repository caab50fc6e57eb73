"use client";
import Link from "next/link";
import { Suspense, useEffect, useRef, useState, type KeyboardEvent } from "react";
import { download } from "@/api/client";
import {
  useBoxes,
  useCreateBox,
  useDeleteBox,
  useProject,
  useProjectComments,
  useReorderBoxes,
  useUpdateBox,
  type Box,
} from "@/api/hooks";
import { useFollowStudio } from "@/api/studioHooks";
import { ActionMenu } from "@/components/ActionMenu";
import { ActivityPanel, ActivityToggle } from "@/components/ActivityPanel";
import { PasteShots } from "@/components/PasteShots";
import { RoleGate, ViewerNote } from "@/components/RoleGate";
import { SharePanel } from "@/components/SharePanel";
import { Shell } from "@/components/Shell";
import { Empty, ErrorState, Loading } from "@/components/States";
import { Thumb } from "@/components/Thumb";
import { can } from "@/lib/roles";
import { moveItem } from "@/lib/order";
import { useIdParam } from "@/lib/params";
import { useProjectLive } from "@/lib/useProjectLive";
import { useLive } from "@/stores/ui";
import "@/styles/board.css";

/** A shot's name where people read it: its code, then its title. */
const shotLabel = (box: Pick<Box, "code" | "title">) => `${box.code} · ${box.title || "Untitled shot"}`;

function ShotNameForm({ box, projectId, onDone }: { box: Box; projectId: number; onDone: () => void }) {
  const update = useUpdateBox(projectId);
  const [code, setCode] = useState(box.code);
  const [title, setTitle] = useState(box.title);
  return (
    <form
      className="shot-name-form"
      onKeyDown={(e) => {
        if (e.key === "Escape") onDone();
      }}
      onSubmit={(e) => {
        e.preventDefault();
        const changed = { ...(code.trim() !== box.code && { code: code.trim() }), ...(title !== box.title && { title }) };
        if (Object.keys(changed).length === 0) return onDone();
        update.mutate({ id: box.id, ...changed }, { onSuccess: onDone });
      }}
    >
      <input className="shot-code-input" aria-label="Shot code" value={code} onChange={(e) => setCode(e.target.value)} maxLength={20} required autoFocus />
      <input aria-label="Shot title" value={title} onChange={(e) => setTitle(e.target.value)} maxLength={200} />
      <div className="row">
        <button type="submit" className="primary" disabled={update.isPending}>
          Save
        </button>
        <button type="button" onClick={onDone}>
          Cancel
        </button>
      </div>
      {update.error && (
        <p className="error small" role="alert">
          {update.error.message}
        </p>
      )}
    </form>
  );
}

function BoxCard({
  box,
  index,
  total,
  onMove,
  dragging,
  dropTarget,
  dragHandlers,
  projectId,
  mayEditShots,
}: {
  box: Box;
  index: number;
  total: number;
  onMove: (from: number, to: number) => void;
  dragging: boolean;
  dropTarget: boolean;
  dragHandlers: Record<string, (e: React.DragEvent) => void>;
  projectId: number;
  /** Editors and owners rename, move and delete shots; a viewer only opens them. */
  mayEditShots: boolean;
}) {
  const remove = useDeleteBox(projectId);
  const [editing, setEditing] = useState(false);
  // After Save, Cancel or Escape the form is gone: the focus goes back to the shot's menu button, not to <body>.
  const card = useRef<HTMLElement>(null);
  const wasEditing = useRef(false);
  useEffect(() => {
    if (wasEditing.current && !editing) card.current?.querySelector<HTMLElement>(".menu-btn")?.focus();
    wasEditing.current = editing;
  }, [editing]);
  const comments = useLive((s) => s.comments).filter((c) => c.box_id === box.id);

  function onKey(e: KeyboardEvent) {
    if (e.target !== e.currentTarget || !mayEditShots) return;
    const back = e.key === "ArrowUp" || e.key === "ArrowLeft";
    const forward = e.key === "ArrowDown" || e.key === "ArrowRight";
    if (e.altKey && (back || forward)) {
      e.preventDefault();
      onMove(index, index + (back ? -1 : 1));
    }
  }

  return (
    <article
      ref={card}
      className={`box-card${dragging ? " dragging" : ""}${dropTarget ? " drop-target" : ""}`}
      draggable={mayEditShots && !editing}
      tabIndex={0}
      onKeyDown={onKey}
      aria-label={mayEditShots ? `${shotLabel(box)}. Alt+arrow keys to move.` : shotLabel(box)}
      data-testid="box-card"
      data-box-id={box.id}
      data-code={box.code}
      {...(mayEditShots ? dragHandlers : {})}
    >
      <Link href={`/box/?id=${box.id}`} tabIndex={-1} className="box-card-media" aria-hidden="true">
        <Thumb asset={box.headliner} />
      </Link>
      <div className="body">
        {editing ? (
          <ShotNameForm box={box} projectId={projectId} onDone={() => setEditing(false)} />
        ) : (
          <div className="box-card-head">
            <h3 className="box-card-name">
              <Link href={`/box/?id=${box.id}`} data-testid="box-link">
                <span className="shot-code" data-testid="shot-code">
                  {box.code}
                </span>{" "}
                {box.title || "Untitled shot"}
              </Link>
            </h3>
            {mayEditShots && (
              <ActionMenu
                label={`Actions for ${box.code}`}
                items={[
                  { label: "Rename", onSelect: () => setEditing(true) },
                  { label: "Move earlier", onSelect: () => onMove(index, index - 1), disabled: index === 0 },
                  { label: "Move later", onSelect: () => onMove(index, index + 1), disabled: index === total - 1 },
                  {
                    label: "Delete",
                    danger: true,
                    onSelect: () => {
                      if (window.confirm(`Delete shot ${box.code} with its assets and comments?`)) remove.mutate(box.id);
                    },
                  },
                ]}
              />
            )}
          </div>
        )}
        <div className="small muted">
          {box.asset_count} asset{box.asset_count === 1 ? "" : "s"}
          {box.headliner && <HeadlinerSet box={box} />}
          {comments.length > 0 && ` · ${comments.length} new comment${comments.length > 1 ? "s" : ""}`}
        </div>
        {remove.error && <span className="error small">{remove.error.message}</span>}
      </div>
    </article>
  );
}

/** " · headliner set", with who set it and when on hover (and for screen readers). */
function HeadlinerSet({ box }: { box: Box }) {
  const who = box.headliner_set_by_name;
  const when = box.headliner_set_at ? new Date(box.headliner_set_at).toLocaleString() : null;
  const title = who ? `Headliner set by ${who}${when ? `, ${when}` : ""}` : undefined;
  return (
    <>
      {" · "}
      <span title={title} data-testid="headliner-set">
        headliner set{who && <span className="sr-only"> by {who}</span>}
      </span>
    </>
  );
}

function CommentsFeed({ projectId, boxes }: { projectId: number; boxes: Box[] }) {
  const stored = useProjectComments(projectId);
  const live = useLive((s) => s.comments);
  const known = new Set((stored.data?.items ?? []).map((c) => String(c.id)));
  const comments = [
    ...(stored.data?.items ?? []).map((c) => ({ key: String(c.id), box_id: c.box_id, author_name: c.author_name, text: c.text })),
    ...live.filter((c) => !known.has(c.key)),
  ];
  const code = (boxId: number | null) => boxes.find((b) => b.id === boxId)?.code;
  return (
    <section className="panel stack" aria-label="Client comments">
      <h2>Comments</h2>
      {stored.isError && <ErrorState error={stored.error} retry={() => stored.refetch()} />}
      {comments.length === 0 ? (
        <p className="muted small">Comments from review links appear here as they arrive.</p>
      ) : (
        comments.map((c) => (
          <div key={c.key} className="comment" data-testid="live-comment">
            <strong>{c.author_name}</strong> <span className="small muted">on shot {code(c.box_id) ?? "?"}</span>
            <div>{c.text}</div>
          </div>
        ))
      )}
    </section>
  );
}

function ExportPanel({ projectId, name }: { projectId: number; name: string }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  async function run(scope: "headliners" | "all") {
    setBusy(true);
    setError(null);
    try {
      await download(`/api/projects/${projectId}/export/?scope=${scope}`, `${name || "storyboard"}-${scope}.docx`);
    } catch (e) {
      setError(e instanceof Error ? e.message : "Export failed");
    } finally {
      setBusy(false);
    }
  }
  return (
    <section className="panel stack" aria-label="Export">
      <h2>Export storyboard</h2>
      <div className="row">
        <button onClick={() => run("headliners")} disabled={busy}>
          .docx (headliners)
        </button>
        <button onClick={() => run("all")} disabled={busy}>
          .docx (all assets)
        </button>
      </div>
      {error && <p className="error">{error}</p>}
    </section>
  );
}

function Board() {
  const projectId = useIdParam();
  useProjectLive(projectId);
  const project = useProject(projectId);
  const boxes = useBoxes(projectId);
  const createBox = useCreateBox(projectId);
  const reorder = useReorderBoxes(projectId);
  const [title, setTitle] = useState("");
  const [dragFrom, setDragFrom] = useState<number | null>(null);
  const [dragOver, setDragOver] = useState<number | null>(null);
  const [activityOpen, setActivityOpen] = useState(false);
  const role = project.data?.role;
  const mayEditShots = can(role, "editShots");
  useFollowStudio(project.data?.studio_id);

  const items = [...(boxes.data?.items ?? [])].sort((a, b) => a.position - b.position);

  function move(from: number, to: number) {
    if (to < 0 || to >= items.length || from === to) return;
    reorder.mutate(moveItem(items, from, to).map((b) => b.id));
  }

  if (!projectId) return <ErrorState error={new Error("No project selected")} />;
  const crumbs = (
    <>
      <Link href="/projects/">Projects</Link> / <span>{project.data?.name ?? "…"}</span>
    </>
  );
  return (
    <Shell crumbs={crumbs}>
      {project.isError ? (
        <ErrorState error={project.error} retry={() => project.refetch()} />
      ) : (
        <div className="board-layout">
          <section className="panel stack board-head">
            <div className="board-title">
              <h1 style={{ margin: 0 }}>{project.data?.name ?? "…"}</h1>
              <ActivityToggle open={activityOpen} onToggle={() => setActivityOpen((o) => !o)} />
            </div>
            {mayEditShots && (
              <div className="row">
                <form
                  className="board-add"
                  onSubmit={(e) => {
                    e.preventDefault();
                    createBox.mutate(title, { onSuccess: () => setTitle("") });
                  }}
                >
                  <input aria-label="New shot title" placeholder="New shot title" value={title} onChange={(e) => setTitle(e.target.value)} maxLength={200} />
                  <button type="submit" className="primary" disabled={createBox.isPending}>
                    Add shot
                  </button>
                </form>
                <PasteShots projectId={projectId} />
              </div>
            )}
            {createBox.error && <p className="error">{createBox.error.message}</p>}
            <RoleGate
              role={role}
              action="editShots"
              otherwise={<ViewerNote studio={project.data?.studio_name ?? ""}>you can open every shot and read the comments.</ViewerNote>}
            >
              <p className="small muted">
                Drag shots to reorder, press <span className="kbd">Alt</span>+<span className="kbd">←</span>/<span className="kbd">→</span> on a
                focused one, or use its <span aria-hidden="true">⋯</span> menu. Codes stay with their shots.
              </p>
            </RoleGate>
            {reorder.error && <p className="error">{reorder.error.message}</p>}
          </section>
          <section className="board-shots" aria-label="Shots">
            {boxes.isPending ? (
              <Loading cards={4} />
            ) : boxes.isError ? (
              <ErrorState error={boxes.error} retry={() => boxes.refetch()} />
            ) : items.length === 0 ? (
              <Empty>{mayEditShots ? "No shots yet. Add the first shot of your storyboard, or paste a script or a shot list." : "No shots yet."}</Empty>
            ) : (
              <div className="board" data-testid="board">
                {items.map((box, index) => (
                  <BoxCard
                    key={box.id}
                    box={box}
                    index={index}
                    total={items.length}
                    onMove={move}
                    projectId={projectId}
                    mayEditShots={mayEditShots}
                    dragging={dragFrom === index}
                    dropTarget={dragOver === index && dragFrom !== index}
                    dragHandlers={{
                      onDragStart: (e) => {
                        e.dataTransfer.effectAllowed = "move";
                        e.dataTransfer.setData("text/plain", String(box.id));
                        setDragFrom(index);
                      },
                      onDragOver: (e) => {
                        e.preventDefault();
                        setDragOver(index);
                      },
                      onDrop: (e) => {
                        e.preventDefault();
                        if (dragFrom !== null) move(dragFrom, index);
                        setDragFrom(null);
                        setDragOver(null);
                      },
                      onDragEnd: () => {
                        setDragFrom(null);
                        setDragOver(null);
                      },
                    }}
                  />
                ))}
              </div>
            )}
          </section>
          <div className="board-side stack">
            {can(role, "share") && <SharePanel projectId={projectId} />}
            <ExportPanel projectId={projectId} name={project.data?.name ?? ""} />
            <CommentsFeed projectId={projectId} boxes={items} />
          </div>
          {activityOpen && <ActivityPanel projectId={projectId} onClose={() => setActivityOpen(false)} />}
        </div>
      )}
    </Shell>
  );
}

export default function ProjectPage() {
  return (
    <Suspense fallback={<p className="main muted">Loading…</p>}>
      <Board />
    </Suspense>
  );
}
