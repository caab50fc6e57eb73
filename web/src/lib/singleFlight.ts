"use client";
import { useCallback, useRef, useState } from "react";

/**
 * One paid request at a time from a button: `run(start)` calls `start(done)` unless an earlier run has not called
 * `done` yet. The ref stops a second click in the same tick (before React re-renders the button as disabled);
 * `pending` is for `disabled` until the server has answered.
 */
export function useSingleFlight() {
  const busy = useRef(false);
  const [pending, setPending] = useState(false);
  const run = useCallback((start: (done: () => void) => void) => {
    if (busy.current) return;
    busy.current = true;
    setPending(true);
    start(() => {
      busy.current = false;
      setPending(false);
    });
  }, []);
  return { pending, run };
}
