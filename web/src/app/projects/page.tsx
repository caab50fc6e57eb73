"use client";
// The projects of the studio chosen in the header's switcher: create (editors and owners), rename (editors),
// delete (owners).
import Link from "next/link";
import { useState, type FormEvent } from "react";
import { useCreateProject, useDeleteProject, useProjects, useUpdateProject, type Project } from "@/api/hooks";
import { useCurrentStudio } from "@/api/studioHooks";
import { Shell } from "@/components/Shell";
import { Empty, ErrorState, Loading } from "@/components/States";
import { can, roleLabel } from "@/lib/roles";

function ProjectRow({ project }: { project: Project }) {
  const [editing, setEditing] = useState(false);
  const [name, setName] = useState(project.name);
  const rename = useUpdateProject();
  const remove = useDeleteProject();
  return (
    <li className="panel" data-testid="project-row">
      {editing ? (
        <form
          className="row grow"
          onSubmit={(e) => {
            e.preventDefault();
            rename.mutate({ id: project.id, name }, { onSuccess: () => setEditing(false) });
          }}
        >
          <input aria-label="Project name" value={name} onChange={(e) => setName(e.target.value)} required autoFocus />
          <button type="submit" disabled={rename.isPending}>Save</button>
          <button type="button" onClick={() => setEditing(false)}>Cancel</button>
        </form>
      ) : (
        <span className="grow">
          <Link href={`/project/?id=${project.id}`}>{project.name}</Link>{" "}
          <span className="small muted">{project.box_count} shots</span>
        </span>
      )}
      {!editing && can(project.role, "editProjects") && <button onClick={() => setEditing(true)}>Rename</button>}
      {can(project.role, "deleteProject") && (
        <button
          className="danger"
          disabled={remove.isPending}
          onClick={() => {
            if (window.confirm(`Delete "${project.name}" with all its shots, assets and comments?`)) remove.mutate(project.id);
          }}
        >
          Delete
        </button>
      )}
      {(rename.error || remove.error) && <span className="error small">{(rename.error ?? remove.error)?.message}</span>}
    </li>
  );
}

function Projects() {
  const { current, isPending: studiosPending } = useCurrentStudio();
  const projects = useProjects(current?.id ?? null, !studiosPending);
  const create = useCreateProject();
  const [name, setName] = useState("");
  const mayCreate = can(current?.role, "editProjects");

  function submit(e: FormEvent) {
    e.preventDefault();
    create.mutate({ name, ...(current && { studio_id: current.id }) }, { onSuccess: () => setName("") });
  }

  return (
    <>
      <h1>Projects</h1>
      {current && (
        <p className="muted" data-testid="projects-studio">
          In <strong>{current.name}</strong>, where you are {roleLabel(current.role).toLowerCase()}.{" "}
          <Link href={`/studio/?id=${current.id}`}>Members</Link>
        </p>
      )}
      {mayCreate ? (
        <form className="row panel" onSubmit={submit}>
          <input aria-label="New project name" placeholder="New project name" value={name} onChange={(e) => setName(e.target.value)} required maxLength={200} />
          <button className="primary" type="submit" disabled={create.isPending}>
            Create project
          </button>
          {create.error && <span className="error">{create.error.message}</span>}
        </form>
      ) : (
        current && <p className="small muted">Viewers read a studio&apos;s projects; an owner can make you an editor to create them.</p>
      )}
      <div style={{ marginTop: 16 }}>
        {projects.isPending ? (
          <Loading />
        ) : projects.isError ? (
          <ErrorState error={projects.error} retry={() => projects.refetch()} />
        ) : projects.data.items.length === 0 ? (
          <Empty>{mayCreate ? "No projects yet. Create one to start breaking your script into shots." : "This studio has no projects yet."}</Empty>
        ) : (
          <ul className="list">
            {projects.data.items.map((p) => (
              <ProjectRow key={p.id} project={p} />
            ))}
          </ul>
        )}
      </div>
    </>
  );
}

export default function ProjectsPage() {
  return (
    <Shell>
      <Projects />
    </Shell>
  );
}
