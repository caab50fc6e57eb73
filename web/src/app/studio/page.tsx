"use client";
// A studio's page (`/studio/?id=N`): its name, members and roles, invites (owners) and daily budget.
import Link from "next/link";
import { Suspense } from "react";
import { useStudio } from "@/api/studioHooks";
import { Shell } from "@/components/Shell";
import { ErrorState, Loading } from "@/components/States";
import { Budget } from "@/components/studio/Budget";
import { Invites } from "@/components/studio/Invites";
import { Members } from "@/components/studio/Members";
import { StudioName } from "@/components/studio/StudioName";
import { useIdParam } from "@/lib/params";
import { can } from "@/lib/roles";
import "@/styles/studio.css";

function StudioView() {
  const id = useIdParam();
  const studio = useStudio(id);
  const crumbs = (
    <>
      <Link href="/projects/">Projects</Link> / <span>{studio.data?.name ?? "…"}</span>
    </>
  );
  return (
    <Shell crumbs={crumbs}>
      {!id ? (
        <ErrorState error={new Error("No studio selected")} />
      ) : studio.isPending ? (
        <Loading />
      ) : studio.isError ? (
        <ErrorState error={studio.error} retry={() => studio.refetch()} />
      ) : (
        <div className="studio-page stack">
          <StudioName key={studio.data.name} studio={studio.data} />
          <div className="studio-layout">
            <div className="stack">
              <Members studio={studio.data} />
              {can(studio.data.role, "manageMembers") && <Invites studio={studio.data} />}
            </div>
            <Budget studio={studio.data} />
          </div>
        </div>
      )}
    </Shell>
  );
}

export default function StudioPage() {
  return (
    <Suspense fallback={<p className="main muted">Loading…</p>}>
      <StudioView />
    </Suspense>
  );
}
