// A WebSocket that survives: reconnects with a widening delay after a drop, resumes from the last event id
// (`since=`), and tells its listeners when it is (re)connected so they can refetch what they might have missed.

export interface LiveEvent {
  type: string;
  project_id: number;
  data: Record<string, unknown>;
  ts: number;
  id?: string | null;
}

export type LiveState = "connecting" | "open" | "reconnecting" | "closed" | "denied";

export interface LiveOptions {
  /** Builds the URL for each attempt; `since` is the last event id seen, if any. */
  url: (since: string | null) => string | null;
  onEvent: (event: LiveEvent) => void;
  onState?: (state: LiveState) => void;
  /** Called after every successful reconnect (not the first connect): the time to resync. */
  onResume?: () => void;
  WebSocketImpl?: typeof WebSocket;
  minDelayMs?: number;
  maxDelayMs?: number;
}

/** Close codes after which retrying cannot help: policy violation (not allowed), and the app's 44xx codes. */
function isFinalClose(code: number): boolean {
  return code === 1008 || (code >= 4400 && code < 4500);
}

export class LiveSocket {
  private socket: WebSocket | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private attempts = 0;
  private stopped = false;
  private everOpened = false;
  lastEventId: string | null = null;
  state: LiveState = "connecting";

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
    if (this.stopped || this.state === "open" || this.state === "denied") return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.connect();
  };

  private setState(state: LiveState): void {
    if (this.state === state) return;
    this.state = state;
    this.options.onState?.(state);
  }

  private connect(): void {
    if (this.stopped) return;
    const url = this.options.url(this.lastEventId);
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
        this.setState("denied");
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
