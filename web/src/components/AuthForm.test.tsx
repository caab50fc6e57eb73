import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { useAuth } from "@/stores/auth";
import { usePrefs } from "@/stores/prefs";
import { json } from "@/test/render";
import { AuthForm, registrationNotice } from "./AuthForm";

const replace = vi.fn();
vi.mock("next/navigation", () => ({ useRouter: () => ({ replace }) }));

type Answer = { status: number; body: unknown };
const ann = { id: 1, email: "ann@example.com", display_name: "Ann", is_superuser: false, created_at: "2026-11-27T10:00:00Z" };

/** The API as the page sees it: the registration mode, then register and login. Returns the requests made. */
function stubApi(registration: unknown, register: Answer = { status: 201, body: { id: 1 } }) {
  const calls: { url: string; body: unknown }[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (input: RequestInfo | URL) => {
      const request = input instanceof Request ? input : new Request(String(input));
      const body = request.method === "POST" ? await request.clone().json() : null;
      calls.push({ url: request.url, body });
      if (request.url.includes("/api/auth/registration/")) return json(registration);
      if (request.url.includes("/api/auth/register/")) return json(register.body, register.status);
      if (request.url.includes("/api/auth/session/")) return json(ann);
      return json({ detail: "Not found.", code: "not_found" }, 404);
    }),
  );
  return calls;
}

function fillAndSubmit() {
  fireEvent.change(screen.getByLabelText("Name"), { target: { value: "Ann" } });
  fireEvent.change(screen.getByLabelText("Email"), { target: { value: "ann@example.com" } });
  fireEvent.change(screen.getByLabelText("Password"), { target: { value: "correct horse battery" } });
  fireEvent.click(screen.getByRole("button", { name: "Register" }));
}

afterEach(() => {
  replace.mockReset();
  window.history.pushState({}, "", "/");
});

describe("the register page follows the registration mode", () => {
  it("shows the form when registration is open", async () => {
    window.history.pushState({}, "", "/register/");
    const calls = stubApi({ mode: "open", invite: null });
    render(<AuthForm mode="register" />);
    await screen.findByRole("button", { name: "Register" });
    fillAndSubmit();
    await waitFor(() => expect(replace).toHaveBeenCalledWith("/projects/"));
    const sent = calls.find((c) => c.url.endsWith("/api/auth/register/"));
    expect(sent?.body).toEqual({ email: "ann@example.com", password: "correct horse battery", display_name: "Ann" });
  });

  it("explains invitations and shows no form without an invite", async () => {
    window.history.pushState({}, "", "/register/");
    stubApi({ mode: "invite_only", invite: null });
    render(<AuthForm mode="register" />);
    const notice = await screen.findByTestId("registration-notice");
    expect(notice.textContent).toBe("Registration is by invitation: ask your studio's administrator for a link.");
    expect(screen.queryByRole("button", { name: "Register" })).toBeNull();
    expect(screen.getByRole("link", { name: "Log in" }).getAttribute("href")).toMatch(/^\/login\/?$/);
  });

  it("shows the form with a valid invite and sends the invite with the registration", async () => {
    const token = crypto.randomUUID(); // a made-up invite for this test (the API is stubbed)
    window.history.pushState({}, "", `/register/?invite=${token}`);
    const calls = stubApi({ mode: "invite_only", invite: "valid" });
    render(<AuthForm mode="register" />);
    await screen.findByRole("button", { name: "Register" });
    expect(calls[0]?.url).toContain(`/api/auth/registration/?invite=${token}`);
    fillAndSubmit();
    await waitFor(() => expect(replace).toHaveBeenCalled());
    const sent = calls.find((c) => c.url.endsWith("/api/auth/register/"));
    expect(sent?.body).toMatchObject({ email: "ann@example.com", invite: token });
  });

  it("says why a used invite cannot be used, and shows the API's sentence if it refuses anyway", async () => {
    window.history.pushState({}, "", "/register/?invite=abc");
    stubApi({ mode: "invite_only", invite: "used" });
    render(<AuthForm mode="register" />);
    expect((await screen.findByTestId("registration-notice")).textContent).toMatch(/already been used/);

    window.history.pushState({}, "", "/register/?invite=abc");
    stubApi(
      { mode: "invite_only", invite: "valid" },
      { status: 410, body: { detail: "This invite link has expired: ask your studio's administrator for a new one.", code: "gone" } },
    );
    render(<AuthForm mode="register" />);
    await screen.findByRole("button", { name: "Register" });
    fillAndSubmit();
    expect((await screen.findByRole("alert")).textContent).toMatch(/invite link has expired/);
    expect(replace).not.toHaveBeenCalled();
  });

  it("explains a closed registration and offers login", async () => {
    window.history.pushState({}, "", "/register/");
    stubApi({ mode: "closed", invite: null });
    render(<AuthForm mode="register" />);
    expect((await screen.findByTestId("registration-notice")).textContent).toMatch(/Registration is closed/);
    expect(screen.queryByLabelText("Password")).toBeNull();
    expect(screen.getByRole("link", { name: "Log in" })).toBeTruthy();
  });

  it("words every state", () => {
    expect(registrationNotice({ mode: "open", invite: null }, null)).toBeNull();
    expect(registrationNotice({ mode: "invite_only", invite: "valid" }, "x")).toBeNull();
    expect(registrationNotice({ mode: "invite_only", invite: "expired" }, "x")).toMatch(/expired/);
    expect(registrationNotice({ mode: "invite_only", invite: "unknown" }, "x")).toMatch(/not valid/);
  });
});

