"use client";
// The one modal dialog: traps Tab inside, closes on Escape or a click on the backdrop, and gives the focus back to
// what had it when the dialog opened (WCAG 2.4.3). Every modal (animate, lightbox, compare, paste shots) uses it.
import { useEffect, useRef, useState, type ReactNode } from "react";

const FOCUSABLE =
  'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), video[controls], [tabindex]:not([tabindex="-1"])';

export function focusables(root: HTMLElement): HTMLElement[] {
  return [...root.querySelectorAll<HTMLElement>(FOCUSABLE)].filter((el) => !el.hasAttribute("inert") && el.getClientRects().length > 0);
}

/** The open dialogs, bottom to top: only the top one handles Tab and Escape (one Escape closes one dialog). */
const open: HTMLElement[] = [];

/** Is any modal dialog open? The page's own shortcuts stay quiet then. */
export function dialogOpen(): boolean {
  return open.length > 0;
}

export function Dialog({
  label,
  onClose,
  children,
  className = "dialog stack",
  backdropClassName = "dialog-backdrop",
  testId,
}: {
  /** The dialog's accessible name. */
  label: string;
  onClose: () => void;
  children: ReactNode;
  className?: string;
  backdropClassName?: string;
  testId?: string;
}) {
  const ref = useRef<HTMLDivElement>(null);
  const close = useRef(onClose);
  close.current = onClose;
  // Who had the focus, read while the dialog first renders: by the time an effect runs, a child's `autoFocus`
  // (React focuses it during the commit) has already moved the focus inside, and the opener would be lost.
  const [opener] = useState(() => (typeof document !== "undefined" && document.activeElement instanceof HTMLElement ? document.activeElement : null));

  useEffect(() => {
    const root = ref.current;
    if (root) open.push(root);
    if (root && !root.contains(document.activeElement)) (root.querySelector<HTMLElement>("[autofocus]") ?? focusables(root)[0] ?? root).focus();
    const onKey = (e: KeyboardEvent) => {
      if (!root || open[open.length - 1] !== root) return;
      if (e.key === "Escape") {
        // An open menu inside the dialog (a "⋯" menu button) closes first, on its own.
        if ((e.target as HTMLElement | null)?.closest?.('[role="menu"]')) return;
        e.stopPropagation();
        close.current();
      } else if (e.key === "Tab") {
        const items = focusables(root);
        if (items.length === 0) {
          e.preventDefault();
          root.focus();
          return;
        }
        const first = items[0]!;
        const last = items[items.length - 1]!;
        if (e.shiftKey && (document.activeElement === first || !root.contains(document.activeElement))) {
          e.preventDefault();
          last.focus();
        } else if (!e.shiftKey && (document.activeElement === last || !root.contains(document.activeElement))) {
          e.preventDefault();
          first.focus();
        }
      }
    };
    document.addEventListener("keydown", onKey, true);
    return () => {
      document.removeEventListener("keydown", onKey, true);
      if (root) open.splice(open.indexOf(root), 1);
      if (opener?.isConnected) opener.focus();
    };
  }, [opener]);

  return (
    <div className={backdropClassName} onClick={() => close.current()}>
      <div
        ref={ref}
        className={className}
        role="dialog"
        aria-modal="true"
        aria-label={label}
        tabIndex={-1}
        data-testid={testId}
        onClick={(e) => e.stopPropagation()}
      >
        {children}
      </div>
    </div>
  );
}
