"""Studios and who may do what in them (docs/roles.md).

Every read or write of a project, box, asset, comment or share link goes through `allowed`: the object is found
only through a membership of the caller in the project's studio (anyone else gets the same 404 as for a missing
object), and a member whose role is below the one needed gets a 403 that names it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core import spend
from core.errors import Conflict, Forbidden, NotFound
from core.models import CreditCharge, Membership, Project, Studio, StudioRole, User
from core.schemas import MemberPublic, StudioPublic, StudioUpdate

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
            "Creating a project needs the editor role in a studio, and you belong to no studio where you have "
            "it: create a studio of your own (you will be its owner) or ask a studio's owner to make you an "
            "editor.",
            details={"needed_role": StudioRole.EDITOR.value},
        )
    return studio


async def studio_for_new_project(session: AsyncSession, user: User, studio_id: int | None) -> Studio:
    if studio_id is None:
        return await default_studio_for_projects(session, user)
    return (await get_studio(session, user, studio_id, StudioRole.EDITOR)).studio


# --- studios and their members (api/routes/studios.py, docs/studios.md) ------------------------------------------

MAX_STUDIOS_PER_USER = 20
"""Studios one person may own at once (their personal one counts): a cap on rows made for nothing. Leaving a
studio, or deleting it, frees room."""

LAST_OWNER = (
    "{studio} needs at least one owner: make another member an owner first, or delete its projects and then "
    "the studio."
)


@dataclass(frozen=True)
class StudioAccess:
    """A studio as one of its members reaches it, with that member's role."""

    studio: Studio
    role: StudioRole

    @property
    def studio_id(self) -> int:
        assert self.studio.id is not None
        return self.studio.id


async def get_studio(session: AsyncSession, user: User, studio_id: int, needed: StudioRole) -> StudioAccess:
    """The studio if `user` is a member whose role allows `needed`: NotFound outside it, Forbidden below."""
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
    require_role(StudioRole(role), needed, studio.name)
    return StudioAccess(studio, StudioRole(role))


async def lock_studio(session: AsyncSession, studio_id: int) -> None:
    """Serialise changes to a studio's members (until the commit): two owners demoting or removing each other at
    once must not both pass the "another owner is left" check. FOR NO KEY UPDATE: it serialises with the budget
    check's lock (core/spend.py) but lets rows pointing at the studio (a new project, an invite) be inserted."""
    await session.exec(select(Studio.id).where(Studio.id == studio_id).with_for_update(key_share=True))


async def studio_spent_today(session: AsyncSession, studio_id: int, now: datetime) -> float:
    return await spend.spent_today_where(session, col(CreditCharge.studio_id) == studio_id, now)


async def _member_counts(session: AsyncSession, studio_ids: list[int]) -> dict[int, int]:
    rows = (
        await session.exec(
            select(Membership.studio_id, func.count())
            .where(col(Membership.studio_id).in_(studio_ids))
            .group_by(col(Membership.studio_id))
        )
    ).all()
    return dict(rows)


async def studios_public(
    session: AsyncSession, accesses: list[StudioAccess], now: datetime
) -> list[StudioPublic]:
    """Member counts and today's spend in one query each, however many studios."""
    ids = [access.studio_id for access in accesses]
    counts = await _member_counts(session, ids) if ids else {}
    spent = await spend.spent_today_by_studio(session, ids, now) if ids else {}
    return [
        StudioPublic(
            id=access.studio_id,
            name=access.studio.name,
            role=access.role,
            member_count=counts.get(access.studio_id, 0),
            daily_credit_budget=access.studio.daily_credit_budget,
            spent_today=spent.get(access.studio_id, 0.0),
            created_at=access.studio.created_at,
        )
        for access in accesses
    ]


async def studio_public(session: AsyncSession, access: StudioAccess, now: datetime) -> StudioPublic:
    return (await studios_public(session, [access], now))[0]


async def list_studios(
    session: AsyncSession, user: User, limit: int, offset: int, now: datetime
) -> tuple[list[StudioPublic], int]:
    """The caller's studios, oldest membership first."""
    mine = select(Studio, Membership.role).join(Membership, col(Membership.studio_id) == Studio.id)
    mine = mine.where(Membership.user_id == user.id)
    rows = (await session.exec(mine.order_by(col(Membership.id)).limit(limit).offset(offset))).all()
    total = (
        await session.exec(select(func.count()).select_from(Membership).where(Membership.user_id == user.id))
    ).one()
    accesses = [StudioAccess(studio, StudioRole(role)) for studio, role in rows]
    return await studios_public(session, accesses, now), total


async def create_own_studio(session: AsyncSession, user: User, name: str) -> StudioAccess:
    """A new studio with the caller as its owner (at most MAX_STUDIOS_PER_USER owned at once)."""
    # The user's row lock makes the count and the insert one step for concurrent requests of one person.
    await session.exec(select(User.id).where(User.id == user.id).with_for_update(key_share=True))
    owned = (
        await session.exec(
            select(func.count())
            .select_from(Membership)
            .where(Membership.user_id == user.id, Membership.role == StudioRole.OWNER)
        )
    ).one()
    if owned >= MAX_STUDIOS_PER_USER:
        raise Conflict(
            f"You own {owned} studios, the most one person may: delete one you no longer use (once its projects "
            "are deleted), or make another member an owner of one and leave it.",
            details={"max_studios": MAX_STUDIOS_PER_USER},
        )
    return StudioAccess(await create_studio(session, user, name), StudioRole.OWNER)


