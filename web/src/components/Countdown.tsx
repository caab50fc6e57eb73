"use client";
import { useEffect, useState } from "react";

export function formatLeft(ms: number): string {
  if (ms <= 0) return "purge due";
  const minutes = Math.floor(ms / 60_000);
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  if (days > 0) return `purged in ${days}d ${hours}h`;
  if (hours > 0) return `purged in ${hours}h ${minutes % 60}m`;
  return `purged in ${Math.max(1, minutes)}m`;
}

/** "purged in 3d 4h" for an asset that retention will delete unless it is starred or made headliner. */
export function RetentionCountdown({ purgeAt }: { purgeAt: string }) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 60_000);
    return () => clearInterval(timer);
  }, []);
  const at = new Date(purgeAt).getTime();
  if (Number.isNaN(at)) return null;
  return (
    <span className="badge purge" title={`Will be deleted at ${new Date(at).toLocaleString()} unless starred or chosen`} data-testid="retention">
      {formatLeft(at - now)}
    </span>
  );
}
