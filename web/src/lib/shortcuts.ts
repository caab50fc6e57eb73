// When a single-key shortcut may act: never while the person types, works a video's own keys or a menu, and never
// behind an open dialog (the dialog on top owns the keyboard).
import { dialogOpen } from "@/components/Dialog";

/** A key pressed here belongs to the element: a field, a playing video's controls, an open menu. */
export function isTyping(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  return !!el && (["INPUT", "TEXTAREA", "SELECT", "VIDEO"].includes(el.tagName) || el.isContentEditable || !!el.closest?.('[role="menu"]'));
}

/** The page's shortcuts (the shot view's j/k/f/h/x/c) stay quiet: typing, a modifier held, or a dialog open. */
export function pageKeysOff(e: KeyboardEvent): boolean {
  return isTyping(e.target) || e.metaKey || e.ctrlKey || e.altKey || dialogOpen();
}
