import { afterEach, describe, expect, it, vi } from "vitest";
import { useAuth } from "./auth";
import { useBoxView, useLive } from "./ui";

afterEach(() => {
  vi.useRealTimers();
  useAuth.getState().logout();
  useBoxView.getState().reset();
  useLive.setState({ comments: [], state: "closed" });
});

describe("auth store", () => {
  it("keeps the token in sessionStorage with its expiry", () => {
    useAuth.getState().login("tok", 3600);
    expect(useAuth.getState().validToken()).toBe("tok");
    const stored = JSON.parse(window.sessionStorage.getItem("aam.session") ?? "{}");
    expect(stored.token).toBe("tok");
    expect(window.localStorage.getItem("aam.session")).toBeNull();
  });

  it("forgets an expired token and says why", () => {
    vi.useFakeTimers();
    useAuth.getState().login("tok", 60);
    vi.advanceTimersByTime(61_000);
    expect(useAuth.getState().validToken()).toBeNull();
    expect(useAuth.getState().token).toBeNull();
    expect(useAuth.getState().notice).toMatch(/expired/);
    expect(window.sessionStorage.getItem("aam.session")).toBeNull();
  });

  it("logout clears everything", () => {
    useAuth.getState().login("tok", 3600);
    useAuth.getState().logout();
    expect(useAuth.getState().validToken()).toBeNull();
    expect(window.sessionStorage.getItem("aam.session")).toBeNull();
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

describe("auth notice", () => {
  it("is kept in sessionStorage so it survives the redirect to login, and cleared by a login", () => {
    useAuth.getState().logout("Your session has expired. Please log in again.");
    expect(window.sessionStorage.getItem("aam.notice")).toMatch(/expired/);
    useAuth.getState().login("tok", 60);
    expect(window.sessionStorage.getItem("aam.notice")).toBeNull();
    expect(useAuth.getState().notice).toBeNull();
  });
});
