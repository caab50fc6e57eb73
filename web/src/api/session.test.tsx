// The SPA's side of the browser session: no Authorization header, X-AAM-CSRF on every unsafe request, a 401 ends
// the session, and RequireAuth asks /api/auth/me/ before showing anything (then login, with `next`).
import { act, cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ForgetOnSignOut, makeQueryClient } from "@/app/providers";
import { RequireAuth, Shell } from "@/components/Shell";
import { EXPIRED, LOGGED_OUT_ELSEWHERE, useAuth } from "@/stores/auth";
import { useDrafts } from "@/stores/drafts";
import { json } from "@/test/render";
import { api, request, unwrap, type User } from "./client";

const replace = vi.fn();
vi.mock("next/navigation", () => ({ useRouter: () => ({ replace }) }));

const ann = { id: 1, email: "ann@example.com", display_name: "Ann", is_superuser: false, created_at: "2026-11-27T10:00:00Z" } satisfies User;

/** Records every request; answers with `answer(request)`. */
function stubFetch(answer: (request: Request) => Response) {
  const sent: Request[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
      const req = input instanceof Request ? input : new Request(new URL(String(input), window.location.origin), init);
      sent.push(req);
      return answer(req);
    }),
  );
  return sent;
}

afterEach(() => {
  cleanup(); // unmount before the store is reset, or RequireAuth would ask again
  replace.mockReset();
  useAuth.setState({ status: "unknown", user: null, notice: null });
  window.history.pushState({}, "", "/");
});

describe("the API client", () => {
  it("sends X-AAM-CSRF on unsafe requests only, and never an Authorization header", async () => {
    const sent = stubFetch(() => json({}));
    await unwrap(api.GET("/api/projects/"));
    await unwrap(api.POST("/api/projects/", { body: { name: "A" } }));
    await unwrap(api.DELETE("/api/auth/session/"));
    await request("PATCH", "/api/boxes/1/", { title: "x" });
    await request("GET", "/api/boxes/1/");
    expect(sent.map((r) => [r.method, r.headers.get("X-AAM-CSRF")])).toEqual([
      ["GET", null],
      ["POST", "1"],
      ["DELETE", "1"],
      ["PATCH", "1"],
      ["GET", null],
    ]);
    expect(sent.every((r) => !r.headers.has("Authorization"))).toBe(true);
  });

  it("ends a live session on a 401 (the login page then says why), but not a failed login", async () => {
    stubFetch(() => json({ detail: "Your session has expired; log in again.", code: "unauthorized" }, 401));
    await expect(unwrap(api.POST("/api/auth/session/", { body: { email: "a@b.c", password: "x" } }))).rejects.toThrow();
    expect(useAuth.getState().status).toBe("unknown");
    useAuth.getState().signedIn(ann);
    await expect(request("GET", "/api/projects/")).rejects.toThrow(/expired/);
    expect(useAuth.getState()).toMatchObject({ status: "out", notice: EXPIRED });
  });
});

describe("a 403 naming the role needed", () => {
  const refusal = { detail: "This needs the editor role in Acme; you are a viewer there.", code: "forbidden", details: { needed_role: "editor", role: "viewer" } };

  it("refetches the projects and studios, whose roles decide which controls a page offers", async () => {
    const qc = makeQueryClient();
    for (const key of [["project", 1], ["projects"], ["studios"], ["boxes", 1]]) qc.setQueryData(key, {});
    stubFetch(() => json(refusal, 403));
    const generate = qc.getMutationCache().build(qc, { mutationFn: () => request("POST", "/api/generate/") });
    await expect(generate.execute(undefined)).rejects.toThrow(/editor role/);
    const invalidated = (key: unknown[]) => qc.getQueryState(key)?.isInvalidated;
    expect([["project", 1], ["projects"], ["studios"], ["boxes", 1]].map(invalidated)).toEqual([true, true, true, false]);
  });

  it("leaves them alone for any other 403", async () => {
    const qc = makeQueryClient();
    qc.setQueryData(["project", 1], {});
    stubFetch(() => json({ detail: "Only an administrator can do that.", code: "forbidden" }, 403));
    const action = qc.getMutationCache().build(qc, { mutationFn: () => unwrap(api.GET("/api/projects/")) });
    await expect(action.execute(undefined)).rejects.toThrow(/administrator/);
    expect(qc.getQueryState(["project", 1])?.isInvalidated).toBe(false);
  });
});

function guarded() {
  const qc = new QueryClient();
  return render(
    <QueryClientProvider client={qc}>
      <RequireAuth>
        <p>the project</p>
      </RequireAuth>
    </QueryClientProvider>,
  );
}

