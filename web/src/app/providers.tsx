"use client";
import { MutationCache, QueryCache, QueryClient, QueryClientProvider, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState, type ReactNode } from "react";
import { ApiError } from "@/api/client";
import { Announcer } from "@/components/Announcer";
import { useAuth } from "@/stores/auth";

export function makeQueryClient(): QueryClient {
  // A 403 naming the role needed means this person's role changed under the page: refetch the roles the screens
  // decide their controls by, so a demoted editor stops being offered what the API refuses.
  const onError = (error: unknown) => {
    if (!(error instanceof ApiError && error.roleRefused)) return;
    for (const queryKey of [["project"], ["projects"], ["studios"]]) void client.invalidateQueries({ queryKey });
  };
  const client: QueryClient = new QueryClient({
    queryCache: new QueryCache({ onError }),
    mutationCache: new MutationCache({ onError }),
    defaultOptions: {
      queries: {
        staleTime: 15_000,
        // A slow or flaky network gets a few retries; a 4xx is an answer, not a glitch.
        retry: (count, error) => !(error instanceof ApiError && error.status >= 400 && error.status < 500) && count < 3,
        retryDelay: (attempt) => Math.min(8_000, 500 * 2 ** attempt),
        refetchOnWindowFocus: true,
      },
      mutations: { retry: false },
    },
  });
  return client;
}

/** Whatever ends this tab's login (a 401, a logout in another tab, another user logging in) empties the cache, so
 * the next person to log in here never sees the last one's projects, shots or signed links. */
export function ForgetOnSignOut() {
  const qc = useQueryClient();
  useEffect(
    () =>
      useAuth.subscribe((now, before) => {
        if (before.status === "in" && (now.status !== "in" || now.user?.id !== before.user?.id)) qc.clear();
      }),
    [qc],
  );
  return null;
}

export function Providers({ children }: { children: ReactNode }) {
  const [client] = useState(makeQueryClient);
  return (
    <QueryClientProvider client={client}>
      <ForgetOnSignOut />
      {children}
      <Announcer />
    </QueryClientProvider>
  );
}
