"use client";
import { useSearchParams } from "next/navigation";

/** A positive integer from the query string (`/project/?id=3`), or 0 when missing or malformed. */
export function useIdParam(name = "id"): number {
  const raw = useSearchParams().get(name);
  const value = raw && /^\d{1,10}$/.test(raw) ? Number(raw) : 0;
  return Number.isSafeInteger(value) ? value : 0;
}