describe("RequireAuth", () => {
  it("asks the API who is logged in (the cookie is invisible here), then shows the page", async () => {
    const sent = stubFetch((r) => (r.url.endsWith("/api/auth/me/") ? json(ann) : json({}, 404)));
    guarded();
    expect(screen.getByText("Loading…")).toBeTruthy();
    await screen.findByText("the project");
    expect(sent.map((r) => new URL(r.url).pathname)).toEqual(["/api/auth/me/"]);
    expect(useAuth.getState().user).toEqual(ann);
  });

  it("sends a stranger to login with the page to come back to", async () => {
    window.history.pushState({}, "", "/project/?id=4");
    stubFetch(() => json({ detail: "Log in first.", code: "unauthorized" }, 401));
    guarded();
    await waitFor(() => expect(replace).toHaveBeenCalledWith("/login/?next=%2Fproject%2F%3Fid%3D4"));
    expect(screen.queryByText("the project")).toBeNull();
    expect(useAuth.getState().notice).toBeNull();
  });

  it("says the session expired when the browser's session has ended on the server", async () => {
    stubFetch(() => json({ detail: "Your session has ended; log in again.", code: "session_expired" }, 401));
    guarded();
    await waitFor(() => expect(replace).toHaveBeenCalled());
    expect(useAuth.getState().notice).toBe(EXPIRED);
  });

  it("leaves the page at once when the session ends (another tab logged out, a 401)", async () => {
    stubFetch(() => json(ann));
    guarded();
    await screen.findByText("the project");
    useAuth.getState().signedOut(EXPIRED);
    await waitFor(() => expect(replace).toHaveBeenCalledWith(expect.stringMatching(/^\/login\/\?next=/)));
    expect(screen.queryByText("the project")).toBeNull();
  });

  it("offers a retry when the API cannot be reached, without sending the user to login", async () => {
    stubFetch(() => json({ detail: "The database is unavailable; try again shortly.", code: "service_unavailable" }, 503));
    guarded();
    expect((await screen.findByRole("alert")).textContent).toMatch(/database is unavailable/);
    expect(replace).not.toHaveBeenCalled();
  });
});

describe("logging out", () => {
  function shell(qc: QueryClient) {
    return render(
      <QueryClientProvider client={qc}>
        <Shell>
          <p>the project</p>
        </Shell>
      </QueryClientProvider>,
    );
  }

  it("keeps the user signed in and says so when the logout request failed, then logs out and forgets", async () => {
    let logout = json({ detail: "The database is unavailable; try again shortly.", code: "service_unavailable" }, 503);
    stubFetch((r) => (r.method === "DELETE" ? logout : json(ann)));
    const qc = new QueryClient();
    qc.setQueryData(["projects"], { items: ["Ann's project"] });
    useDrafts.getState().update(7, { prompt: "Ann's unsent prompt" });
    shell(qc);
    await screen.findByText("the project");

    fireEvent.click(screen.getByRole("button", { name: "Log out" }));
    expect((await screen.findByTestId("logout-error")).textContent).toBe(
      "Could not log out. The database is unavailable; try again shortly. Try again.",
    );
    expect(useAuth.getState().status).toBe("in");
    expect(useDrafts.getState().draft(7).prompt).toBe("Ann's unsent prompt");

    logout = json(null, 204);
    fireEvent.click(screen.getByRole("button", { name: "Log out" }));
    await waitFor(() => expect(useAuth.getState().status).toBe("out"));
    expect(qc.getQueryData(["projects"])).toBeUndefined();
    expect(useDrafts.getState().draft(7).prompt).toBe("");
  });
});

describe("ForgetOnSignOut", () => {
  function watching(qc: QueryClient) {
    render(
      <QueryClientProvider client={qc}>
        <ForgetOnSignOut />
      </QueryClientProvider>,
    );
  }

  it("empties the cache when the session ends in any way, or another user logs in", () => {
    const qc = new QueryClient();
    watching(qc);
    act(() => useAuth.getState().signedIn(ann));
    qc.setQueryData(["projects"], ["Ann's project"]);
    act(() => useAuth.getState().signedOut(LOGGED_OUT_ELSEWHERE)); // another tab logged out
    expect(qc.getQueryData(["projects"])).toBeUndefined();

    act(() => useAuth.getState().signedIn(ann));
    qc.setQueryData(["projects"], ["Ann's project"]);
    act(() => useAuth.getState().signedIn({ ...ann, id: 2, email: "bob@example.com", display_name: "Bob" }));
    expect(qc.getQueryData(["projects"])).toBeUndefined();

    qc.setQueryData(["projects"], ["Bob's project"]);
    act(() => useAuth.getState().signedIn({ ...ann, id: 2, email: "bob@example.com", display_name: "Bob" }));
    expect(qc.getQueryData(["projects"])).toEqual(["Bob's project"]); // the same user again: nothing to forget
  });
});
