"use client";
import Link from "next/link";
import { useState, type FormEvent } from "react";
import { useCreateProject, useDeleteProject, useProjects, useUpdateProject, type Project } from "@/api/hooks";
import { Shell } from "@/components/Shell";
import { Empty, ErrorState, Loading } from "@/components/States";

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
      {!editing && <button onClick={() => setEditing(true)}>Rename</button>}
      <button
        className="danger"
        disabled={remove.isPending}
        onClick={() => {
          if (window.confirm(`Delete "${project.name}" with all its shots, assets and comments?`)) remove.mutate(project.id);
        }}
      >
        Delete
      </button>
      {(rename.error || remove.error) && <span className="error small">{(rename.error ?? remove.error)?.message}</span>}
    </li>
  );
}

export default function ProjectsPage() {
  const projects = useProjects();
  const create = useCreateProject();
  const [name, setName] = useState("");

  function submit(e: FormEvent) {
    e.preventDefault();
    create.mutate({ name }, { onSuccess: () => setName("") });
  }

  return (
    <Shell>
      <h1>Projects</h1>
      <form className="row panel" onSubmit={submit}>
        <input aria-label="New project name" placeholder="New project name" value={name} onChange={(e) => setName(e.target.value)} required maxLength={200} />
        <button className="primary" type="submit" disabled={create.isPending}>
          Create project
        </button>
        {create.error && <span className="error">{create.error.message}</span>}
      </form>
      <div style={{ marginTop: 16 }}>
        {projects.isPending ? (
          <Loading />
        ) : projects.isError ? (
          <ErrorState error={projects.error} retry={() => projects.refetch()} />
        ) : projects.data.items.length === 0 ? (
          <Empty>No projects yet. Create one to start breaking your script into shots.</Empty>
        ) : (
          <ul className="list">
            {projects.data.items.map((p) => (
              <ProjectRow key={p.id} project={p} />
            ))}
          </ul>
        )}
      </div>
    </Shell>
  );
}