describe("the login page", () => {
  it("logs in with a browser session (no token in the page) and follows a same-site next", async () => {
    window.history.pushState({}, "", "/login/?next=%2Fproject%2F%3Fid%3D4");
    const calls = stubApi({ mode: "open", invite: null });
    render(<AuthForm mode="login" />);
    fireEvent.change(screen.getByLabelText("Email"), { target: { value: "ann@example.com" } });
    fireEvent.change(screen.getByLabelText("Password"), { target: { value: "correct horse battery" } });
    fireEvent.click(screen.getByRole("button", { name: "Log in" }));
    await waitFor(() => expect(replace).toHaveBeenCalledWith("/project/?id=4"));
    expect(calls.map((c) => new URL(c.url).pathname)).toEqual(["/api/auth/session/"]);
    expect(useAuth.getState()).toMatchObject({ status: "in", user: ann });
  });
});

describe("registering through a studio's invite link", () => {
  const offer = { studio_id: 3, studio_name: "Acme", role: "editor", status: "open", expires_at: "2026-12-04T10:00:00Z", invited_by: "Olga Owner", registration_open: true };

  function stubStudioApi(join: unknown) {
    const calls: { url: string; body: unknown }[] = [];
    vi.stubGlobal(
      "fetch",
      vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
        const request = input instanceof Request ? input : new Request(new URL(String(input), "http://localhost"), init);
        const body = request.method === "POST" ? await request.clone().json() : null;
        calls.push({ url: request.url, body });
        if (request.url.includes("/api/join/")) return json(join);
        if (request.url.includes("/api/auth/register/")) return json({ id: 1 }, 201);
        if (request.url.includes("/api/auth/session/")) return json(ann);
        return json({ detail: "Not found.", code: "not_found" }, 404);
      }),
    );
    return calls;
  }

  it("says who invites to which studio, sends the invite and opens that studio's projects", async () => {
    window.history.pushState({}, "", "/register/?studio_invite=tok-1");
    const calls = stubStudioApi(offer);
    render(<AuthForm mode="register" />);
    expect((await screen.findByTestId("registration-notice")).textContent).toContain("Olga Owner invites you to join Acme as editor");
    fillAndSubmit();
    await waitFor(() => expect(replace).toHaveBeenCalledWith("/projects/"));
    expect(calls.find((c) => c.url.endsWith("/api/auth/register/"))?.body).toMatchObject({ studio_invite: "tok-1" });
    expect(calls.some((c) => c.url.includes("/api/auth/registration/"))).toBe(false);
    expect(usePrefs.getState().studioId).toBe(3); // the invite's studio, by id (names need not be unique)
  });

  it("shows no form for a used invite", async () => {
    window.history.pushState({}, "", "/register/?studio_invite=tok-2");
    stubStudioApi({ ...offer, status: "used" });
    render(<AuthForm mode="register" />);
    expect((await screen.findByTestId("registration-notice")).textContent).toMatch(/already been used/);
    expect(screen.queryByRole("button", { name: "Register" })).toBeNull();
  });
});
