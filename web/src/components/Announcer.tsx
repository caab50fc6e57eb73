"use client";
// Status changes read out by screen readers: one polite live region for the whole app (WCAG 4.1.3).
// `announce("Variant 2 of SH010 completed")` from anywhere; the region is mounted once, in the providers.
import { create } from "zustand";

interface Announcements {
  message: string;
  /** Changes with every announcement, so the same sentence twice is read twice. */
  seq: number;
  announce: (message: string) => void;
}

export const useAnnouncements = create<Announcements>((set) => ({
  message: "",
  seq: 0,
  announce: (message) => set((s) => ({ message, seq: s.seq + 1 })),
}));

export function announce(message: string): void {
  useAnnouncements.getState().announce(message);
}

export function Announcer() {
  const message = useAnnouncements((s) => s.message);
  const seq = useAnnouncements((s) => s.seq);
  return (
    <div className="sr-only" role="status" aria-live="polite" aria-atomic="true" data-testid="announcer">
      <span key={seq}>{message}</span>
    </div>
  );
}