async def update_studio(session: AsyncSession, access: StudioAccess, body: StudioUpdate) -> StudioAccess:
    studio = access.studio
    if body.name is not None:
        studio.name = body.name
    if "daily_credit_budget" in body.model_fields_set:
        studio.daily_credit_budget = body.daily_credit_budget
    session.add(studio)
    await session.flush()
    await session.refresh(studio)
    return access


async def delete_studio(session: AsyncSession, access: StudioAccess) -> None:
    """Delete a studio that has no projects (Conflict otherwise); its memberships and invites go with it, the
    charges made for it stay (without the studio) in their members' daily spend."""
    # FOR UPDATE (not the members' lock): no project may be created in it between the count and the delete.
    await session.exec(select(Studio.id).where(Studio.id == access.studio_id).with_for_update())
    projects = (
        await session.exec(
            select(func.count()).select_from(Project).where(Project.studio_id == access.studio_id)
        )
    ).one()
    if projects:
        raise Conflict(
            f"{access.studio.name} still has {projects} project{'s' if projects != 1 else ''}: delete "
            f"{'them' if projects != 1 else 'it'} first (no project moves between studios), then the studio.",
            details={"reason": "has_projects", "projects": projects},
        )
    await session.exec(sa.delete(Studio).where(col(Studio.id) == access.studio_id))
    await session.flush()


def _member_public(membership: Membership, member: User) -> MemberPublic:
    assert member.id is not None
    return MemberPublic(
        user_id=member.id,
        display_name=member.display_name,
        email=member.email,
        role=membership.role,
        joined_at=membership.created_at,
    )


async def list_members(
    session: AsyncSession, access: StudioAccess, limit: int, offset: int
) -> tuple[list[MemberPublic], int]:
    """Owners first, then editors, then viewers; each by when they joined."""
    rank = sa.case(
        (col(Membership.role) == StudioRole.OWNER, 0), (col(Membership.role) == StudioRole.EDITOR, 1), else_=2
    )
    rows = (
        await session.exec(
            select(Membership, User)
            .join(User, col(User.id) == Membership.user_id)
            .where(Membership.studio_id == access.studio_id)
            .order_by(rank, col(Membership.id))
            .limit(limit)
            .offset(offset)
        )
    ).all()
    total = (
        await session.exec(
            select(func.count()).select_from(Membership).where(Membership.studio_id == access.studio_id)
        )
    ).one()
    return [_member_public(membership, member) for membership, member in rows], total


async def _locked_member(
    session: AsyncSession, access: StudioAccess, actor: User, user_id: int
) -> Membership:
    """Lock the studio, then check again (under the lock) that the actor may still manage it, or is `user_id`
    themself; the member's row, or NotFound."""
    await lock_studio(session, access.studio_id)
    own = await role_in(session, actor, access.studio_id)
    if own is None:
        raise NotFound("Studio not found.")
    if actor.id != user_id:
        require_role(own, StudioRole.OWNER, access.studio.name)
    membership = (
        await session.exec(
            select(Membership).where(Membership.studio_id == access.studio_id, Membership.user_id == user_id)
        )
    ).first()
    if membership is None:
        raise NotFound("This person is not a member of the studio.")
    return membership


async def _refuse_losing_last_owner(
    session: AsyncSession, access: StudioAccess, membership: Membership
) -> None:
    if membership.role is not StudioRole.OWNER:
        return
    owners = (
        await session.exec(
            select(func.count())
            .select_from(Membership)
            .where(Membership.studio_id == access.studio_id, Membership.role == StudioRole.OWNER)
        )
    ).one()
    if owners <= 1:
        raise Conflict(LAST_OWNER.format(studio=access.studio.name), details={"reason": "last_owner"})


async def change_role(
    session: AsyncSession, access: StudioAccess, actor: User, user_id: int, role: StudioRole
) -> MemberPublic:
    membership = await _locked_member(session, access, actor, user_id)
    if actor.id == user_id and membership.role is not StudioRole.OWNER:
        raise role_refusal(StudioRole.OWNER, membership.role, access.studio.name)
    if not role.allows(StudioRole.OWNER):
        await _refuse_losing_last_owner(session, access, membership)
    membership.role = role
    session.add(membership)
    await session.flush()
    member = await session.get(User, user_id)
    assert member is not None
    return _member_public(membership, member)


@dataclass(frozen=True)
class RemovedMember:
    user_id: int
    project_ids: list[int]
    """The studio's projects, whose sockets of that member must close."""


async def remove_member(
    session: AsyncSession, access: StudioAccess, actor: User, user_id: int
) -> RemovedMember:
    """Remove a member (an owner doing it) or leave (anyone, themself)."""
    membership = await _locked_member(session, access, actor, user_id)
    await _refuse_losing_last_owner(session, access, membership)
    await session.delete(membership)
    await session.flush()
    ids = await session.exec(select(Project.id).where(Project.studio_id == access.studio_id))
    return RemovedMember(user_id, [project_id for project_id in ids.all() if project_id is not None])


async def is_member_of_project_studio(session: AsyncSession, user_id: int, project_id: int) -> bool:
    found = (
        await session.exec(
            select(Membership.id)
            .join(Project, col(Project.studio_id) == Membership.studio_id)
            .where(Project.id == project_id, Membership.user_id == user_id)
        )
    ).first()
    return found is not None
