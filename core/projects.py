"""Projects: ownership-scoped reads and writes."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.deletion import DeletedAssets, delete_assets
from core.errors import NotFound
from core.models import Box, Project, StudioRole, User
from core.schemas import ProjectCreate, ProjectPublic, ProjectUpdate
from core.studios import ACCESS, allowed, studio_for_new_project, with_access


async def get_project(
    session: AsyncSession,
    user: User,
    project_id: int,
    needed: StudioRole = StudioRole.VIEWER,
    *,
    lock: bool = False,
) -> Project:
    """The project if `user` is a member of its studio with at least the role `needed` (403 below it); outside
    the studio it is indistinguishable from a missing one."""
    query = select(Project, *ACCESS).where(Project.id == project_id)
    if lock:
        query = query.with_for_update(of=Project)
    project: Project = await allowed(session, query, user, needed, "Project not found.")
    return project


def _box_count() -> Any:
    return (
        select(func.count(col(Box.id)))
        .where(Box.project_id == Project.id)
        .correlate(Project)
        .scalar_subquery()
    )


async def list_projects(
    session: AsyncSession, user: User, limit: int, offset: int, studio_id: int | None = None
) -> tuple[list[ProjectPublic], int]:
    """The projects of every studio `user` belongs to (or of one, `studio_id`), most recently changed first."""
    columns: tuple[Any, ...] = (Project, _box_count(), func.count().over(), *ACCESS)
    query = with_access(select(*columns).select_from(Project), user)
    if studio_id is not None:
        query = query.where(Project.studio_id == studio_id)
    rows = (
        await session.exec(
            query.order_by(col(Project.updated_at).desc(), col(Project.id).desc()).limit(limit).offset(offset)
        )
    ).all()
    if rows:
        total = rows[0][2]
    elif offset > 0:  # past the end: the window function saw no row to count
        count = with_access(select(func.count(col(Project.id))).select_from(Project), user)
        if studio_id is not None:
            count = count.where(Project.studio_id == studio_id)
        total = (await session.exec(count)).one()
    else:
        total = 0
    return [
        to_project_public(project, count, role, studio) for project, count, _, role, studio in rows
    ], total


async def count_boxes(session: AsyncSession, project: Project) -> int:
    return (
        await session.exec(select(func.count()).select_from(Box).where(Box.project_id == project.id))
    ).one()


def to_project_public(project: Project, box_count: int, role: StudioRole, studio_name: str) -> ProjectPublic:
    return ProjectPublic.model_validate(
        {**project.model_dump(), "box_count": box_count, "role": role, "studio_name": studio_name}
    )


async def project_public(session: AsyncSession, user: User, project: Project) -> ProjectPublic:
    """One project as its member sees it (their role there, the studio's name, the shot count)."""
    role, studio_name = (
        await session.exec(
            with_access(select(*ACCESS).select_from(Project), user).where(Project.id == project.id)
        )
    ).one()
    return to_project_public(project, await count_boxes(session, project), role, studio_name)


async def create_project(session: AsyncSession, user: User, body: ProjectCreate) -> Project:
    """In the studio the body names, else the first where the user may create projects (editor or owner)."""
    studio = await studio_for_new_project(session, user, body.studio_id)
    project = Project(
        studio_id=studio.id,  # type: ignore[arg-type]
        created_by_id=user.id,
        name=body.name,
        description=body.description,
    )
    session.add(project)
    await session.flush()
    return project


async def update_project(session: AsyncSession, project: Project, body: ProjectUpdate) -> Project:
    for field, value in body.model_dump(exclude_unset=True, exclude_none=True).items():
        setattr(project, field, value)
    session.add(project)
    await session.flush()
    await session.refresh(project)
    return project


async def delete_project(session: AsyncSession, project: Project) -> DeletedAssets:
    """Delete the project and everything under it (the database cascades), queueing its assets' S3 keys."""
    assert project.id is not None
    # The box writers' lock (see core.boxes): a concurrent box move or delete finishes first, or finds it gone.
    await session.exec(select(Project.id).where(Project.id == project.id).with_for_update(key_share=True))
    deleted = await delete_assets(session, "project", project.id)
    gone = await session.exec(
        sa.delete(Project).where(col(Project.id) == project.id).returning(col(Project.id))
    )
    if gone.first() is None:
        raise NotFound("Project not found.")
    return deleted
