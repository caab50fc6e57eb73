"""A project's activity feed: who did what, newest first (the same lines arrive live as `activity` events)."""

from fastapi import APIRouter

from api.deps import PaginationDep, SessionDep, ViewedProject
from core import activity
from core.schemas import ActivityPublic, Page

router = APIRouter(tags=["activity"])


@router.get("/api/projects/{project_id}/activity/", response_model=Page[ActivityPublic])
async def list_activity(
    project: ViewedProject, session: SessionDep, page: PaginationDep
) -> Page[ActivityPublic]:
    items, total = await activity.list_activity(session, project, page.limit, page.offset)
    return Page(
        items=[activity.to_activity_public(item) for item in items],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )
