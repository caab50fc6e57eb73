// A WebSocket that survives: reconnects with a widening delay after a drop, resumes from the last event id
// (`since=`), and tells its listeners when it is (re)connected so they can refetch what they might have missed.
// The URL is built afresh for each attempt, possibly asynchronously (the owner socket fetches a single-use ticket
// first, so no access token travels in a URL). A refusal that retrying cannot fix stops it, with the server's reason.

export interface LiveEvent {
  type: string;
  project_id: number;
  data: Record<string, unknown>;
  ts: number;
  id?: string | null;
}

export type LiveState = "connecting" | "open" | "reconnecting" | "closed" | "denied";

/** Why the socket stopped for good: the close code and the server's reason (or why no URL could be had). */
export interface LiveDenial {
  code: number;
  reason: string;
}

/** Thrown by a `url` builder when connecting cannot succeed by retrying (e.g. the ticket request was refused). */
export class LiveRefused extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

export interface LiveOptions {
  /** Builds the URL for each attempt; `since` is the last event id seen, if any. May be async: a rejection is
   * retried like a drop, except `LiveRefused`, which stops the socket ("denied"). null: nothing to connect to. */
  url: (since: string | null) => string | null | Promise<string | null>;
  onEvent: (event: LiveEvent) => void;
  onState?: (state: LiveState) => void;
  /** Called after every successful reconnect (not the first connect): the time to resync. */
  onResume?: () => void;
  WebSocketImpl?: typeof WebSocket;
  minDelayMs?: number;
  maxDelayMs?: number;
}

/** Close codes after which retrying cannot help: policy violation (not allowed: a bad or used ticket, an expired
 * session, a deactivated account, a revoked link), and the app's 44xx codes (4429: too many sockets). */
function isFinalClose(code: number): boolean {
  return code === 1008 || (code >= 4400 && code < 4500);
}

export class LiveSocket {
  private socket: WebSocket | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private attempts = 0;
  private stopped = false;
  private everOpened = false;
  private pending = false;
  lastEventId: string | null = null;
  state: LiveState = "connecting";
  /** Set when the state becomes "denied": what the server (or the ticket request) said. */
  denial: LiveDenial | null = null;

  constructor(private readonly options: LiveOptions) {}

  start(): void {
    this.stopped = false;
    this.connect();
    if (typeof window !== "undefined") {
      window.addEventListener("online", this.reconnectNow);
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (typeof window !== "undefined") window.removeEventListener("online", this.reconnectNow);
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      socket.onclose = null;
      socket.onmessage = null;
      socket.onerror = null;
      socket.onopen = null;
      socket.close(1000);
    }
    this.setState("closed");
  }

  private readonly reconnectNow = (): void => {
    if (this.stopped || this.pending || this.state === "open" || this.state === "denied") return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.connect();
  };

  private setState(state: LiveState): void {
    if (this.state === state) return;
    this.state = state;
    this.options.onState?.(state);
  }

  private deny(code: number, reason: string): void {
    this.denial = { code, reason };
    this.setState("denied");
  }

  private connect(): void {
    if (this.stopped) return;
    let url: string | null | Promise<string | null>;
    try {
      url = this.options.url(this.lastEventId);
    } catch (error) {
      this.failedUrl(error);
      return;
    }
    if (!(url instanceof Promise)) {
      this.open(url);
      return;
    }
    this.pending = true;
    url.then(
      (resolved) => {
        this.pending = false;
        if (!this.stopped) this.open(resolved);
      },
      (error: unknown) => {
        this.pending = false;
        if (!this.stopped) this.failedUrl(error);
      },
    );
  }

  private failedUrl(error: unknown): void {
    if (error instanceof LiveRefused) this.deny(0, error.reason);
    else this.schedule();
  }

  private open(url: string | null): void {
    if (!url) {
      this.setState("closed");
      return;
    }
    const Impl = this.options.WebSocketImpl ?? WebSocket;
    let socket: WebSocket;
    try {
      socket = new Impl(url);
    } catch {
      this.schedule();
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      const resumed = this.everOpened;
      this.everOpened = true;
      this.attempts = 0;
      this.setState("open");
      if (resumed) this.options.onResume?.();
    };
    socket.onmessage = (message: MessageEvent) => {
      let event: LiveEvent;
      try {
        event = JSON.parse(String(message.data)) as LiveEvent;
      } catch {
        return;
      }
      if (!event || typeof event.type !== "string" || event.type === "ping") return;
      if (event.type === "snapshot") {
        // The snapshot says where the stream starts; resuming later asks for what came after it.
        const last = event.data?.last_event_id;
        if (typeof last === "string") this.lastEventId = last;
      } else if (event.id) this.lastEventId = event.id;
      this.options.onEvent(event);
    };
    socket.onclose = (close: CloseEvent) => {
      this.socket = null;
      if (this.stopped) return;
      if (isFinalClose(close.code)) {
        this.deny(close.code, close.reason || "Live updates were refused.");
        return;
      }
      this.schedule();
    };
    socket.onerror = () => {
      // onclose follows and decides what to do
    };
  }

  private schedule(): void {
    if (this.stopped) return;
    this.setState("reconnecting");
    const min = this.options.minDelayMs ?? 500;
    const max = this.options.maxDelayMs ?? 10_000;
    const delay = Math.min(max, min * 2 ** this.attempts);
    this.attempts += 1;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.connect();
    }, delay);
  }
}

/** ws:// or wss:// URL on the page's own origin. */
export function wsUrl(path: string, query: Record<string, string | null | undefined>): string {
  const proto = window.location.protocol === "https:" ? "wss:" : "ws:";
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value) params.set(key, value);
  const qs = params.toString();
  return `${proto}//${window.location.host}${path}${qs ? `?${qs}` : ""}`;
}
