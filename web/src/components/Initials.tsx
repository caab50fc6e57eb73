// A person as a small round badge of their initials: screen readers get the whole name, the hover title says more.
import { initialsOf } from "@/lib/people";

export function Initials({ name, title = name }: { name: string; title?: string }) {
  return (
    <span className="initials" role="img" aria-label={name} title={title} data-testid="initials">
      {initialsOf(name)}
    </span>
  );
}
