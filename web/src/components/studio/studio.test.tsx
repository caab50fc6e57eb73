import { act, fireEvent, screen, waitFor } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { useProject } from "@/api/hooks";
import { recheckMembership, type Member, type Studio, type StudioInvite } from "@/api/studioHooks";
import { usePrefs } from "@/stores/prefs";
import { useAuth } from "@/stores/auth";
import { json, stubFetch, testClient, withClient } from "@/test/render";
import { StudioSwitcher } from "../StudioSwitcher";
import { useAnnouncements } from "../Announcer";
import { CopyLink } from "./CopyLink";
import { Invites } from "./Invites";
import { Members } from "./Members";

const replace = vi.fn();
const push = vi.fn();
vi.mock("next/navigation", () => ({ useRouter: () => ({ replace, push }) }));

const studio = (over: Partial<Studio> = {}): Studio => ({
  id: 3, name: "Acme", role: "owner", member_count: 2, daily_credit_budget: null, spent_today: 0, created_at: "2026-11-27T10:00:00Z", ...over,
});
const member = (user_id: number, display_name: string, role: Member["role"]): Member => ({
  user_id, display_name, role, email: `${display_name.split(" ")[0]!.toLowerCase()}@example.com`, joined_at: "2026-11-27T10:00:00Z",
});
const members = [member(1, "Olga Owner", "owner"), member(2, "Eddie Editor", "editor")];

beforeEach(() => {
  useAuth.setState({ status: "in", user: { id: 1, email: "olga@example.com", display_name: "Olga Owner", is_superuser: false, created_at: "" } });
});
afterEach(() => {
  useAuth.setState({ status: "unknown", user: null });
  replace.mockReset();
  push.mockReset();
});

describe("the members list", () => {
  it("disables the last owner's role and Leave, with the reason in words", async () => {
    stubFetch((url) => (url.includes("/members/") ? json({ items: members, total: 2, limit: 200, offset: 0 }) : undefined));
    withClient(<Members studio={studio()} />);
    const mine = await screen.findByRole("combobox", { name: "Role of Olga Owner" });
    expect((mine as HTMLSelectElement).disabled).toBe(true);
    const leave = screen.getByRole("button", { name: "Leave studio" }) as HTMLButtonElement;
    expect(leave.disabled).toBe(true);
    const reason = document.getElementById(leave.getAttribute("aria-describedby") ?? "");
    expect(reason?.textContent).toMatch(/last owner cannot be made an editor or viewer, removed or leave/);
    expect((screen.getByRole("combobox", { name: "Role of Eddie Editor" }) as HTMLSelectElement).disabled).toBe(false);
  });

  it("removes a member after asking, and shows the API's sentence when it refuses", async () => {
    // Only the removal goes to /members/2/ (the list is /members/?limit=…): the alert shows that request was made.
    stubFetch((url) => {
      if (url.includes("/members/2/")) return json({ detail: "Eddie Editor is the last owner of Acme.", code: "conflict" }, 409);
      if (url.includes("/members/")) return json({ items: members, total: 2, limit: 200, offset: 0 });
      return undefined;
    });
    vi.spyOn(window, "confirm").mockReturnValue(true);
    withClient(<Members studio={studio()} />);
    fireEvent.click(await screen.findByRole("button", { name: "Remove Eddie Editor" }));
    expect(window.confirm).toHaveBeenCalledWith(expect.stringContaining("Remove Eddie Editor from Acme?"));
    expect((await screen.findByRole("alert")).textContent).toBe("Eddie Editor is the last owner of Acme.");
  });

  it("sends a new role only on Change, keeping the focus on the row while it is sent", async () => {
    const sent: string[] = [];
    let answer!: (r: Response) => void;
    stubFetch((url, request) => {
      if (request?.method === "PATCH") {
        sent.push(url);
        return new Promise<Response>((ok) => (answer = ok));
      }
      if (url.includes("/members/")) return json({ items: members, total: 2, limit: 200, offset: 0 });
    });
    withClient(<Members studio={studio()} />);
    const select = (await screen.findByRole("combobox", { name: "Role of Eddie Editor" })) as HTMLSelectElement;
    fireEvent.change(select, { target: { value: "viewer" } });
    fireEvent.change(select, { target: { value: "owner" } });
    expect(sent).toEqual([]);
    const change = screen.getByRole("button", { name: "Change role of Eddie Editor to Owner" });
    change.focus();
    fireEvent.click(change);
    await waitFor(() => expect(sent).toHaveLength(1));
    expect(change.getAttribute("aria-disabled")).toBe("true");
    expect((change as HTMLButtonElement).disabled).toBe(false);
    expect(document.activeElement).toBe(change);
    fireEvent.click(change);
    expect(sent).toHaveLength(1);
    await act(async () => answer(json(member(2, "Eddie Editor", "owner"))));
  });

  it("forgets what was cached of a studio one leaves", async () => {
    useAuth.setState({ user: { id: 2, email: "eddie@example.com", display_name: "Eddie Editor", is_superuser: false, created_at: "" } });
    vi.spyOn(window, "confirm").mockReturnValue(true);
    stubFetch((url, request) => {
      if (request?.method === "DELETE") return json(null, 204);
      if (url.includes("/members/")) return json({ items: members, total: 2, limit: 200, offset: 0 });
    });
    const qc = testClient(Infinity);
    qc.setQueryData(["project", 7], { id: 7, studio_id: 3 });
    qc.setQueryData(["boxes", 7], { items: [] });
    qc.setQueryData(["project", 8], { id: 8, studio_id: 4 });
    withClient(<Members studio={studio({ role: "editor" })} />, qc);
    fireEvent.click(await screen.findByRole("button", { name: "Leave studio" }));
    await waitFor(() => expect(replace).toHaveBeenCalledWith("/projects/"));
    expect(qc.getQueryData(["project", 7])).toBeUndefined();
    expect(qc.getQueryData(["boxes", 7])).toBeUndefined();
    expect(qc.getQueryData(["project", 8])).toEqual({ id: 8, studio_id: 4 });
  });

  it("shows a viewer the roles without controls", async () => {
    stubFetch((url) => (url.includes("/members/") ? json({ items: members, total: 2, limit: 200, offset: 0 }) : undefined));
    useAuth.setState({ user: { id: 2, email: "eddie@example.com", display_name: "Eddie Editor", is_superuser: false, created_at: "" } });
    withClient(<Members studio={studio({ role: "viewer" })} />);
    expect((await screen.findAllByTestId("member-role")).map((r) => r.textContent)).toEqual(["Owner", "Editor"]);
    expect(screen.queryByRole("combobox")).toBeNull();
    expect(screen.queryByRole("button", { name: /Remove/ })).toBeNull();
    expect(screen.getByRole("button", { name: "Leave studio" })).toBeTruthy();
  });
});

