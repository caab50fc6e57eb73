"""Member invites: an owner's single-use, expiring link (`/join/?token=<uuid4>`) that brings someone into a studio
with a role, whether they are logged in (join) or not yet registered (core/invites.py registers them with it).

An invite is consumed by a conditional UPDATE (`… WHERE used_at IS NULL AND expires_at > now()`) in the
transaction that adds the membership, under the studio's row lock: of two joins racing with one invite the second
finds it used, and a join that fails (already a member) leaves it unused."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.errors import Conflict, Gone, NotFound
from core.models import Membership, Studio, StudioInvite, User, utcnow
from core.schemas import JoinInfoPublic, StudioInviteCreate, StudioInvitePublic, StudioInviteStatus
from core.settings import Settings
from core.studios import StudioAccess, lock_studio

MAX_OPEN_INVITES = 50
"""Open (unused, unexpired) invites per studio: enough for any team, a cap on rows made for nothing."""

UNKNOWN = (
    "This invite link is not valid: check that it was copied whole, or ask the studio's owner for a new one."
)
USED = "This invite link has already been used: ask the studio's owner for a new one."
EXPIRED = "This invite link has expired: ask the studio's owner for a new one."


def join_link(settings: Settings, token: uuid.UUID) -> str:
    return f"{settings.public_base_url.rstrip('/')}/join/?token={token}"


def invite_status(invite: StudioInvite, now: datetime) -> StudioInviteStatus:
    if invite.used_at is not None:
        return StudioInviteStatus.USED
    if invite.expires_at <= now:
        return StudioInviteStatus.EXPIRED
    return StudioInviteStatus.OPEN


def refuse_unusable(invite: StudioInvite | None, now: datetime) -> StudioInvite:
    """The invite if it may still be used: NotFound when unknown, Gone (410) when used or expired."""
    if invite is None:
        raise NotFound(UNKNOWN, details={"invite": "unknown"})
    status = invite_status(invite, now)
    if status is StudioInviteStatus.USED:
        raise Gone(USED, details={"invite": status.value})
    if status is StudioInviteStatus.EXPIRED:
        raise Gone(EXPIRED, details={"invite": status.value})
    return invite


async def find_invite(session: AsyncSession, text: str) -> StudioInvite | None:
    try:
        token = uuid.UUID(text.strip())
    except ValueError:
        return None
    return (await session.exec(select(StudioInvite).where(StudioInvite.token == token))).first()


# --- an owner's invites ----------------------------------------------------------------------------------------

_creator = aliased(User)
_user = aliased(User)


def _invite_public(
    settings: Settings, invite: StudioInvite, created_by: str | None, used_by: str | None, now: datetime
) -> StudioInvitePublic:
    assert invite.id is not None
    return StudioInvitePublic(
        id=invite.id,
        token=invite.token,
        link=join_link(settings, invite.token),
        role=invite.role,
        expires_at=invite.expires_at,
        used_at=invite.used_at,
        used_by_name=used_by,
        created_by_name=created_by,
        created_at=invite.created_at,
        status=invite_status(invite, now),
    )


async def create_invite(
    session: AsyncSession,
    settings: Settings,
    access: StudioAccess,
    owner: User,
    body: StudioInviteCreate,
    now: datetime,
) -> StudioInvitePublic:
    await lock_studio(session, access.studio_id)  # the count and the insert as one step
    open_invites = (
        await session.exec(
            select(func.count())
            .select_from(StudioInvite)
            .where(
                StudioInvite.studio_id == access.studio_id,
                col(StudioInvite.used_at).is_(None),
                col(StudioInvite.expires_at) > now,
            )
        )
    ).one()
    if open_invites >= MAX_OPEN_INVITES:
        raise Conflict(
            f"{access.studio.name} has {open_invites} open invites, the most a studio may have; revoke some "
            "that nobody will use, then try again.",
            details={"max_open_invites": MAX_OPEN_INVITES},
        )
    invite = StudioInvite(
        studio_id=access.studio_id,
        role=body.role,
        created_by_id=owner.id,
        expires_at=now + timedelta(hours=body.expires_in_hours),
    )
    session.add(invite)
    await session.flush()
    await session.refresh(invite)
    return _invite_public(settings, invite, owner.display_name, None, now)


async def list_invites(
    session: AsyncSession, settings: Settings, access: StudioAccess, limit: int, offset: int, now: datetime
) -> tuple[list[StudioInvitePublic], int]:
    """Newest first, used and expired ones included."""
    rows = (
        await session.exec(
            select(StudioInvite, _creator.display_name, _user.display_name)
            .outerjoin(_creator, col(_creator.id) == StudioInvite.created_by_id)
            .outerjoin(_user, col(_user.id) == StudioInvite.used_by_id)
            .where(StudioInvite.studio_id == access.studio_id)
            .order_by(col(StudioInvite.id).desc())
            .limit(limit)
            .offset(offset)
        )
    ).all()
    total = (
        await session.exec(
            select(func.count()).select_from(StudioInvite).where(StudioInvite.studio_id == access.studio_id)
        )
    ).one()
    return [_invite_public(settings, invite, by, used, now) for invite, by, used in rows], total


async def revoke_invite(session: AsyncSession, access: StudioAccess, invite_id: int) -> None:
    """Delete an unused invite. A used one stays as the record of who joined through it (409); under the studio's
    lock, so a join racing this one either finds the invite gone or has used it first."""
    await lock_studio(session, access.studio_id)
    deleted = await session.exec(
        sa.delete(StudioInvite)
        .where(
            col(StudioInvite.id) == invite_id,
            col(StudioInvite.studio_id) == access.studio_id,
            col(StudioInvite.used_at).is_(None),
        )
        .returning(col(StudioInvite.id))
    )
    if deleted.first() is not None:
        return
    used = await session.exec(
        select(StudioInvite.id).where(
            StudioInvite.id == invite_id, StudioInvite.studio_id == access.studio_id
        )
    )
    if used.first() is None:
        raise NotFound("Invite not found.")
    raise Conflict(
        "This invite has been used already, so it stays as the record of who joined through it; to take that "
        "person's access away, remove them from the members.",
        details={"reason": "invite_used"},
    )


# --- joining ---------------------------------------------------------------------------------------------------


async def join_info(
    session: AsyncSession, text: str, registration_open: bool, now: datetime
) -> JoinInfoPublic:
    invite = await find_invite(session, text)
    if invite is None:
        raise NotFound(UNKNOWN, details={"invite": "unknown"})
    studio = await session.get(Studio, invite.studio_id)
    creator = await session.get(User, invite.created_by_id) if invite.created_by_id is not None else None
    assert studio is not None
    status = invite_status(invite, now)
    assert studio.id is not None
    return JoinInfoPublic(
        studio_id=studio.id,
        studio_name=studio.name,
        role=invite.role,
        status=status,
        expires_at=invite.expires_at,
        invited_by=creator.display_name if creator is not None else None,
        registration_open=registration_open and status is StudioInviteStatus.OPEN,
    )


async def join(session: AsyncSession, user: User, text: str, now: datetime) -> StudioAccess:
    """Make `user` a member with the invite's role and use the invite up (one transaction, the caller's).
    Already a member: Conflict, the invite stays unused."""
    invite = refuse_unusable(await find_invite(session, text), now)
    studio_id = invite.studio_id
    await lock_studio(session, studio_id)
    studio = await session.get(Studio, studio_id)
    assert studio is not None and user.id is not None
    member = await session.exec(
        select(Membership.id).where(Membership.studio_id == studio_id, Membership.user_id == user.id)
    )
    if member.first() is not None:
        raise Conflict(
            f"You are already a member of {studio.name}; the invite is left unused for someone else.",
            details={"reason": "already_member"},
        )
    claimed = await session.exec(
        sa.update(StudioInvite)
        .where(
            col(StudioInvite.id) == invite.id,
            col(StudioInvite.used_at).is_(None),
            col(StudioInvite.expires_at) > sa.func.now(),
        )
        .values(used_at=sa.func.now(), used_by_id=user.id, updated_at=sa.func.now())
        .returning(col(StudioInvite.id))
    )
    if claimed.first() is None:  # used, expired or revoked by the time the lock was ours
        now_row = await session.exec(
            select(StudioInvite).where(StudioInvite.id == invite.id).execution_options(populate_existing=True)
        )
        refuse_unusable(now_row.first(), utcnow())
        raise Gone(USED, details={"invite": "used"})
    session.add(Membership(studio_id=studio_id, user_id=user.id, role=invite.role))
    await session.flush()
    return StudioAccess(studio, invite.role)
