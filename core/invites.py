"""Invites and registration modes: who may sign up (open, invite-only, closed) and single-use expiring invite links.

An invite is consumed by a conditional UPDATE (`… WHERE used_at IS NULL AND expires_at > now()`) in the same
transaction that inserts the new user: of two registrations racing with one invite, the second waits on the row
lock and then finds it used; a registration that fails (a taken email) rolls the claim back with it.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from enum import StrEnum

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core import studio_invites
from core.errors import Forbidden, Gone
from core.models import Invite, User, utcnow
from core.schemas import StudioInviteStatus, UserRegister
from core.settings import RegistrationMode, Settings
from core.users import register_user

NEEDS_INVITE = "Registration is by invitation: ask your studio's administrator for a link."
CLOSED = "Registration is closed on this server: ask its administrator for an account, or log in."
UNKNOWN_INVITE = "This invite link is not valid: check that it was copied whole, or ask for a new one."
STUDIO_INVITE_NEEDS_ACCOUNT = (
    "Registration is by invitation from an administrator; a studio's invite lets only existing accounts join: ask "
    "an administrator for a registration link, then open the studio's invite again once you are logged in."
)
USED_INVITE = "This invite link has already been used: ask your studio's administrator for a new one."
EXPIRED_INVITE = "This invite link has expired: ask your studio's administrator for a new one."


class InviteStatus(StrEnum):
    VALID = "valid"
    USED = "used"
    EXPIRED = "expired"
    UNKNOWN = "unknown"


class RegistrationPublic(BaseModel):
    """What the register page needs to know before showing its form."""

    mode: RegistrationMode
    invite: InviteStatus | None = Field(
        default=None, description="The state of the invite given in the query (null when none was given)"
    )
    studio_invite: StudioInviteStatus | None = Field(
        default=None,
        description="The state of the studio invite given in the query (null when none was given or unknown)",
    )
    open_for_studio_invite: bool | None = Field(
        default=None,
        description="Whether registering with that studio invite is possible (null when none was given)",
    )


def invite_link(settings: Settings, invite: Invite) -> str:
    return f"{settings.public_base_url.rstrip('/')}/register/?invite={invite.token}"


def invite_status(invite: Invite | None, now: datetime | None = None) -> InviteStatus:
    if invite is None:
        return InviteStatus.UNKNOWN
    if invite.used_at is not None:
        return InviteStatus.USED
    if invite.expires_at <= (now or utcnow()):
        return InviteStatus.EXPIRED
    return InviteStatus.VALID


def describe_invite(invite: Invite, now: datetime | None = None) -> str:
    """How the admin lists an invite: unused, used by whom, or expired."""
    status = invite_status(invite, now)
    if status is InviteStatus.USED:
        who = invite.used_by.email if invite.used_by is not None else "a deleted account"
        return f"used by {who}"
    return "unused" if status is InviteStatus.VALID else "expired"


def parse_invite_token(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text.strip())
    except ValueError:
        return None


async def find_invite(session: AsyncSession, text: str, *, fresh: bool = False) -> Invite | None:
    """The invite for `text`; `fresh` reads the row again even if this session already holds it."""
    token = parse_invite_token(text)
    if token is None:
        return None
    query = select(Invite).where(Invite.token == token)
    if fresh:
        query = query.execution_options(populate_existing=True)
    return (await session.exec(query)).first()


async def create_invite(
    session: AsyncSession,
    settings: Settings,
    *,
    created_by_id: int | None,
    note: str = "",
    ttl_hours: int | None = None,
) -> Invite:
    invite = Invite(
        created_by_id=created_by_id,
        note=note,
        expires_at=utcnow() + timedelta(hours=ttl_hours or settings.invite_ttl_hours),
    )
    session.add(invite)
    await session.flush()
    return invite


def open_to_studio_invites(settings: Settings) -> bool:
    """Whether a valid studio invite lets someone register: yes unless registration is closed or studio invites
    may not open it (`studio_invites_open_registration`)."""
    return (
        settings.studio_invites_open_registration
        and settings.effective_registration_mode is not RegistrationMode.CLOSED
    )


async def registration_info(
    session: AsyncSession, settings: Settings, invite: str | None, studio_invite: str | None = None
) -> RegistrationPublic:
    mode = settings.effective_registration_mode
    info = RegistrationPublic(mode=mode)
    if invite is not None and mode is RegistrationMode.INVITE_ONLY:
        info.invite = invite_status(await find_invite(session, invite))
    if studio_invite is not None:
        found = await studio_invites.find_invite(session, studio_invite)
        info.studio_invite = studio_invites.invite_status(found, utcnow()) if found is not None else None
        info.open_for_studio_invite = (
            open_to_studio_invites(settings) and info.studio_invite is StudioInviteStatus.OPEN
        )
    return info


def _refuse(status: InviteStatus) -> None:
    if status is InviteStatus.UNKNOWN:
        raise Forbidden(UNKNOWN_INVITE, details={"invite": status.value})
    if status is InviteStatus.USED:
        raise Gone(USED_INVITE, details={"invite": status.value})
    if status is InviteStatus.EXPIRED:
        raise Gone(EXPIRED_INVITE, details={"invite": status.value})


async def sign_up(session: AsyncSession, settings: Settings, body: UserRegister) -> User:
    """Register through the API under the configured mode (the CLI's superusers bypass it). In open mode an
    invite in the body is ignored. A studio invite opens registration (`open_to_studio_invites`); where it may
    not, the account is made under the mode alone and then joins the studio with it."""
    mode = settings.effective_registration_mode
    if mode is RegistrationMode.CLOSED:
        raise Forbidden(CLOSED)
    if body.studio_invite is not None and open_to_studio_invites(settings):
        return await _sign_up_with_studio_invite(session, body, body.studio_invite)
    if mode is RegistrationMode.INVITE_ONLY and body.invite is None and body.studio_invite is not None:
        raise Forbidden(STUDIO_INVITE_NEEDS_ACCOUNT, details={"studio_invite": "existing_accounts_only"})
    user = await _sign_up_in_mode(session, mode, body)
    if body.studio_invite is not None:
        await studio_invites.join(session, user, body.studio_invite, utcnow())
    return user


async def _sign_up_in_mode(session: AsyncSession, mode: RegistrationMode, body: UserRegister) -> User:
    if mode is RegistrationMode.OPEN:
        return await register_user(session, body)
    if body.invite is None:
        raise Forbidden(NEEDS_INVITE)
    # A cheap refusal before the password is hashed; the claim below is what decides.
    invite = await find_invite(session, body.invite)
    _refuse(invite_status(invite))
    assert invite is not None
    user = await register_user(session, body)
    claimed = await session.exec(
        sa.update(Invite)
        .where(
            col(Invite.id) == invite.id,
            col(Invite.used_at).is_(None),
            col(Invite.expires_at) > sa.func.now(),
        )
        .values(used_at=sa.func.now(), used_by_id=user.id, updated_at=sa.func.now())
        .returning(col(Invite.id))
    )
    if claimed.first() is None:
        # Used, expired or revoked (deleted in the admin) meanwhile: read it again, if it is still there.
        _refuse(invite_status(await find_invite(session, str(invite.token), fresh=True)))
        raise Gone(USED_INVITE)  # consumed by a racing registration (READ COMMITTED sees it used)
    return user


async def _sign_up_with_studio_invite(session: AsyncSession, body: UserRegister, token: str) -> User:
    """A studio's member invite opens registration (unless closed): the new account gets its personal studio and
    joins the inviting one, in one transaction (a used-up invite undoes the account)."""
    invite = await studio_invites.find_invite(session, token)
    if invite is None:
        raise Forbidden(UNKNOWN_INVITE, details={"studio_invite": "unknown"})
    studio_invites.refuse_unusable(invite, utcnow())  # a cheap refusal before the password is hashed
    user = await register_user(session, body)
    await studio_invites.join(session, user, token, utcnow())
    return user
