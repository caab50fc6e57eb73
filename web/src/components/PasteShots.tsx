"use client";
// "Paste shots": a script or a list becomes many shots, previewed before one bulk request creates them.
import { useMemo, useState } from "react";
import { useBulkCreateBoxes } from "@/api/boardHooks";
import { parseScript, MAX_SHOTS } from "@/lib/script";
import { announce } from "./Announcer";
import { Dialog } from "./Dialog";

const plural = (n: number) => `${n} shot${n === 1 ? "" : "s"}`;

export function PasteShots({ projectId }: { projectId: number }) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <button type="button" onClick={() => setOpen(true)}>
        Paste shots
      </button>
      {open && <PasteShotsDialog projectId={projectId} onClose={() => setOpen(false)} />}
    </>
  );
}

function PasteShotsDialog({ projectId, onClose }: { projectId: number; onClose: () => void }) {
  const [text, setText] = useState("");
  const { shots, dropped } = useMemo(() => parseScript(text), [text]);
  const withNotes = shots.some((shot) => shot.notes);
  const create = useBulkCreateBoxes(projectId);

  return (
    <Dialog label="Paste shots" onClose={onClose} className="dialog stack paste-dialog" testId="paste-shots">
      <h2 style={{ margin: 0 }}>Paste shots</h2>
      <p className="small muted">
        One shot per line — or, with blank lines between paragraphs, one per paragraph: its first line is the title, the
        rest the notes. A leading code (&quot;SH030: Title&quot;) names the shot; without one it is numbered after the last.
      </p>
      <textarea
        aria-label="Script or shot list"
        value={text}
        onChange={(e) => setText(e.target.value)}
        rows={8}
        autoFocus
        placeholder={"SH010: Lighthouse at dawn\nKeeper climbs the stairs\n- Beam sweeps the sea"}
      />
      <p className="small" data-testid="paste-count">
        {shots.length === 0 ? "Nothing to create yet." : `${plural(shots.length)} will be created.`}
      </p>
      {dropped > 0 && (
        <p className="notice small">
          At most {MAX_SHOTS} shots at a time: the last {dropped} are left out. Paste them again afterwards.
        </p>
      )}
      {shots.length > 0 && (
        // A Notes column only when some shot has notes: an empty one takes a third of a phone's width.
        <div className="paste-preview">
          <table data-testid="paste-preview">
            <thead>
              <tr>
                <th scope="col">Code</th>
                <th scope="col">Title</th>
                {withNotes && <th scope="col">Notes</th>}
              </tr>
            </thead>
            <tbody>
              {shots.map((shot, i) => (
                <tr key={i}>
                  <td>{shot.code ?? <span className="muted">auto</span>}</td>
                  <td>{shot.title || <span className="muted">Untitled</span>}</td>
                  {withNotes && <td className="small">{shot.notes}</td>}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {create.error && (
        <p className="error" role="alert">
          {create.error.message}
        </p>
      )}
      <div className="row dialog-actions">
        <button type="button" onClick={onClose}>
          Cancel
        </button>
        <button
          type="button"
          className="primary"
          disabled={shots.length === 0 || create.isPending}
          onClick={() =>
            create.mutate(shots, {
              onSuccess: (result) => {
                announce(`${plural(result.items.length)} created.`);
                onClose();
              },
            })
          }
        >
          {create.isPending ? "Creating…" : `Create ${plural(shots.length)}`}
        </button>
      </div>
    </Dialog>
  );
}
