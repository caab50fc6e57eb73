"use client";
// "Copy link": to the clipboard, or, where the browser refuses (no permission, plain HTTP), the link in a read-only
// field already selected, for Ctrl+C.
import { useEffect, useRef, useState } from "react";

export function CopyLink({ link, label = "Copy link" }: { link: string; label?: string }) {
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
    } catch {
      setState("manual");
    }
  }
  return (
    <>
      <button type="button" onClick={copy} data-testid="copy-link">
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
