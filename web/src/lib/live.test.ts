import { afterEach, describe, expect, it, vi } from "vitest";
import { LiveSocket, type LiveState } from "./live";

class FakeSocket {
  static all: FakeSocket[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((m: { data: string }) => void) | null = null;
  onclose: ((c: { code: number }) => void) | null = null;
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
  drop(code = 1006) {
    this.onclose?.({ code });
  }
}

afterEach(() => {
  FakeSocket.all = [];
  vi.useRealTimers();
});

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
});
