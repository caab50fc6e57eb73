"use client";
// The header's studio: which one the person works in (a picker when they belong to several, its name otherwise),
// its members page, and a new studio.
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { useCreateStudio, useCurrentStudio, type Studio } from "@/api/studioHooks";
import { roleLabel } from "@/lib/roles";
import { usePrefs } from "@/stores/prefs";
import { Dialog } from "./Dialog";

function NewStudioDialog({ onClose }: { onClose: () => void }) {
  const create = useCreateStudio();
  const router = useRouter();
  const [name, setName] = useState("");
  return (
    <Dialog label="New studio" onClose={onClose} testId="new-studio">
      <h2 style={{ margin: 0 }}>New studio</h2>
      <form
        className="stack"
        onSubmit={(e) => {
          e.preventDefault();
          create.mutate(name.trim(), {
            onSuccess: (studio) => {
              onClose();
              router.push(`/studio/?id=${studio.id}`);
            },
          });
        }}
      >
        <label>
          Name
          <input value={name} onChange={(e) => setName(e.target.value)} required maxLength={120} autoFocus />
        </label>
        <p className="small muted">You will be its owner: invite people from its members page.</p>
        {create.error && (
          <p className="error" role="alert">
            {create.error.message}
          </p>
        )}
        <div className="row dialog-actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={create.isPending}>
            Create studio
          </button>
        </div>
      </form>
    </Dialog>
  );
}

/** Picks a studio to work in; only "Open" switches (changing a select must not navigate: WCAG 3.2.2). */
function StudioPicker({ studios, current }: { studios: Studio[]; current: Studio }) {
  const setStudio = usePrefs((s) => s.setStudio);
  const router = useRouter();
  // null: show the current studio (it may change under the picker, e.g. when a page of another studio opens).
  const [picked, setPicked] = useState<number | null>(null);
  const chosen = picked ?? current.id;
  return (
    <form
      className="row studio-picker"
      onSubmit={(e) => {
        e.preventDefault();
        setPicked(null);
        setStudio(chosen);
        router.push("/projects/");
      }}
    >
      <label className="inline small">
        <span className="sr-only">Studio</span>
        <select value={chosen} onChange={(e) => setPicked(Number(e.target.value))}>
          {studios.map((s) => (
            <option key={s.id} value={s.id}>
              {s.name} ({roleLabel(s.role).toLowerCase()})
            </option>
          ))}
        </select>
      </label>
      {chosen !== current.id && (
        <button type="submit" className="small">
          Open
        </button>
      )}
    </form>
  );
}

export function StudioSwitcher() {
  const { studios, current } = useCurrentStudio();
  const [creating, setCreating] = useState(false);
  if (!current) return null;
  return (
    <span className="studio-switcher" data-testid="studio-switcher">
      {studios.length > 1 ? (
        <StudioPicker studios={studios} current={current} />
      ) : (
        <span className="small studio-name" data-testid="studio-name">
          {current.name}
        </span>
      )}
      <Link className="small" href={`/studio/?id=${current.id}`}>
        Members
      </Link>
      <button type="button" className="new-studio small" onClick={() => setCreating(true)}>
        New studio
      </button>
      {creating && <NewStudioDialog onClose={() => setCreating(false)} />}
    </span>
  );
}
