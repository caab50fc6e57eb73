"""Boxes (shots): shot order without gaps or duplicates, shot codes, headliners, and the board listing.

A shot's position is its place in the order; its code (SH010, editable) is its name, kept when shots move."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import joinedload
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.activity import record_headliner, record_shot_deleted, user_name
from core.assets import to_asset_public
from core.contract import AssetStatus
from core.deletion import DeletedAssets, delete_assets
from core.errors import Conflict, InvalidInput, NotFound
from core.events import Outbox, headliner_changed
from core.models import Asset, Box, Project, StudioRole, User, utcnow
from core.schemas import (
    MAX_SHOT_CODE_LENGTH,
    BoxBulkCreate,
    BoxCreate,
    BoxOrderUpdate,
    BoxPublic,
    BoxUpdate,
)
from core.storage import Storage
from core.studios import ACCESS, allowed


async def get_box(
    session: AsyncSession, user: User, box_id: int, needed: StudioRole = StudioRole.VIEWER
) -> Box:
    """The box if `user` may act on it with the role `needed` (core/studios.py)."""
    box: Box = await allowed(
        session,
        select(Box, *ACCESS).join(Project, col(Project.id) == Box.project_id).where(Box.id == box_id),
        user,
        needed,
        "Box not found.",
    )
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


def _names() -> tuple[Any, Any]:
    """Who set the headliner and who requested it, as columns of the box's own row (no query per box)."""
    headliner_requester = (
        select(User.display_name)
        .join(Asset, col(Asset.requested_by_id) == User.id)
        .where(col(Asset.id) == Box.headliner_id)
        .correlate(Box)
        .scalar_subquery()
    )
    return user_name(Box.headliner_set_by_id), headliner_requester


async def list_boxes(
    session: AsyncSession, storage: Storage, project: Project, limit: int, offset: int
) -> tuple[list[BoxPublic], int]:
    """One page of the board in one statement: the boxes, their headliners, asset counts and the page total."""
    rows = (
        await session.exec(
            # sqlmodel types select() up to four columns; this row has five.
            select(Box, _asset_count(), *_names(), func.count().over())  # type: ignore[call-overload]
            .where(Box.project_id == project.id)
            .order_by(col(Box.position))
            .limit(limit)
            .offset(offset)
            .options(_with_headliner())
        )
    ).all()
    if rows:
        total = rows[0][-1]
    elif offset > 0:  # past the end: the window function saw no row to count
        assert project.id is not None
        total = await _box_total(session, project.id)
    else:
        total = 0
    return [
        to_box_public(box, count, storage, set_by, requested_by)
        for box, count, set_by, requested_by, _ in rows
    ], total


async def load_box_public(session: AsyncSession, storage: Storage, box_id: int) -> BoxPublic:
    box, count, set_by, requested_by = (
        await session.exec(
            select(Box, _asset_count(), *_names())
            .where(Box.id == box_id)
            .options(_with_headliner())
            .execution_options(populate_existing=True)
        )
    ).one()
    return to_box_public(box, count, storage, set_by, requested_by)


