"""Retention: the owner's preview of what the next nightly run deletes, and the admin's "run it now" trigger."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, status
from pydantic import BaseModel

from api.deps import (
    CurrentUser,
    OwnedProject,
    PaginationDep,
    SessionDep,
    SettingsDep,
    StorageDep,
    TemporalDep,
)
from api.errors import error_responses
from core import retention
from core.errors import Forbidden
from core.models import User
from core.retention import RetentionPreview
from core.temporal import start_retention_run

router = APIRouter(tags=["retention"])


def require_superuser(user: CurrentUser) -> User:
    if not user.is_superuser:
        raise Forbidden("Only an administrator can start a retention run.")
    return user


Superuser = Annotated[User, Depends(require_superuser)]


class RetentionRunStarted(BaseModel):
    workflow_id: str


@router.get("/api/projects/{project_id}/retention-preview/", response_model=RetentionPreview)
async def retention_preview(
    project: OwnedProject,
    session: SessionDep,
    storage: StorageDep,
    page: PaginationDep,
    scope: Annotated[
        Literal["next_run", "upcoming"],
        Query(description="next_run: what the next run deletes; upcoming: every unprotected asset and when"),
    ] = "next_run",
) -> RetentionPreview:
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
    response_model=RetentionRunStarted,
    responses=error_responses(403, 503),
)
async def run_retention_now(
    _: Superuser, settings: SettingsDep, temporal: TemporalDep
) -> RetentionRunStarted:
    return RetentionRunStarted(workflow_id=await start_retention_run(temporal, settings))
