// What the component tests share: an asset to draw, a JSON answer, a stubbed fetch, a React Query client around the
// tree, and a clean drafts store. The environment itself (globals, mocks, timers, localStorage) is reset after every
// test by src/test-setup.ts.
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render } from "@testing-library/react";
import type { ReactNode } from "react";
import { vi } from "vitest";
import type { Asset } from "@/api/client";
import { keys, placeholderAsset } from "@/api/hooks";
import { useDrafts } from "@/stores/drafts";

/** An image asset of shot 2 ("a red fox", still PENDING unless `over` says otherwise). */
export function asset(over: Partial<Asset> = {}): Asset {
  return { ...placeholderAsset(2, { prompt: "a red fox" }, "image"), id: 10, ...over };
}

/** A JSON answer, as the API gives it. */
export const json = (body: unknown, status = 200) =>
  new Response(status === 204 ? null : JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });

/** The URL fetch was called with, whichever form it came in. */
export const urlOf = (input: RequestInfo | URL) => (typeof input === "string" ? input : input instanceof URL ? input.href : input.url);

type Answer = Response | Promise<Response> | undefined;

/** Stubs fetch: `answer` gets the URL (and the Request, when fetch was given one); what it leaves unanswered is a 404. */
export function stubFetch(answer: (url: string, request?: Request) => Answer) {
  const fetchMock = vi.fn(async (input: RequestInfo | URL) => {
    return (await answer(urlOf(input), input instanceof Request ? input : undefined)) ?? new Response("{}", { status: 404 });
  });
  vi.stubGlobal("fetch", fetchMock);
  return fetchMock;
}

/** A client that does not retry; `staleTime: Infinity` keeps seeded data from being fetched again. */
export const testClient = (staleTime = 0) => new QueryClient({ defaultOptions: { queries: { retry: false, staleTime } } });

/** A client whose cache already holds shot 2's asset list, as the shot view would have loaded it. */
export function clientWithAssets(assets: Asset[] = []) {
  const qc = testClient(Infinity);
  qc.setQueryData(keys.assetList(2, {}), { items: assets, total: assets.length, limit: 200, offset: 0 });
  return qc;
}

/** Renders `ui` inside a QueryClientProvider. */
export function withClient(ui: ReactNode, qc = testClient()) {
  return { qc, ...render(<QueryClientProvider client={qc}>{ui}</QueryClientProvider>) };
}

/** A shot's draft would carry into the next test. */
export const resetDrafts = () => useDrafts.setState({ drafts: {}, reused: null });
