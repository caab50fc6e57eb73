"""Projects of the current user's studios."""

from typing import Annotated

from fastapi import APIRouter, Query, status

from api.deps import (
    AfterDeletionDep,
    CurrentUser,
    EditedProject,
    ManagedProject,
    PaginationDep,
    SessionDep,
    ViewedProject,
)
from api.errors import error_responses
from core import projects
from core.schemas import MAX_DB_ID, Page, ProjectCreate, ProjectPublic, ProjectUpdate

router = APIRouter(prefix="/api/projects", tags=["projects"])


@router.get("/", response_model=Page[ProjectPublic])
async def list_projects(
    user: CurrentUser,
    session: SessionDep,
    page: PaginationDep,
    studio_id: Annotated[
        int | None, Query(ge=1, le=MAX_DB_ID, description="Only this studio's projects")
    ] = None,
) -> Page[ProjectPublic]:
    """The projects of every studio you belong to (or of one), most recently changed first."""
    items, total = await projects.list_projects(session, user, page.limit, page.offset, studio_id)
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.post(
    "/", status_code=status.HTTP_201_CREATED, response_model=ProjectPublic, responses=error_responses(404)
)
async def create_project(body: ProjectCreate, user: CurrentUser, session: SessionDep) -> ProjectPublic:
    project = await projects.create_project(session, user, body)
    return await projects.project_public(session, user, project)


@router.get("/{project_id}/", response_model=ProjectPublic)
async def read_project(project: ViewedProject, user: CurrentUser, session: SessionDep) -> ProjectPublic:
    return await projects.project_public(session, user, project)


@router.patch("/{project_id}/", response_model=ProjectPublic)
async def update_project(
    project: EditedProject, body: ProjectUpdate, user: CurrentUser, session: SessionDep
) -> ProjectPublic:
    project = await projects.update_project(session, project, body)
    return await projects.project_public(session, user, project)


@router.delete("/{project_id}/", status_code=status.HTTP_204_NO_CONTENT)
async def delete_project(project: ManagedProject, session: SessionDep, after: AfterDeletionDep) -> None:
    """Deletes everything in the project; running generations are cancelled after the commit."""
    after.schedule(await projects.delete_project(session, project))
