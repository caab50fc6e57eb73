"""Projects: ownership-scoped reads and writes."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.deletion import DeletedAssets, delete_assets
from core.errors import NotFound
from core.models import Box, Project, User
from core.schemas import ProjectCreate, ProjectPublic, ProjectUpdate


async def get_owned_project(
    session: AsyncSession, user: User, project_id: int, *, lock: bool = False
) -> Project:
    """The project if `user` owns it; someone else's project is indistinguishable from a missing one."""
    query = select(Project).where(Project.id == project_id, Project.owner_id == user.id)
    if lock:
        query = query.with_for_update()
    project = (await session.exec(query)).first()
    if project is None:
        raise NotFound("Project not found.")
    return project


def _box_count() -> Any:
    return (
        select(func.count(col(Box.id)))
        .where(Box.project_id == Project.id)
        .correlate(Project)
        .scalar_subquery()
    )


async def list_projects(
    session: AsyncSession, user: User, limit: int, offset: int
) -> tuple[list[ProjectPublic], int]:
    rows = (
        await session.exec(
            select(Project, _box_count(), func.count().over())
            .where(Project.owner_id == user.id)
            .order_by(col(Project.updated_at).desc(), col(Project.id).desc())
            .limit(limit)
            .offset(offset)
        )
    ).all()
    if rows:
        total = rows[0][2]
    elif offset > 0:  # past the end: the window function saw no row to count
        total = (
            await session.exec(select(func.count()).select_from(Project).where(Project.owner_id == user.id))
        ).one()
    else:
        total = 0
    return [to_project_public(project, count) for project, count, _ in rows], total


async def count_boxes(session: AsyncSession, project: Project) -> int:
    return (
        await session.exec(select(func.count()).select_from(Box).where(Box.project_id == project.id))
    ).one()


def to_project_public(project: Project, box_count: int) -> ProjectPublic:
    return ProjectPublic.model_validate({**project.model_dump(), "box_count": box_count})


async def create_project(session: AsyncSession, user: User, body: ProjectCreate) -> Project:
    project = Project(owner_id=user.id, name=body.name, description=body.description)  # type: ignore[arg-type]
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
