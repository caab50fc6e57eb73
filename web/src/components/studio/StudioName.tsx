"use client";
// The studio's name as the page's heading; its owner renames it here.
import { useState } from "react";
import { useUpdateStudio, type Studio } from "@/api/studioHooks";
import { can, roleLabel } from "@/lib/roles";

export function StudioName({ studio }: { studio: Studio }) {
  const rename = useUpdateStudio(studio.id);
  const [editing, setEditing] = useState(false);
  const [name, setName] = useState(studio.name);
  if (editing) {
    return (
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          rename.mutate({ name: name.trim() }, { onSuccess: () => setEditing(false) });
        }}
      >
        <input aria-label="Studio name" value={name} onChange={(e) => setName(e.target.value)} required maxLength={120} autoFocus />
        <button type="submit" className="primary" disabled={rename.isPending}>
          Save
        </button>
        <button type="button" onClick={() => setEditing(false)}>
          Cancel
        </button>
        {rename.error && (
          <p className="error" role="alert">
            {rename.error.message}
          </p>
        )}
      </form>
    );
  }
  return (
    <div className="row">
      <h1 style={{ margin: 0 }}>{studio.name}</h1>
      <span className="small muted">
        {studio.member_count} member{studio.member_count === 1 ? "" : "s"} · you are {roleLabel(studio.role).toLowerCase()}
      </span>
      {can(studio.role, "manageStudio") && (
        <button
          type="button"
          onClick={() => {
            setName(studio.name);
            setEditing(true);
          }}
        >
          Rename
        </button>
      )}
    </div>
  );
}
