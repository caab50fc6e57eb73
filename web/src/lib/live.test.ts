import { afterEach, describe, expect, it, vi } from "vitest";
import { LiveRefused, LiveSocket, type LiveState } from "./live";
import { projectSocketUrl } from "./useProjectLive";

class FakeSocket {
  static all: FakeSocket[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((m: { data: string }) => void) | null = null;
  onclose: ((c: { code: number; reason?: string }) => void) | null = null;
  onerror: (() => void) | null = null;
  closed = false;
  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }
  close() {
    this.closed = true;
  }
  open() {
    this.onopen?.();
  }
  send(event: object) {
    this.onmessage?.({ data: JSON.stringify(event) });
  }
  drop(code = 1006, reason = "") {
    this.onclose?.({ code, reason });
  }
}

afterEach(() => {
  FakeSocket.all = [];
});

/** Lets pending promise callbacks (the async URL builder) run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

function make(states: LiveState[], events: string[], resumes: { n: number }) {
  return new LiveSocket({
    url: (since) => `ws://x/ws/projects/1/?token=t${since ? `&since=${since}` : ""}`,
    onEvent: (e) => events.push(e.type),
    onState: (s) => states.push(s),
    onResume: () => resumes.n++,
    WebSocketImpl: FakeSocket as unknown as typeof WebSocket,
    minDelayMs: 100,
    maxDelayMs: 400,
  });
}

describe("LiveSocket", () => {
  it("reconnects after a drop and resumes from the last event id", () => {
    vi.useFakeTimers();
    const states: LiveState[] = [];
    const events: string[] = [];
    const resumes = { n: 0 };
    const live = make(states, events, resumes);
    live.start();
    const first = FakeSocket.all[0]!;
    first.open();
    first.send({ type: "snapshot", data: { last_event_id: "100-0" } });
    first.send({ type: "ping" });
    first.send({ type: "asset_status_changed", project_id: 1, data: {}, ts: 1, id: "101-0" });
    expect(events).toEqual(["snapshot", "asset_status_changed"]);
    first.drop();
    expect(states).toContain("reconnecting");
    vi.advanceTimersByTime(100);
    const second = FakeSocket.all[1]!;
    expect(second.url).toContain("since=101-0");
    second.open();
    expect(resumes.n).toBe(1);
    expect(live.state).toBe("open");
    live.stop();
  });

  it("widens the delay between failed attempts up to the maximum", () => {
    vi.useFakeTimers();
    const live = make([], [], { n: 0 });
    live.start();
    FakeSocket.all[0]!.drop();
    vi.advanceTimersByTime(99);
    expect(FakeSocket.all).toHaveLength(1);
    vi.advanceTimersByTime(1);
    FakeSocket.all[1]!.drop();
    vi.advanceTimersByTime(199);
    expect(FakeSocket.all).toHaveLength(2);
    vi.advanceTimersByTime(1);
    FakeSocket.all[2]!.drop();
    vi.advanceTimersByTime(400);
    FakeSocket.all[3]!.drop();
    vi.advanceTimersByTime(400);
    expect(FakeSocket.all).toHaveLength(5);
    live.stop();
  });

  it("gives up on a policy violation (revoked link, someone else's project)", () => {
    vi.useFakeTimers();
    const states: LiveState[] = [];
    const live = make(states, [], { n: 0 });
    live.start();
    FakeSocket.all[0]!.drop(1008);
    vi.advanceTimersByTime(10_000);
    expect(FakeSocket.all).toHaveLength(1);
    expect(states.at(-1)).toBe("denied");
  });

  it("stop closes the socket and schedules nothing", () => {
    vi.useFakeTimers();
    const live = make([], [], { n: 0 });
    live.start();
    live.stop();
    expect(FakeSocket.all[0]!.closed).toBe(true);
    vi.advanceTimersByTime(10_000);
    expect(FakeSocket.all).toHaveLength(1);
  });

  it("asks for a fresh URL (a new ticket) before every attempt", async () => {
    vi.useFakeTimers();
    let n = 0;
    const live = new LiveSocket({
      url: async (since) => `ws://x/ws/projects/1/?ticket=t${++n}${since ? `&since=${since}` : ""}`,
      onEvent: () => {},
      WebSocketImpl: FakeSocket as unknown as typeof WebSocket,
      minDelayMs: 100,
    });
    live.start();
    await settle();
    const first = FakeSocket.all[0]!;
    expect(first.url).toBe("ws://x/ws/projects/1/?ticket=t1");
    first.open();
    first.send({ type: "snapshot", data: { last_event_id: "5-0" } });
    first.drop();
    vi.advanceTimersByTime(100);
    await settle();
    expect(FakeSocket.all[1]!.url).toBe("ws://x/ws/projects/1/?ticket=t2&since=5-0");
    live.stop();
  });

  it("retries when getting a ticket fails, and stops with the reason when it is refused", async () => {
    vi.useFakeTimers();
    const answers: (() => Promise<string>)[] = [
      () => Promise.reject(new Error("Network error")),
      () => Promise.reject(new LiveRefused("Project not found.")),
    ];
    const states: LiveState[] = [];
    const live = new LiveSocket({
      url: () => answers.shift()!(),
      onEvent: () => {},
      onState: (s) => states.push(s),
      WebSocketImpl: FakeSocket as unknown as typeof WebSocket,
      minDelayMs: 100,
    });
    live.start();
    await settle();
    expect(states).toEqual(["reconnecting"]);
    vi.advanceTimersByTime(100);
    await settle();
    expect(states.at(-1)).toBe("denied");
    expect(live.denial).toEqual({ code: 0, reason: "Project not found." });
    vi.advanceTimersByTime(10_000);
    expect(FakeSocket.all).toHaveLength(0);
  });

  it("keeps the server's reason when the socket is refused (deactivated account, too many sockets)", () => {
    vi.useFakeTimers();
    const states: LiveState[] = [];
    const live = make(states, [], { n: 0 });
    live.start();
    FakeSocket.all[0]!.open();
    FakeSocket.all[0]!.drop(1008, "Your account has been deactivated; ask an administrator.");
    expect(live.denial).toEqual({ code: 1008, reason: "Your account has been deactivated; ask an administrator." });
    expect(states.at(-1)).toBe("denied");
    vi.advanceTimersByTime(10_000);
    expect(FakeSocket.all).toHaveLength(1);
  });

  it("does not retry over the socket cap (4429) and says so", () => {
    const live = make([], [], { n: 0 });
    live.start();
    FakeSocket.all[0]!.drop(4429, "Too many live connections for your account (20 open); close another tab, then reload.");
    expect(live.state).toBe("denied");
    expect(live.denial?.code).toBe(4429);
  });
});

describe("projectSocketUrl", () => {
  it("puts a single-use ticket in the URL, asked for with the session cookie and the CSRF header", async () => {
    const requests: Request[] = [];
    vi.stubGlobal("fetch", async (request: Request) => {
      requests.push(request);
      return new Response(JSON.stringify({ ticket: "tkt-1", expires_in: 30 }), {
        status: 201,
        headers: { "Content-Type": "application/json" },
      });
    });
    const url = await projectSocketUrl(7, "9-0");
    expect(url).toMatch(/\/ws\/projects\/7\/\?ticket=tkt-1&since=9-0$/);
    expect(requests[0]!.url).toMatch(/\/api\/auth\/socket-ticket\/$/);
    expect(await requests[0]!.json()).toEqual({ project_id: 7 });
    expect(requests[0]!.headers.get("X-AAM-CSRF")).toBe("1");
    expect(requests[0]!.headers.get("Authorization")).toBeNull();
  });

  it("turns a refused ticket request into a final refusal with the API's sentence", async () => {
    vi.stubGlobal("fetch", async () =>
      new Response(JSON.stringify({ detail: "Project not found.", code: "not_found" }), {
        status: 404,
        headers: { "Content-Type": "application/json" },
      }),
    );
    await expect(projectSocketUrl(7, null)).rejects.toEqual(new LiveRefused("Project not found."));
  });

  it("retries (a plain error) when the API is unavailable", async () => {
    vi.stubGlobal("fetch", async () => new Response("{}", { status: 503, headers: { "Content-Type": "application/json" } }));
    const failure = await projectSocketUrl(7, null).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(Error);
    expect(failure).not.toBeInstanceOf(LiveRefused);
  });
});
