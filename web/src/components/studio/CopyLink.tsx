"use client";
// "Copy link": to the clipboard, or, where the browser refuses (no permission, plain HTTP), the link in a read-only
// field already selected, for Ctrl+C. "Copied" is also said aloud.
import { useEffect, useRef, useState } from "react";
import { announce } from "@/components/Announcer";

/** `name`: the button's accessible name where several links sit side by side (it starts with the visible words). */
export function CopyLink({ link, label = "Copy link", name }: { link: string; label?: string; name?: string }) {
  const [state, setState] = useState<"idle" | "copied" | "manual">("idle");
  const field = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (state === "manual") field.current?.select();
    if (state !== "copied") return;
    const timer = setTimeout(() => setState("idle"), 2000);
    return () => clearTimeout(timer);
  }, [state]);
  async function copy() {
    try {
      await navigator.clipboard.writeText(link);
      setState("copied");
      announce("Link copied.");
    } catch {
      setState("manual");
    }
  }
  return (
    <>
      <button type="button" onClick={copy} aria-label={state === "copied" ? undefined : name} data-testid="copy-link">
        {state === "copied" ? "Copied" : label}
      </button>
      {state === "manual" && (
        <label className="copy-fallback small">
          The browser did not allow copying: the link is selected, press Ctrl+C (⌘C).
          <input ref={field} readOnly value={link} onFocus={(e) => e.currentTarget.select()} />
        </label>
      )}
    </>
  );
}
