"""Projects of the current user."""

from fastapi import APIRouter, status

from api.deps import AfterDeletionDep, CurrentUser, OwnedProject, PaginationDep, SessionDep
from core import projects
from core.schemas import Page, ProjectCreate, ProjectPublic, ProjectUpdate

router = APIRouter(prefix="/api/projects", tags=["projects"])


@router.get("/", response_model=Page[ProjectPublic])
async def list_projects(user: CurrentUser, session: SessionDep, page: PaginationDep) -> Page[ProjectPublic]:
    items, total = await projects.list_projects(session, user, page.limit, page.offset)
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.post("/", status_code=status.HTTP_201_CREATED, response_model=ProjectPublic)
async def create_project(body: ProjectCreate, user: CurrentUser, session: SessionDep) -> ProjectPublic:
    project = await projects.create_project(session, user, body)
    return projects.to_project_public(project, 0)


@router.get("/{project_id}/", response_model=ProjectPublic)
async def read_project(project: OwnedProject, session: SessionDep) -> ProjectPublic:
    return projects.to_project_public(project, await projects.count_boxes(session, project))


@router.patch("/{project_id}/", response_model=ProjectPublic)
async def update_project(project: OwnedProject, body: ProjectUpdate, session: SessionDep) -> ProjectPublic:
    project = await projects.update_project(session, project, body)
    return projects.to_project_public(project, await projects.count_boxes(session, project))


@router.delete("/{project_id}/", status_code=status.HTTP_204_NO_CONTENT)
async def delete_project(project: OwnedProject, session: SessionDep, after: AfterDeletionDep) -> None:
    """Deletes everything in the project; running generations are cancelled after the commit."""
    after.schedule(await projects.delete_project(session, project))
