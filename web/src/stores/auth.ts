// Client state for the session: the bearer token lives in sessionStorage (gone with the tab, never in a cookie
// or localStorage that outlives it) with its expiry, so an expired session is noticed before the server says so.
import { create } from "zustand";

const KEY = "aam.session";

interface Session {
  token: string;
  expiresAt: number;
}

export interface AuthState {
  token: string | null;
  expiresAt: number | null;
  notice: string | null;
  login: (token: string, expiresIn: number) => void;
  logout: (notice?: string) => void;
  validToken: () => string | null;
  clearNotice: () => void;
}

function storage(): Storage | null {
  try {
    return typeof window === "undefined" ? null : window.sessionStorage;
  } catch {
    return null;
  }
}

const NOTICE_KEY = "aam.notice";
const EXPIRED = "Your session has expired. Please log in again.";

function readSession(): Session | null {
  const raw = storage()?.getItem(KEY);
  if (!raw) return null;
  try {
    const parsed = JSON.parse(raw) as Partial<Session>;
    if (typeof parsed.token === "string" && typeof parsed.expiresAt === "number") {
      if (parsed.expiresAt > Date.now()) return { token: parsed.token, expiresAt: parsed.expiresAt };
      storage()?.setItem(NOTICE_KEY, EXPIRED);
    }
  } catch {
    // a damaged entry is the same as none
  }
  storage()?.removeItem(KEY);
  return null;
}

const initial = readSession();
// The notice survives the full-page redirect to /login/ that follows a rejected token.
const initialNotice = storage()?.getItem(NOTICE_KEY) ?? null;

export const useAuth = create<AuthState>((set, get) => ({
  token: initial?.token ?? null,
  expiresAt: initial?.expiresAt ?? null,
  notice: initialNotice,
  login: (token, expiresIn) => {
    const expiresAt = Date.now() + expiresIn * 1000;
    storage()?.setItem(KEY, JSON.stringify({ token, expiresAt }));
    storage()?.removeItem(NOTICE_KEY);
    set({ token, expiresAt, notice: null });
  },
  logout: (notice) => {
    storage()?.removeItem(KEY);
    if (notice) storage()?.setItem(NOTICE_KEY, notice);
    else storage()?.removeItem(NOTICE_KEY);
    set({ token: null, expiresAt: null, notice: notice ?? null });
  },
  validToken: () => {
    const { token, expiresAt } = get();
    if (!token || !expiresAt) return null;
    if (expiresAt <= Date.now()) {
      get().logout(EXPIRED);
      return null;
    }
    return token;
  },
  clearNotice: () => {
    storage()?.removeItem(NOTICE_KEY);
    set({ notice: null });
  },
}));
