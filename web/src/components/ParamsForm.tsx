"use client";
import type { AIModel } from "@/api/client";
import { capabilitiesOf, label } from "@/lib/models";

/** One control per parameter the chosen model supports, and nothing else. */
export function ParamsForm({
  model,
  values,
  onChange,
}: {
  model: AIModel | undefined;
  values: Record<string, unknown>;
  onChange: (values: Record<string, unknown>) => void;
}) {
  const params = capabilitiesOf(model).params ?? {};
  const entries = Object.entries(params);
  if (!entries.length) return null;
  return (
    <div className="row" data-testid="params">
      {entries.map(([name, spec]) => {
        if (spec.type === "bool") {
          return (
            <label key={name} className="inline">
              <input
                type="checkbox"
                name={name}
                checked={Boolean(values[name])}
                onChange={(e) => onChange({ ...values, [name]: e.target.checked })}
              />
              {label(name)}
            </label>
          );
        }
        const options = spec.values ?? [];
        return (
          <label key={name}>
            {label(name)}
            <select
              name={name}
              value={String(values[name] ?? "")}
              onChange={(e) => {
                const picked = options.find((o) => String(o) === e.target.value);
                onChange({ ...values, [name]: picked ?? e.target.value });
              }}
            >
              {options.map((o) => (
                <option key={String(o)} value={String(o)}>
                  {String(o)}
                </option>
              ))}
            </select>
          </label>
        );
      })}
    </div>
  );
}
