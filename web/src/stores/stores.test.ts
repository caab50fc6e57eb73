import { afterEach, describe, expect, it, vi } from "vitest";
import type { User } from "@/api/client";
import { EXPIRED, LOGGED_OUT_ELSEWHERE, listenToOtherTabs, useAuth } from "./auth";
import { useBoxView, useLive } from "./ui";

afterEach(() => {
  useAuth.setState({ status: "unknown", user: null, notice: null });
  useBoxView.getState().reset();
  useLive.setState({ comments: [], state: "closed" });
});

describe("auth store", () => {
  const ann = { id: 1, email: "ann@example.com", display_name: "Ann", is_superuser: false, created_at: "2026-11-27T10:00:00Z" } satisfies User;

  it("holds no token: only who is logged in, unknown until the API says", () => {
    expect(useAuth.getState().status).toBe("unknown");
    useAuth.getState().signedIn(ann);
    expect(useAuth.getState()).toMatchObject({ status: "in", user: ann, notice: null });
    expect(Object.keys(useAuth.getState())).not.toContain("token");
    expect(JSON.stringify(window.sessionStorage)).toBe("{}");
    expect(window.localStorage.getItem("aam.session")).toBeNull();
  });

  it("a session that ends says why on the login page, and a login clears it", () => {
    useAuth.getState().signedIn(ann);
    useAuth.getState().signedOut(EXPIRED);
    expect(useAuth.getState()).toMatchObject({ status: "out", user: null, notice: EXPIRED });
    useAuth.getState().signedIn(ann);
    expect(useAuth.getState().notice).toBeNull();
  });

  it("logging out in one tab sends the other tabs of the browser to login", async () => {
    listenToOtherTabs();
    useAuth.getState().signedIn(ann);
    const otherTab = new BroadcastChannel("aam.auth");
    otherTab.postMessage({ type: "logout" });
    await vi.waitFor(() => expect(useAuth.getState().status).toBe("out"));
    expect(useAuth.getState().notice).toBe(LOGGED_OUT_ELSEWHERE);

    const heard: unknown[] = [];
    otherTab.onmessage = (event) => heard.push(event.data);
    useAuth.getState().signedIn(ann);
    useAuth.getState().loggedOut();
    await vi.waitFor(() => expect(heard).toEqual([{ type: "logout" }]));
    otherTab.close();
  });
});

describe("box view store", () => {
  it("moves the focus through the cards without wrapping", () => {
    const { move } = useBoxView.getState();
    move([5, 6, 7], 1);
    expect(useBoxView.getState().focusedId).toBe(5);
    move([5, 6, 7], 1);
    move([5, 6, 7], 1);
    move([5, 6, 7], 1);
    expect(useBoxView.getState().focusedId).toBe(7);
    move([5, 6, 7], -1);
    expect(useBoxView.getState().focusedId).toBe(6);
  });

  it("starts from the end when going back with nothing focused", () => {
    useBoxView.getState().move([1, 2, 3], -1);
    expect(useBoxView.getState().focusedId).toBe(3);
  });

  it("sets and clears filters and the compare selection", () => {
    const s = useBoxView.getState();
    s.setFilter("status", "FAILED");
    s.setFilter("is_favorite", true);
    expect(useBoxView.getState().filters).toEqual({ status: "FAILED", is_favorite: true });
    s.setFilter("status", undefined);
    expect(useBoxView.getState().filters).toEqual({ is_favorite: true });
    s.toggleCompare(3);
    s.toggleCompare(4);
    s.toggleCompare(3);
    expect(useBoxView.getState().compareIds).toEqual([4]);
  });
});

describe("live store", () => {
  it("adds a comment once even if the event comes twice", () => {
    const c = { key: "9", box_id: 1, asset_id: null, author_name: "Ann", text: "hi", created_at: "2026-01-01T00:00:00Z" };
    useLive.getState().addComment(c);
    useLive.getState().addComment(c);
    expect(useLive.getState().comments).toHaveLength(1);
  });
});
