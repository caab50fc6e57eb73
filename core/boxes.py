"""Boxes (shots): shot order without gaps or duplicates, headliners, and the board listing."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import joinedload
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.assets import to_asset_public
from core.contract import AssetStatus
from core.deletion import DeletedAssets, delete_assets
from core.errors import InvalidInput, NotFound
from core.models import Asset, Box, Project, User
from core.schemas import BoxCreate, BoxOrderUpdate, BoxPublic, BoxUpdate
from core.storage import Storage


async def get_owned_box(session: AsyncSession, user: User, box_id: int) -> Box:
    box = (
        await session.exec(select(Box).join(Project).where(Box.id == box_id, Project.owner_id == user.id))
    ).first()
    if box is None:
        raise NotFound("Box not found.")
    return box


async def _lock_project(session: AsyncSession, project_id: int) -> None:
    """Serialise position changes within one project.

    FOR NO KEY UPDATE: it excludes the other box writers but not the foreign-key checks of rows being inserted
    under the project (a comment, a box), which would otherwise deadlock with a box delete waiting for them.
    """
    await session.exec(select(Project.id).where(Project.id == project_id).with_for_update(key_share=True))


def _asset_count() -> Any:
    return select(func.count(col(Asset.id))).where(Asset.box_id == Box.id).correlate(Box).scalar_subquery()


def _with_headliner() -> Any:
    """The headliner and its model in the same statement (LEFT OUTER JOINs on many-to-one: no extra rows)."""
    return joinedload(Box.headliner).joinedload(Asset.model)  # type: ignore[arg-type]


async def list_boxes(
    session: AsyncSession, storage: Storage, project: Project, limit: int, offset: int
) -> tuple[list[BoxPublic], int]:
    """One page of the board in one statement: the boxes, their headliners, asset counts and the page total."""
    rows = (
        await session.exec(
            select(Box, _asset_count(), func.count().over())
            .where(Box.project_id == project.id)
            .order_by(col(Box.position))
            .limit(limit)
            .offset(offset)
            .options(_with_headliner())
        )
    ).all()
    if rows:
        total = rows[0][2]
    elif offset > 0:  # past the end: the window function saw no row to count
        assert project.id is not None
        total = await _box_total(session, project.id)
    else:
        total = 0
    return [to_box_public(box, count, storage) for box, count, _ in rows], total


async def load_box_public(session: AsyncSession, storage: Storage, box_id: int) -> BoxPublic:
    box, count = (
        await session.exec(
            select(Box, _asset_count())
            .where(Box.id == box_id)
            .options(_with_headliner())
            .execution_options(populate_existing=True)
        )
    ).one()
    return to_box_public(box, count, storage)


def to_box_public(box: Box, asset_count: int, storage: Storage) -> BoxPublic:
    return BoxPublic(
        id=box.id,
        project_id=box.project_id,
        position=box.position,
        title=box.title,
        notes=box.notes,
        headliner_id=box.headliner_id,
        headliner=to_asset_public(box.headliner, storage) if box.headliner is not None else None,
        asset_count=asset_count,
        created_at=box.created_at,
        updated_at=box.updated_at,
    )


async def _box_total(session: AsyncSession, project_id: int) -> int:
    return (
        await session.exec(select(func.count()).select_from(Box).where(Box.project_id == project_id))
    ).one()


async def _shift(session: AsyncSession, project_id: int, start: int, end: int | None, delta: int) -> None:
    """Add `delta` to the positions in [start, end] (end open when None). The unique constraint is deferred."""
    condition: list[Any] = [col(Box.project_id) == project_id, col(Box.position) >= start]
    if end is not None:
        condition.append(col(Box.position) <= end)
    await session.exec(sa.update(Box).where(*condition).values(position=col(Box.position) + delta))


async def create_box(session: AsyncSession, project: Project, body: BoxCreate) -> Box:
    assert project.id is not None
    await _lock_project(session, project.id)
    total = await _box_total(session, project.id)
    position = total + 1 if body.position is None else min(body.position, total + 1)
    if position <= total:
        await _shift(session, project.id, position, None, +1)
    box = Box(project_id=project.id, position=position, title=body.title, notes=body.notes)
    session.add(box)
    await session.flush()
    return box


async def _move_box(session: AsyncSession, box: Box, target: int) -> None:
    total = await _box_total(session, box.project_id)
    target = min(target, total)
    current = box.position
    if target == current:
        return
    if target < current:
        await _shift(session, box.project_id, target, current - 1, +1)
    else:
        await _shift(session, box.project_id, current + 1, target, -1)
    await session.exec(sa.update(Box).where(col(Box.id) == box.id).values(position=target))


async def _validate_headliner(session: AsyncSession, box: Box, asset_id: int) -> None:
    asset = await session.get(Asset, asset_id)
    if asset is None and (await session.exec(select(Box.id).where(Box.id == box.id))).first() is None:
        raise NotFound("Box not found.")  # another tab deleted the shot (and its assets) meanwhile
    if asset is None or asset.box_id != box.id:
        raise InvalidInput("The headliner must be an asset of this box.", details={"field": "headliner_id"})
    if asset.status is not AssetStatus.COMPLETED:
        raise InvalidInput("Only a completed asset can be the headliner.", details={"field": "headliner_id"})


async def update_box(session: AsyncSession, box: Box, body: BoxUpdate) -> Box:
    fields = body.model_fields_set
    if "title" in fields and body.title is not None:
        box.title = body.title
    if "notes" in fields and body.notes is not None:
        box.notes = body.notes
    if "headliner_id" in fields:
        if body.headliner_id is not None:
            await _validate_headliner(session, box, body.headliner_id)
        box.headliner_id = body.headliner_id
    session.add(box)
    await session.flush()
    if "position" in fields and body.position is not None:
        await _lock_project(session, box.project_id)
        # Its current position (another tab may have moved it), or gone (another tab deleted it).
        current = (
            await session.exec(select(Box).where(Box.id == box.id).execution_options(populate_existing=True))
        ).first()
        if current is None:
            raise NotFound("Box not found.")
        await _move_box(session, current, body.position)
    await session.flush()
    return box


async def reorder_boxes(session: AsyncSession, project: Project, body: BoxOrderUpdate) -> None:
    assert project.id is not None
    await _lock_project(session, project.id)
    ids = list((await session.exec(select(Box.id).where(Box.project_id == project.id))).all())
    if len(body.box_ids) != len(set(body.box_ids)):
        raise InvalidInput("box_ids lists a box more than once.", details={"field": "box_ids"})
    if set(body.box_ids) != set(ids):
        raise InvalidInput(
            "box_ids must list every box of the project exactly once.", details={"field": "box_ids"}
        )
    mapping = {box_id: position for position, box_id in enumerate(body.box_ids, start=1)}
    await session.exec(
        sa.update(Box)
        .where(col(Box.project_id) == project.id)
        .values(position=sa.case(mapping, value=col(Box.id)))
    )
    await session.flush()


async def delete_box(session: AsyncSession, box: Box) -> DeletedAssets:
    """Delete the box with its assets and comments, queue the assets' S3 keys, close the gap in the order.

    Under the project lock, so the position removed is the current one (not one read before a concurrent move);
    a box another tab deleted meanwhile answers 404.
    """
    assert box.id is not None
    await _lock_project(session, box.project_id)
    deleted = await delete_assets(session, "box", box.id)
    position = (
        await session.exec(sa.delete(Box).where(col(Box.id) == box.id).returning(col(Box.position)))
    ).first()
    if position is None:
        raise NotFound("Box not found.")
    await _shift(session, box.project_id, position[0] + 1, None, -1)
    return deleted


async def get_box_or_404(session: AsyncSession, box_id: int) -> Box:
    box = await session.get(Box, box_id)
    if box is None:
        raise NotFound("Box not found.")
    return box
