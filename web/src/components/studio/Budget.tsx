"use client";
// The studio's daily credit budget (its owner sets or clears it) and what the whole studio spent today.
import { useState } from "react";
import { useUpdateStudio, type Studio } from "@/api/studioHooks";
import { announce } from "@/components/Announcer";
import { creditsAmount } from "@/lib/cost";
import { can } from "@/lib/roles";

export function Budget({ studio }: { studio: Studio }) {
  const update = useUpdateStudio(studio.id);
  const [value, setValue] = useState(studio.daily_credit_budget?.toString() ?? "");
  const limit = studio.daily_credit_budget;
  return (
    <section className="panel stack" aria-labelledby="budget-title">
      <h2 id="budget-title">Daily budget</h2>
      <p data-testid="spent-today">
        Spent today: {creditsAmount(studio.spent_today)}
        {limit != null ? ` of ${creditsAmount(limit)}` : " (no studio budget)"}.
      </p>
      {can(studio.role, "manageStudio") && (
        <form
          className="row"
          onSubmit={(e) => {
            e.preventDefault();
            update.mutate({ daily_credit_budget: value.trim() === "" ? null : Number(value) }, { onSuccess: () => announce("Budget saved.") });
          }}
        >
          <label>
            Credits a day for the whole studio (empty: no limit)
            <input type="number" min={0} step="any" inputMode="decimal" value={value} onChange={(e) => setValue(e.target.value)} />
          </label>
          <button type="submit" disabled={update.isPending}>
            Save budget
          </button>
        </form>
      )}
      {update.error && (
        <p className="error" role="alert">
          {update.error.message}
        </p>
      )}
      {update.isSuccess && !update.isPending && <p className="small muted">Saved.</p>}
    </section>
  );
}
