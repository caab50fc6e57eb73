"use client";
import type { ReactNode } from "react";

export function Loading({ label = "Loading…", cards = 0 }: { label?: string; cards?: number }) {
  if (cards > 0) {
    return (
      // A labelled <div> needs a role (ARIA forbids aria-label on a generic element): a status, read once.
      <div className="grid" role="status" aria-busy="true" aria-label={label}>
        {Array.from({ length: cards }, (_, i) => (
          <div key={i} className="skeleton" aria-hidden="true" />
        ))}
      </div>
    );
  }
  return (
    <p className="muted" role="status" aria-busy="true">
      {label}
    </p>
  );
}

export function ErrorState({ error, retry }: { error: unknown; retry?: () => void }) {
  const message = error instanceof Error ? error.message : "Something went wrong";
  return (
    <div className="notice row" role="alert">
      <span className="error">{message}</span>
      {retry && <button onClick={retry}>Try again</button>}
    </div>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="muted" data-testid="empty">{children}</p>;
}
