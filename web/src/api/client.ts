// The typed API client: openapi-fetch over the generated schema. The browser session is an HttpOnly cookie the
// browser sends itself; every unsafe request carries X-AAM-CSRF (docs/security.md, "Sessions"); a 401 ends the session.
import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema";
import { EXPIRED, useAuth } from "@/stores/auth";

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
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }

  /** A 403 naming the role needed: the caller's role is less than the page believed (they were demoted). */
  get roleRefused(): boolean {
    return this.status === 403 && typeof this.details?.needed_role === "string";
  }
}

/** The ApiError for an error answer's body (ErrorBody `{detail, code, details?}`, or anything else). */
function apiError(status: number, body: unknown): ApiError {
  const fields = body && typeof body === "object" ? (body as { code?: unknown; details?: unknown }) : {};
  const details = fields.details && typeof fields.details === "object" ? (fields.details as Record<string, unknown>) : undefined;
  return new ApiError(status, errorMessage(body, status), fields.code !== undefined ? String(fields.code) : undefined, details);
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

/** A 401 while logged in means the session is over: RequireAuth then sends the user to login (and back). */
function onUnauthorized(): void {
  if (useAuth.getState().status === "in") useAuth.getState().signedOut(EXPIRED);
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
/** The header a cross-site form cannot send (and a cross-origin fetch only after a preflight we refuse). */
export const CSRF_HEADER = "X-AAM-CSRF";

/** Marks an unsafe request as the app's own: the API refuses cookie-authenticated writes without it. */
export function withCsrf(method: string, headers: Headers): Headers {
  if (!SAFE_METHODS.has(method.toUpperCase())) headers.set(CSRF_HEADER, "1");
  return headers;
}

const sessionMiddleware: Middleware = {
  onRequest({ request }) {
    withCsrf(request.method, request.headers);
    return request;
  },
  onResponse({ response }) {
    if (response.status === 401) onUnauthorized();
    return response;
  },
};

export const api = createClient<paths>({
  baseUrl: typeof window === "undefined" ? "" : window.location.origin,
  // Looked up at call time, so a replaced fetch (tests, instrumentation) is honoured.
  fetch: (input: Request) => globalThis.fetch(input),
});
api.use(sessionMiddleware);

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
  if (!response.ok) throw apiError(response.status, error);
  return data as T;
}

/** For calls the generated schema cannot describe (file downloads, endpoints still being built). */
export async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers = withCsrf(method, new Headers());
  if (body !== undefined) headers.set("Content-Type", "application/json");
  let response: Response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, errorMessage(null, 0));
  }
  if (response.status === 401) onUnauthorized();
  if (!response.ok) {
    throw apiError(response.status, await response.json().catch(() => null));
  }
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

/** Downloads a file from an authenticated endpoint and hands it to the browser as a save. */
export async function download(path: string, fallbackName: string): Promise<void> {
  // A GET today; withCsrf keeps the rule in one place should an export ever be POSTed.
  const response = await fetch(path, { headers: withCsrf("GET", new Headers()) }).catch(() => {
    throw new ApiError(0, errorMessage(null, 0));
  });
  if (response.status === 401) onUnauthorized();
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
