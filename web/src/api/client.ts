// The typed API client: openapi-fetch over the generated schema, with the bearer token and session expiry.
import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema";
import { useAuth } from "@/stores/auth";

export type Schemas = components["schemas"];
export type Asset = Schemas["AssetPublic"];
export type Box = Schemas["BoxPublic"];
export type Project = Schemas["ProjectPublic"];
export type AIModel = Schemas["AIModelPublic"];
export type User = Schemas["UserPublic"];

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

/** Turns the API's ErrorBody `{detail, code, details?}` into one sentence a person can read (a list `detail` is still read). */
export function errorMessage(body: unknown, status: number): string {
  if (body && typeof body === "object" && "detail" in body) {
    const detail = (body as { detail: unknown }).detail;
    if (typeof detail === "string") return detail;
    if (Array.isArray(detail)) {
      return detail
        .map((d: { loc?: unknown[]; msg?: string }) => {
          const field = (d.loc ?? []).filter((p) => p !== "body").join(".");
          return field ? `${field}: ${d.msg ?? "invalid"}` : (d.msg ?? "invalid");
        })
        .join("; ");
    }
  }
  if (status === 0) return "Network error: the server cannot be reached";
  return `Request failed (${status})`;
}

/** A 401 on an authenticated call means the session is over: forget the token and go back to login. */
function onUnauthorized(): void {
  const { token, logout } = useAuth.getState();
  if (!token) return;
  logout("Your session has expired. Please log in again.");
  if (typeof window !== "undefined" && !window.location.pathname.startsWith("/login")) {
    const next = window.location.pathname + window.location.search;
    window.location.assign(`/login/?next=${encodeURIComponent(next)}`);
  }
}

const authMiddleware: Middleware = {
  onRequest({ request }) {
    const token = useAuth.getState().validToken();
    if (token) request.headers.set("Authorization", `Bearer ${token}`);
    return request;
  },
  onResponse({ response, request }) {
    if (response.status === 401 && request.headers.has("Authorization")) onUnauthorized();
    return response;
  },
};

export const api = createClient<paths>({
  baseUrl: typeof window === "undefined" ? "" : window.location.origin,
  // Looked up at call time, so a replaced fetch (tests, instrumentation) is honoured.
  fetch: (input: Request) => globalThis.fetch(input),
});
api.use(authMiddleware);

/** Unwraps an openapi-fetch result: the data, or an ApiError with a readable message. */
export async function unwrap<T>(
  promise: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  let result: { data?: T; error?: unknown; response: Response };
  try {
    result = await promise;
  } catch {
    throw new ApiError(0, errorMessage(null, 0));
  }
  const { data, error, response } = result;
  if (!response.ok) {
    const code = error && typeof error === "object" && "code" in error ? String(error.code) : undefined;
    throw new ApiError(response.status, errorMessage(error, response.status), code);
  }
  return data as T;
}

/** For calls the generated schema cannot describe (file downloads, endpoints still being built). */
export async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  const token = useAuth.getState().validToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response: Response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, errorMessage(null, 0));
  }
  if (response.status === 401 && token) onUnauthorized();
  if (!response.ok) {
    const payload: unknown = await response.json().catch(() => null);
    const code = payload && typeof payload === "object" && "code" in payload ? String(payload.code) : undefined;
    throw new ApiError(response.status, errorMessage(payload, response.status), code);
  }
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

/** Downloads a file from an authenticated endpoint and hands it to the browser as a save. */
export async function download(path: string, fallbackName: string): Promise<void> {
  const token = useAuth.getState().validToken();
  const response = await fetch(path, { headers: token ? { Authorization: `Bearer ${token}` } : {} }).catch(() => {
    throw new ApiError(0, errorMessage(null, 0));
  });
  if (response.status === 401 && token) onUnauthorized();
  if (!response.ok) {
    const payload: unknown = await response.json().catch(() => null);
    throw new ApiError(response.status, errorMessage(payload, response.status));
  }
  const disposition = response.headers.get("Content-Disposition") ?? "";
  const match = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition);
  const name = match?.[1] ? decodeURIComponent(match[1]) : fallbackName;
  const url = URL.createObjectURL(await response.blob());
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
