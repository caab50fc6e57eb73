import { act, fireEvent, screen, waitFor } from "@testing-library/react";
import { useState } from "react";
import { describe, expect, it } from "vitest";
import { activityItems, activityKey, addActivity, liveActivityKey, type Activity } from "@/api/activityHooks";
import { applyEvent } from "@/lib/useProjectLive";
import { json, stubFetch, testClient, withClient } from "@/test/render";
import { ActivityPanel, ActivityToggle } from "./ActivityPanel";

const item = (id: number, summary = `item ${id}`): Activity => ({
  id, kind: "generated", actor_name: "Eddie Editor", actor_user_id: 2, box_id: 1, asset_id: 9, details: {}, summary, created_at: "2026-11-27T10:00:00Z",
});
const page = (items: Activity[], offset: number, total: number) => ({ items, total, limit: 2, offset });
const live = (id: number) => ({ type: "activity", project_id: 5, data: item(id) as unknown as Record<string, unknown>, ts: 0 });

/** The board's header toggle and the panel, as the project page wires them. */
function Board() {
  const [open, setOpen] = useState(false);
  return (
    <>
      <ActivityToggle open={open} onToggle={() => setOpen((o) => !o)} />
      {open && <ActivityPanel projectId={5} onClose={() => setOpen(false)} />}
    </>
  );
}


describe("the activity feed's items", () => {
  it("puts an item from the socket on top of the loaded feed, once", () => {
    const qc = testClient(Infinity);
    const pages = [page([item(1)], 0, 1)];
    applyEvent(qc, live(2));
    applyEvent(qc, live(2));
    expect(activityItems({ pages, pageParams: [0] }, qc.getQueryData(liveActivityKey(5))).map((a) => a.id)).toEqual([2, 1]);
  });

  it("lists each item once when an older page repeats one that live items pushed down", () => {
    const pages = [page([item(3), item(2)], 0, 3), page([item(2), item(1)], 2, 4)];
    expect(activityItems({ pages, pageParams: [0, 2] }).map((a) => a.id)).toEqual([3, 2, 1]);
  });

  it("keeps items that arrive before the feed is loaded, newest first whatever order a resume replays them in", () => {
    const qc = testClient(Infinity);
    addActivity(qc, 5, item(4));
    addActivity(qc, 5, item(6));
    addActivity(qc, 5, item(5));
    expect(qc.getQueryData(activityKey(5))).toBeUndefined();
    expect(activityItems(undefined, qc.getQueryData(liveActivityKey(5))).map((a) => a.id)).toEqual([6, 5, 4]);
  });

  it("keeps an item that arrives while an older page is loading", async () => {
    let older!: (r: Response) => void;
    stubFetch((url) => {
      if (url.includes("offset=0")) return json(page([item(3), item(2)], 0, 3));
      if (url.includes("offset=2")) return new Promise<Response>((ok) => (older = ok));
    });
    const { qc } = withClient(<ActivityPanel projectId={5} onClose={() => {}} />);
    await screen.findByText("item 3");
    fireEvent.click(screen.getByRole("button", { name: "Load older" }));
    await waitFor(() => expect(older).toBeTypeOf("function"));
    act(() => applyEvent(qc, live(4)));
    await act(async () => older(json(page([item(1)], 2, 3))));
    await screen.findByText("item 1");
    expect(screen.getAllByTestId("activity-item").map((li) => li.textContent?.match(/item \d+/)?.[0])).toEqual(["item 4", "item 3", "item 2", "item 1"]);
  });
});

describe("the activity panel", () => {
  it("takes the focus when opened, closes on Escape and gives the focus back to the toggle", async () => {
    stubFetch(() => json(page([item(1)], 0, 1)));
    withClient(<Board />);
    const toggle = screen.getByRole("button", { name: "Activity" });
    fireEvent.click(toggle);
    expect(document.activeElement).toBe(screen.getByRole("heading", { name: "Activity" }));
    await screen.findByText("item 1");
    fireEvent.keyDown(document.activeElement!, { key: "Escape" });
    expect(screen.queryByTestId("activity-panel")).toBeNull();
    expect(document.activeElement).toBe(toggle);
  });

  it("gives the focus back to the toggle when closed with ✕", () => {
    stubFetch(() => json(page([], 0, 0)));
    withClient(<Board />);
    fireEvent.click(screen.getByRole("button", { name: "Activity" }));
    fireEvent.click(screen.getByRole("button", { name: "Close activity" }));
    expect(screen.queryByTestId("activity-panel")).toBeNull();
    expect(document.activeElement).toBe(screen.getByRole("button", { name: "Activity" }));
  });
});

describe("loading older activity", () => {
  it("puts the focus on the first item the last page brought (the button is gone)", async () => {
    stubFetch((url) => (url.includes("offset=0") ? json(page([item(3), item(2)], 0, 3)) : json(page([item(1)], 2, 3))));
    withClient(<ActivityPanel projectId={5} onClose={() => {}} />);
    await screen.findByText("item 3");
    const button = screen.getByRole("button", { name: "Load older" });
    button.focus();
    fireEvent.click(button);
    await waitFor(() => expect(document.activeElement?.textContent).toMatch(/item 1/));
    expect(screen.queryByRole("button", { name: "Load older" })).toBeNull();
  });

  it("keeps the list when an older page fails, and says why beside the button", async () => {
    stubFetch((url) => (url.includes("offset=0") ? json(page([item(3), item(2)], 0, 3)) : json({ detail: "The database is asleep." }, 503)));
    withClient(<ActivityPanel projectId={5} onClose={() => {}} />);
    await screen.findByText("item 3");
    fireEvent.click(screen.getByRole("button", { name: "Load older" }));
    expect((await screen.findByRole("alert")).textContent).toBe("The database is asleep.");
    expect(screen.getAllByTestId("activity-item")).toHaveLength(2);
    expect(screen.getByRole("button", { name: "Load older" })).toBeTruthy();
  });
});

describe("an activity line", () => {
  it("names the person once: the initials beside the summary are hidden from screen readers", async () => {
    stubFetch(() => json(page([item(1, "Eddie Editor generated an image for SH010")], 0, 1)));
    withClient(<ActivityPanel projectId={5} onClose={() => {}} />);
    await screen.findByText(/Eddie Editor generated/);
    expect(screen.queryByRole("img")).toBeNull();
    expect(screen.getByTestId("initials").getAttribute("aria-hidden")).toBe("true");
  });
});
