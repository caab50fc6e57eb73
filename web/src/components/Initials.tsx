// A person as a small round badge of their initials: screen readers get `label` (the name, unless it says more),
// or nothing when the text beside it already names the person (`decorative`).
import { initialsOf } from "@/lib/people";

export function Initials({ name, label = name, decorative = false }: { name: string; label?: string; decorative?: boolean }) {
  const named = decorative ? { "aria-hidden": true } : { role: "img", "aria-label": label };
  return (
    <span className="initials" title={label} data-testid="initials" {...named}>
      {initialsOf(name)}
    </span>
  );
}
