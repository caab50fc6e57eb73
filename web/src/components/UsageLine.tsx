"use client";
import { useUsage } from "@/api/hooks";
import { creditsText } from "@/lib/cost";

/** Today's spend and limits, next to what starts paid work: "312 of 2000 credits today · 2 of 8 running". */
export function UsageLine() {
  const usage = useUsage();
  if (!usage.data) return null;
  const u = usage.data;
  const over = u.remaining <= 0 || u.running >= u.max_running;
  return (
    <p className={`small ${over ? "error" : "muted"}`} data-testid="usage">
      {creditsText(u.spent_today)} of {creditsText(u.daily_budget)} credits today · {u.running} of {u.max_running} running
      {u.kie_balance != null && <span data-testid="kie-balance"> · Kie.ai balance: {creditsText(u.kie_balance)} credits</span>}
    </p>
  );
}
