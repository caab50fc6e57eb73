"""Studios and who may do what in them (docs/roles.md).

Every read or write of a project, box, asset, comment or share link goes through `allowed`: the object is found
only through a membership of the caller in the project's studio (anyone else gets the same 404 as for a missing
object), and a member whose role is below the one needed gets a 403 that names it."""

from __future__ import annotations

from typing import Any, TypeVar

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.errors import Forbidden, NotFound
from core.models import Membership, Project, Studio, StudioRole, User

T = TypeVar("T")

ARTICLES = {StudioRole.VIEWER: "a viewer", StudioRole.EDITOR: "an editor", StudioRole.OWNER: "an owner"}


def role_refusal(needed: StudioRole, role: StudioRole, studio_name: str) -> Forbidden:
    return Forbidden(
        f"This needs the {needed.value} role in {studio_name}; you are {ARTICLES[role]} there.",
        details={"needed_role": needed.value, "role": role.value},
    )


def require_role(role: StudioRole, needed: StudioRole, studio_name: str) -> None:
    if not role.allows(needed):
        raise role_refusal(needed, role, studio_name)


# What a query reading through a membership selects after its own columns: the caller's role, the studio's name.
ACCESS = (col(Membership.role), col(Studio.name))


def with_access(query: Any, user: User) -> Any:
    """`query` (which reaches Project and selects ACCESS last) limited to the studios the caller belongs to."""
    return query.join(
        Membership,
        sa.and_(col(Membership.studio_id) == Project.studio_id, col(Membership.user_id) == user.id),
    ).join(Studio, col(Studio.id) == Project.studio_id)


async def allowed(session: AsyncSession, query: Any, user: User, needed: StudioRole, missing: str) -> Any:
    """The object `query` selects (`select(X, *ACCESS)`, reaching Project) if the caller's role allows
    `needed`: NotFound (`missing`) outside the studio, Forbidden below the role."""
    row = (await session.exec(with_access(query, user))).first()
    if row is None:
        raise NotFound(missing)
    found, role, studio_name = row
    require_role(role, needed, studio_name)
    return found


def member_studio_ids(user: User) -> Any:
    """The studios `user` belongs to, as a subquery for `.in_()`."""
    return select(Membership.studio_id).where(Membership.user_id == user.id)


def personal_studio_name(user: User) -> str:
    return f"{user.display_name}'s studio"[:120]


async def create_studio(session: AsyncSession, user: User, name: str) -> Studio:
    """A studio with `user` as its owner."""
    studio = Studio(name=name, created_by_id=user.id)
    session.add(studio)
    await session.flush()
    assert studio.id is not None and user.id is not None
    session.add(Membership(studio_id=studio.id, user_id=user.id, role=StudioRole.OWNER))
    await session.flush()
    return studio


async def role_in(session: AsyncSession, user: User, studio_id: int) -> StudioRole | None:
    role = (
        await session.exec(
            select(Membership.role).where(Membership.studio_id == studio_id, Membership.user_id == user.id)
        )
    ).first()
    return StudioRole(role) if role is not None else None


async def default_studio_for_projects(session: AsyncSession, user: User) -> Studio:
    """Where a new project goes when the request names no studio: the first studio the user joined where they
    may create projects (their personal one, unless they left it)."""
    studio = (
        await session.exec(
            select(Studio)
            .join(Membership, col(Membership.studio_id) == Studio.id)
            .where(
                Membership.user_id == user.id,
                col(Membership.role).in_([StudioRole.EDITOR, StudioRole.OWNER]),
            )
            .order_by(col(Membership.id))
        )
    ).first()
    if studio is None:
        raise Forbidden(
            "Creating a project needs the editor role in a studio; you are only a viewer in yours."
        )
    return studio


async def studio_for_new_project(session: AsyncSession, user: User, studio_id: int | None) -> Studio:
    if studio_id is None:
        return await default_studio_for_projects(session, user)
    row = (
        await session.exec(
            select(Studio, Membership.role)
            .join(Membership, col(Membership.studio_id) == Studio.id)
            .where(Studio.id == studio_id, Membership.user_id == user.id)
        )
    ).first()
    if row is None:
        raise NotFound("Studio not found.")
    studio, role = row
    require_role(StudioRole(role), StudioRole.EDITOR, studio.name)
    return studio
