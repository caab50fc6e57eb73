"use client";
// The one "⋯" menu button (WAI-ARIA menu button pattern), on the shot view's cards and lightbox and on the board's
// shots. Arrow keys, Home/End move between the enabled items, Escape closes it and gives the focus back to the
// button; a click elsewhere or Tab closes it.
import { useEffect, useId, useRef, useState, type KeyboardEvent, type ReactNode } from "react";
import "@/styles/menu.css";

export interface MenuItem {
  label: ReactNode;
  /** The item's accessible name when `label` is not plain text. */
  name?: string;
  onSelect: () => void;
  /** Shown but skipped by the arrow keys (e.g. "Move earlier" on the first shot). */
  disabled?: boolean;
  danger?: boolean;
  testId?: string;
}

export function ActionMenu({ label, items, buttonClassName = "" }: { label: string; items: MenuItem[]; buttonClassName?: string }) {
  const [open, setOpen] = useState(false);
  const button = useRef<HTMLButtonElement>(null);
  const menu = useRef<HTMLUListElement>(null);
  const id = useId();

  const entries = () => [...(menu.current?.querySelectorAll<HTMLElement>('[role="menuitem"]:not(:disabled)') ?? [])];
  const close = (refocus: boolean) => {
    setOpen(false);
    if (refocus) button.current?.focus();
  };

  useEffect(() => {
    if (!open) return;
    entries()[0]?.focus();
    const onDown = (e: MouseEvent) => {
      const target = e.target as Node;
      if (!menu.current?.contains(target) && !button.current?.contains(target)) setOpen(false);
    };
    document.addEventListener("mousedown", onDown);
    return () => document.removeEventListener("mousedown", onDown);
  }, [open]);

  function onMenuKey(e: KeyboardEvent) {
    const all = entries();
    const at = all.indexOf(document.activeElement as HTMLElement);
    const go = (i: number) => all[(i + all.length) % all.length]?.focus();
    if (e.key === "ArrowDown") go(at + 1);
    else if (e.key === "ArrowUp") go(at - 1);
    else if (e.key === "Home") go(0);
    else if (e.key === "End") go(all.length - 1);
    else if (e.key === "Escape") close(true);
    else if (e.key === "Tab") setOpen(false);
    else {
      // Keys the menu does not use must not reach the grid's shortcuts either.
      if (e.key.length === 1) e.stopPropagation();
      return;
    }
    e.preventDefault();
    e.stopPropagation();
  }

  return (
    <div className="action-menu" onClick={(e) => e.stopPropagation()}>
      <button
        ref={button}
        type="button"
        className={`icon-btn menu-btn ${buttonClassName}`}
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={open ? id : undefined}
        aria-label={label}
        title={label}
        onClick={() => setOpen((o) => !o)}
        onKeyDown={(e) => {
          if (e.key === "ArrowDown" || e.key === "ArrowUp") {
            e.preventDefault();
            e.stopPropagation();
            setOpen(true);
          }
        }}
      >
        ⋯
      </button>
      {open && (
        <ul ref={menu} id={id} role="menu" aria-label={label} className="menu" onKeyDown={onMenuKey}>
          {items.map((item, i) => (
            <li key={i} role="none">
              <button
                type="button"
                role="menuitem"
                tabIndex={-1}
                aria-label={item.name}
                className={item.danger ? "danger" : undefined}
                disabled={item.disabled}
                data-testid={item.testId}
                onClick={() => {
                  close(true);
                  item.onSelect();
                }}
              >
                {item.label}
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