describe("Copy link", () => {
  it("falls back to the link selected in a read-only field when the clipboard is refused", async () => {
    vi.stubGlobal("navigator", { ...navigator, clipboard: { writeText: vi.fn().mockRejectedValue(new Error("denied")) } });
    withClient(<CopyLink link="http://x.test/join/?token=abc" />);
    fireEvent.click(screen.getByRole("button", { name: "Copy link" }));
    const field = (await screen.findByRole("textbox")) as HTMLInputElement;
    expect(field.value).toBe("http://x.test/join/?token=abc");
    expect(field.readOnly).toBe(true);
    await waitFor(() => expect(field.selectionEnd).toBe(field.value.length));
  });
});

describe("losing one's place in a studio (the project socket closed with 1008)", () => {
  function ProjectName() {
    const project = useProject(7);
    return <p>{project.isError ? `gone: ${project.error.message}` : (project.data?.name ?? "…")}</p>;
  }

  it("refetches the project, so its page says it is gone, and forgets the studio left", async () => {
    let member = true;
    stubFetch((url) => {
      if (url.endsWith("/api/projects/7/")) return member ? json({ id: 7, name: "Spot", studio_id: 3, role: "editor" }) : json({ detail: "Project not found." }, 404);
      if (url.includes("/api/studios/")) return json({ items: member ? [studio({ id: 3 }), studio({ id: 4 })] : [studio({ id: 4 })], total: 1, limit: 200, offset: 0 });
    });
    usePrefs.getState().setStudio(3);
    const { qc } = withClient(<ProjectName />);
    await screen.findByText("Spot");
    member = false;
    await act(() => recheckMembership(qc, 7));
    await screen.findByText("gone: Project not found.");
    expect(usePrefs.getState().studioId).toBeNull();
  });

  it("keeps the chosen studio when the person still belongs to it", async () => {
    stubFetch((url) => (url.includes("/api/studios/") ? json({ items: [studio({ id: 3 })], total: 1, limit: 200, offset: 0 }) : undefined));
    usePrefs.getState().setStudio(3);
    await recheckMembership(testClient(), 7);
    expect(usePrefs.getState().studioId).toBe(3);
  });
});

describe("the studio switcher", () => {
  it("changes studio only on Open, not while the picker moves through the list", async () => {
    stubFetch((url) => (url.includes("/api/studios/") ? json({ items: [studio({ id: 3 }), studio({ id: 4, name: "Bravo" })], total: 2, limit: 200, offset: 0 }) : undefined));
    usePrefs.getState().setStudio(3);
    withClient(<StudioSwitcher />);
    fireEvent.change(await screen.findByRole("combobox", { name: "Studio" }), { target: { value: "4" } });
    expect(push).not.toHaveBeenCalled();
    expect(usePrefs.getState().studioId).toBe(3);
    fireEvent.click(screen.getByRole("button", { name: "Open" }));
    expect(usePrefs.getState().studioId).toBe(4);
    expect(push).toHaveBeenCalledWith("/projects/");
  });
});

describe("the invites list", () => {
  const invite = (id: number, role: Member["role"], expires_at: string): StudioInvite => ({
    id, token: `t${id}`, link: `http://x.test/join/?token=t${id}`, role, expires_at, used_at: null, used_by_name: null, created_by_name: "Olga Owner",
    created_at: "2026-11-27T10:00:00Z", status: "open",
  });

  it("names each open invite's buttons by its role and expiry, and says aloud that a link was copied", async () => {
    const items = [invite(1, "editor", "2026-12-01T10:00:00Z"), invite(2, "viewer", "2026-12-02T10:00:00Z")];
    stubFetch((url) => (url.includes("/invites/") ? json({ items, total: 2, limit: 200, offset: 0 }) : undefined));
    vi.stubGlobal("navigator", { ...navigator, clipboard: { writeText: vi.fn().mockResolvedValue(undefined) } });
    withClient(<Invites studio={studio()} />);
    const until = new Date("2026-12-02T10:00:00Z").toLocaleString();
    const copy = await screen.findByRole("button", { name: `Copy link of the viewer invite open until ${until}` });
    expect(screen.getByRole("button", { name: `Revoke the viewer invite open until ${until}` })).toBeTruthy();
    expect(screen.getAllByRole("button", { name: /^Revoke the editor invite/ })).toHaveLength(1);
    fireEvent.click(copy);
    await waitFor(() => expect(useAnnouncements.getState().message).toBe("Link copied."));
  });
});