def to_box_public(
    box: Box,
    asset_count: int,
    storage: Storage,
    headliner_set_by_name: str | None = None,
    headliner_requested_by_name: str | None = None,
) -> BoxPublic:
    return BoxPublic(
        id=box.id,
        project_id=box.project_id,
        position=box.position,
        code=box.code,
        title=box.title,
        notes=box.notes,
        headliner_id=box.headliner_id,
        headliner=to_asset_public(box.headliner, storage, headliner_requested_by_name)
        if box.headliner is not None
        else None,
        headliner_set_by_name=headliner_set_by_name,
        headliner_set_at=box.headliner_set_at,
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


MAX_BULK_BODY_BYTES = 4 * 1024 * 1024
"""Largest body of a bulk create (200 shots with long notes fit many times over)."""

MAX_SHOTS_PER_PROJECT = 1000
"""A storyboard's ceiling: a client spot has tens of shots, a short film a few hundred; the board loads them all (in
pages of 200), so a project is bounded rather than growing until its board cannot be opened."""


def _check_room(total: int, adding: int) -> None:
    if total + adding > MAX_SHOTS_PER_PROJECT:
        room = max(MAX_SHOTS_PER_PROJECT - total, 0)
        raise Conflict(
            f"A project holds at most {MAX_SHOTS_PER_PROJECT} shots; this one has {total}, "
            f"so {room} more can be added. Split the storyboard into another project.",
            details={"field": "boxes"},
        )


CODE_PREFIX = "SH"
CODE_STEP = 10
CODE_DIGITS = 3


def format_code(number: int) -> str:
    return f"{CODE_PREFIX}{number:0{CODE_DIGITS}d}"


def _numbered(code: str) -> int | None:
    """The number of an `SH<digits>` code (any letter case), else None."""
    if code[: len(CODE_PREFIX)].upper() == CODE_PREFIX and code[len(CODE_PREFIX) :].isascii():
        digits = code[len(CODE_PREFIX) :]
        return int(digits) if digits.isdigit() else None
    return None


class CodeSequence:
    """Hands out SH010, SH020, …: the next multiple of 10 above the highest numbered code seen."""

    def __init__(self, codes: list[str]) -> None:
        self.highest = max((n for n in map(_numbered, codes) if n is not None), default=0)

    def next(self) -> str:
        self.highest = (self.highest // CODE_STEP + 1) * CODE_STEP
        code = format_code(self.highest)
        if len(code) > MAX_SHOT_CODE_LENGTH:
            raise InvalidInput(
                f"The project's shot numbers reach {self.highest}: give this shot a code of your own.",
                details={"field": "code"},
            )
        return code


def code_taken(code: str) -> Conflict:
    return Conflict(f"Shot code {code} is already used in this project.", details={"field": "code"})


async def _project_codes(session: AsyncSession, project_id: int) -> list[str]:
    return list((await session.exec(select(Box.code).where(Box.project_id == project_id))).all())


async def _check_code_free(
    session: AsyncSession, project_id: int, code: str, except_box: int | None = None
) -> None:
    query = select(Box.id).where(Box.project_id == project_id, func.lower(Box.code) == code.lower())
    if except_box is not None:
        query = query.where(col(Box.id) != except_box)
    if (await session.exec(query)).first() is not None:
        raise code_taken(code)


async def create_box(session: AsyncSession, project: Project, body: BoxCreate) -> Box:
    """Under the project lock, so two shots created at once get distinct positions and codes."""
    assert project.id is not None
    await _lock_project(session, project.id)
    total = await _box_total(session, project.id)
    _check_room(total, 1)
    position = total + 1 if body.position is None else min(body.position, total + 1)
    if body.code is not None:
        await _check_code_free(session, project.id, body.code)
        code = body.code
    else:
        code = CodeSequence(await _project_codes(session, project.id)).next()
    if position <= total:
        await _shift(session, project.id, position, None, +1)
    box = Box(project_id=project.id, position=position, code=code, title=body.title, notes=body.notes)
    session.add(box)
    await session.flush()
    return box


async def create_boxes(session: AsyncSession, project: Project, body: BoxBulkCreate) -> list[Box]:
    """Append the shots in order, all or none: a code used twice, or already in the project, refuses them all."""
    assert project.id is not None
    await _lock_project(session, project.id)
    existing = await _project_codes(session, project.id)
    total = len(existing)  # one code per shot: the count, without a second query
    _check_room(total, len(body.boxes))
    taken = {code.lower() for code in existing}
    given = [item.code for item in body.boxes if item.code is not None]
    for code in given:
        if code.lower() in taken:
            raise code_taken(code)
        taken.add(code.lower())
    # Codes given in the request count too: an automatic code never takes one a later shot asks for.
    sequence = CodeSequence([*existing, *given])
    boxes = [
        Box(
            project_id=project.id,
            position=total + offset,
            code=item.code if item.code is not None else sequence.next(),
            title=item.title,
            notes=item.notes,
        )
        for offset, item in enumerate(body.boxes, start=1)
    ]
    session.add_all(boxes)
    await session.flush()
    return boxes


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


async def update_box(session: AsyncSession, events: Outbox, actor: User, box: Box, body: BoxUpdate) -> Box:
    """A changed headliner records who changed it and when; its `headliner_changed` event and its line in the
    project's feed leave after the commit."""
    fields = body.model_fields_set
    if "title" in fields and body.title is not None:
        box.title = body.title
    if "notes" in fields and body.notes is not None:
        box.notes = body.notes
    if "code" in fields and body.code is not None and body.code != box.code:
        # Under the project lock, as creating one is: no two writers pick the same code at once.
        await _lock_project(session, box.project_id)
        assert box.id is not None
        await _check_code_free(session, box.project_id, body.code, except_box=box.id)
        box.code = body.code
    new_headliner = "headliner_id" in fields and body.headliner_id != box.headliner_id
    if new_headliner:
        if body.headliner_id is not None:
            await _validate_headliner(session, box, body.headliner_id)
        box.headliner_id = body.headliner_id
        box.headliner_set_by_id, box.headliner_set_at = actor.id, utcnow()
    session.add(box)
    await session.flush()
    if new_headliner:
        assert box.id is not None
        events.queue(
            headliner_changed(project_id=box.project_id, box_id=box.id, headliner_id=box.headliner_id)
        )
        await record_headliner(session, events, actor, box)
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


async def delete_box(session: AsyncSession, events: Outbox, actor: User, box: Box) -> DeletedAssets:
    """Delete the box with its assets and comments, queue the assets' S3 keys, close the gap in the order; the
    project's feed gets one line for the shot (not one per asset).

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
    await record_shot_deleted(session, events, actor, box, len(deleted.asset_ids))
    return deleted


async def get_box_or_404(session: AsyncSession, box_id: int) -> Box:
    box = await session.get(Box, box_id)
    if box is None:
        raise NotFound("Box not found.")
    return box
