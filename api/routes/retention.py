"""Retention: the owner's preview of what the next nightly run deletes, and the admin's "run it now" trigger."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, status
from pydantic import BaseModel

from api.deps import PaginationDep, SessionDep, SettingsDep, StorageDep, TemporalDep, ViewedProject, superuser
from api.errors import error_responses
from core import retention
from core.models import User
from core.retention import RetentionPreviewPublic
from core.temporal import start_retention_run

router = APIRouter(tags=["retention"])

RetentionAdmin = Annotated[User, Depends(superuser("start a retention run"))]


class RetentionRunPublic(BaseModel):
    workflow_id: str


@router.get("/api/projects/{project_id}/retention-preview/", response_model=RetentionPreviewPublic)
async def retention_preview(
    project: ViewedProject,
    session: SessionDep,
    storage: StorageDep,
    page: PaginationDep,
    scope: Annotated[
        Literal["next_run", "upcoming"],
        Query(description="next_run: what the next run deletes; upcoming: every unprotected asset and when"),
    ] = "next_run",
) -> RetentionPreviewPublic:
    assert project.id is not None
    return await retention.preview_project(
        session,
        storage,
        project.id,
        now=datetime.now(UTC),
        upcoming=scope == "upcoming",
        limit=page.limit,
        offset=page.offset,
    )


@router.post(
    "/api/admin/retention/run/",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=RetentionRunPublic,
    responses=error_responses(403, 503),
)
async def run_retention_now(
    _: RetentionAdmin, settings: SettingsDep, temporal: TemporalDep
) -> RetentionRunPublic:
    return RetentionRunPublic(workflow_id=await start_retention_run(temporal, settings))
