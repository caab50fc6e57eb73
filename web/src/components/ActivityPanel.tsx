"use client";
// The board's activity feed: who did what in the project, newest first, live; a side panel beside the board (a
// bottom sheet on a phone), opened and closed from the board's header. Opening it puts the focus on its heading;
// Escape or ✕ closes it and gives the focus back to the toggle.
import { useEffect, useId, useMemo, useRef, useState, type KeyboardEvent } from "react";
import { activityItems, useActivity, useLiveActivity, type Activity } from "@/api/activityHooks";
import { relativeTime } from "@/lib/people";
import { Initials } from "./Initials";
import { ErrorState, Loading } from "./States";

const PANEL_ID = "activity-panel";

export function ActivityToggle({ open, onToggle }: { open: boolean; onToggle: () => void }) {
  return (
    <button type="button" aria-expanded={open} aria-controls={PANEL_ID} onClick={onToggle} data-testid="activity-toggle">
      Activity
    </button>
  );
}

/** Re-renders every minute, so "2 min ago" stays true. */
function useNow(): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 60_000);
    return () => clearInterval(timer);
  }, []);
  return now;
}

function ActivityLine({ item, now }: { item: Activity; now: number }) {
  return (
    <li className="activity-item" tabIndex={-1} data-testid="activity-item" data-item-id={item.id} data-kind={item.kind}>
      <Initials name={item.actor_name} decorative />
      <span className="grow">
        {item.summary}{" "}
        <time className="small muted" dateTime={item.created_at} title={new Date(item.created_at).toLocaleString()}>
          {relativeTime(item.created_at, now)}
        </time>
      </span>
    </li>
  );
}

export function ActivityPanel({ projectId, onClose }: { projectId: number; onClose: () => void }) {
  const activity = useActivity(projectId);
  const now = useNow();
  const titleId = useId();
  const live = useLiveActivity(projectId);
  const items = useMemo(() => activityItems(activity.data, live), [activity.data, live]);
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  // "Load older" may load the last page and vanish: the focus goes on to the first item it brought.
  const list = useRef<HTMLUListElement>(null);
  const lastBefore = useRef<number | null>(null);
  useEffect(() => {
    const last = lastBefore.current;
    const next = last === null ? -1 : items.findIndex((item) => item.id === last) + 1;
    if (next <= 0 || next >= items.length) return;
    lastBefore.current = null;
    list.current?.querySelector<HTMLElement>(`[data-item-id="${items[next]!.id}"]`)?.focus();
  }, [items]);
  function loadOlder() {
    lastBefore.current = items.at(-1)?.id ?? null;
    void activity.fetchNextPage();
  }
  function close() {
    onClose();
    document.querySelector<HTMLElement>(`[aria-controls="${PANEL_ID}"]`)?.focus();
  }
  // Only while the focus is inside the panel: a dialog above it handles its own Escape.
  function onKeyDown(e: KeyboardEvent) {
    if (e.key !== "Escape" || e.defaultPrevented) return;
    e.preventDefault();
    close();
  }
  return (
    <aside id={PANEL_ID} className="activity-panel panel stack" aria-labelledby={titleId} data-testid="activity-panel" onKeyDown={onKeyDown}>
      <div className="row">
        <h2 id={titleId} ref={heading} tabIndex={-1} className="grow" style={{ margin: 0 }}>
          Activity
        </h2>
        <button type="button" onClick={close} aria-label="Close activity">
          ✕
        </button>
      </div>
      {activity.isPending ? (
        <Loading />
      ) : !activity.data ? (
        <ErrorState error={activity.error} retry={() => activity.refetch()} />
      ) : items.length === 0 ? (
        <p className="small muted">Nothing has happened in this project yet: generations, headliners, comments and deletions show here.</p>
      ) : (
        <ul className="list activity-list" ref={list}>
          {items.map((item) => (
            <ActivityLine key={item.id} item={item} now={now} />
          ))}
        </ul>
      )}
      {activity.hasNextPage && (
        <button type="button" onClick={loadOlder} disabled={activity.isFetchingNextPage}>
          {activity.isFetchingNextPage ? "Loading…" : "Load older"}
        </button>
      )}
      {activity.isFetchNextPageError && (
        <p className="error small" role="alert">
          {activity.error.message}
        </p>
      )}
    </aside>
  );
}
