// Who is logged in, as far as this tab knows. The session itself is an HttpOnly cookie (docs/security.md,
// "Sessions"): no token is ever visible to scripts, so this store only knows the user ("unknown" until
// GET /api/auth/me/ answers). Logging out in one tab tells the other tabs of the browser ("aam.auth" channel).
import { create } from "zustand";
import type { User } from "@/api/client";

export type AuthStatus = "unknown" | "in" | "out";

export const EXPIRED = "Your session has expired. Please log in again.";
export const LOGGED_OUT_ELSEWHERE = "You logged out in another tab.";
const CHANNEL = "aam.auth";

type AuthMessage = { type: "logout" };

export interface AuthState {
  status: AuthStatus;
  user: User | null;
  /** Shown by the login page: why the user landed there. */
  notice: string | null;
  signedIn: (user: User) => void;
  /** This tab's session is over (a 401, or logged out elsewhere); `notice` says why. */
  signedOut: (notice?: string) => void;
  /** The user logged out here: every other tab of this browser goes to the login page too. */
  loggedOut: () => void;
  clearNotice: () => void;
}

let channel: BroadcastChannel | null = null;

function authChannel(): BroadcastChannel | null {
  if (channel === null && typeof BroadcastChannel !== "undefined") {
    channel = new BroadcastChannel(CHANNEL);
    channel.onmessage = (event: MessageEvent<AuthMessage>) => {
      if (event.data?.type === "logout" && useAuth.getState().status !== "out") {
        useAuth.getState().signedOut(LOGGED_OUT_ELSEWHERE);
      }
    };
  }
  return channel;
}

export const useAuth = create<AuthState>((set) => ({
  status: "unknown",
  user: null,
  notice: null,
  signedIn: (user) => set({ status: "in", user, notice: null }),
  signedOut: (notice) => set({ status: "out", user: null, notice: notice ?? null }),
  loggedOut: () => {
    set({ status: "out", user: null, notice: null });
    authChannel()?.postMessage({ type: "logout" } satisfies AuthMessage);
  },
  clearNotice: () => set({ notice: null }),
}));

/** Start listening to the other tabs (call once in the browser; the store module itself stays side-effect free). */
export function listenToOtherTabs(): void {
  authChannel();
}
