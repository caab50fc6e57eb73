"""What a live socket may see: who may open it, the snapshot it starts with, and the public form of events.

Owner sockets (`/ws/projects/{id}/`) get events as published. Review-link sockets (`/ws/public/{token}/`) get only
`new_comment` and `headliner_changed`, rewritten to the link's opaque refs exactly as the public REST view shows
them (no database ids), and only for what a guest can see.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core import sharing
from core.contract import AssetStatus, EventsUnavailable
from core.errors import DomainError
from core.events import EventType
from core.models import Asset, Box, SharedLink, User, UserSession, utcnow
from core.projects import get_project
from core.relay import CloseCode, CloseReason, EventRelay, RelayedEvent
from core.security import read_access_token
from core.sessions import check_token_issued_after, session_problem
from core.settings import Settings
from core.sharing import ReviewComment
from core.socket_tickets import redeem_ticket
from core.studios import RemovedMember, is_member_of_project_studio
from core.users import get_active_user

MISSING_TOKEN = "Missing token: connect with ?ticket=<socket ticket> (or ?token=<access token>)."
BAD_TICKET = "The socket ticket is unknown, used or expired; ask for a new one."
OTHER_PROJECT_TICKET = "The socket ticket is for another project; ask for a new one."
SESSION_EXPIRED = "Your session has expired; log in again."
ACCOUNT_DEACTIVATED = "Your account has been deactivated; ask an administrator."
NO_LONGER_MEMBER = "You are no longer a member of this project's studio; ask its owner to invite you again."


def close_after_removal(after_commit: Callable[..., Any], relay: EventRelay, removed: RemovedMember) -> None:
    """Close a removed member's sockets on the studio's projects (1008 with NO_LONGER_MEMBER) through
    `after_commit`: the request's background tasks, which run once the removal is committed, never when it
    fails. Every API process closes its own at once (through Redis; without it, the others at their next ping)."""
    reason = CloseReason(CloseCode.POLICY_VIOLATION, NO_LONGER_MEMBER)
    after_commit(relay.close_member_sockets_everywhere, removed.user_id, removed.project_ids, reason)


BAD_SINCE = "since must be an event id like 1732530000000-0."

SNAPSHOT_ASSET_LIMIT = 500
"""Pending and running assets listed in an owner socket's snapshot (oldest first)."""
PUBLIC_EVENT_TYPES = frozenset({EventType.NEW_COMMENT, EventType.HEADLINER_CHANGED})
"""What a review-link socket may see (and only in its public, id-free form)."""


class SocketRefused(Exception):
    """The socket must be closed with a policy violation (1008) and this reason, before any subscription."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # api/ws.py trims it to the 123 bytes a close frame allows


# --- owner sockets --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OwnerAccess:
    user_id: int
    project_id: int
    expires_at: float | None
    """When the access token (used directly or to get the ticket) expires (epoch seconds); the socket closes then."""
    issued_at: float | None = None
    """When that token was issued: logging out everywhere after it closes the socket."""
    session_id: int | None = None
    """The browser session the ticket was issued to: the socket closes when it ends."""


async def owner_socket_problem(session: AsyncSession, settings: Settings, access: OwnerAccess) -> str | None:
    """Why a connected owner socket must close now (token or session expired or revoked, account deactivated or
    gone, no longer a member of the project's studio), or None."""
    if access.expires_at is not None and time.time() >= access.expires_at:
        return SESSION_EXPIRED
    user = await session.get(User, access.user_id)
    if user is None or not user.is_active:
        return ACCOUNT_DEACTIVATED
    if access.session_id is not None:
        user_session = await session.get(UserSession, access.session_id)
        if user_session is None or session_problem(user_session, settings, utcnow()) is not None:
            return SESSION_EXPIRED
    elif access.issued_at is not None:
        try:
            check_token_issued_after(user, access.issued_at)
        except DomainError:
            return SESSION_EXPIRED
    if not await is_member_of_project_studio(session, access.user_id, access.project_id):
        return NO_LONGER_MEMBER
    return None


async def authorize_owner_socket(
    session: AsyncSession,
    settings: Settings,
    redis: Redis,
    credentials: tuple[str | None, str | None],
    project_id: int,
) -> OwnerAccess:
    """`credentials` is (ticket, token): a single-use socket ticket (preferred) or an access token. The user
    behind it must be active and own `project_id`; otherwise SocketRefused. A ticket is used up here, whatever
    the outcome. EventsUnavailable when Redis cannot be reached to redeem the ticket."""
    ticket, token = credentials
    if ticket:
        try:
            grant = await redeem_ticket(redis, ticket)
        except (RedisError, OSError) as exc:
            raise EventsUnavailable(f"cannot redeem a socket ticket: {exc}") from exc
        if grant is None:
            raise SocketRefused(BAD_TICKET)
        if grant.project_id != project_id:
            raise SocketRefused(OTHER_PROJECT_TICKET)
        if grant.token_expires_at is not None and time.time() >= grant.token_expires_at:
            raise SocketRefused(SESSION_EXPIRED)
        access = OwnerAccess(
            grant.user_id, project_id, grant.token_expires_at, grant.issued_at, grant.session_id
        )
    elif token:
        try:
            claims = read_access_token(settings, token)
        except DomainError as exc:
            raise SocketRefused(exc.message) from exc
        access = OwnerAccess(claims.user_id, project_id, claims.expires_at, claims.issued_at)
    else:
        raise SocketRefused(MISSING_TOKEN)
    try:
        user = await get_active_user(session, access.user_id)
        await get_project(session, user, project_id)
    except DomainError as exc:
        raise SocketRefused(exc.message) from exc
    problem = await owner_socket_problem(session, settings, access)
    if problem is not None:
        raise SocketRefused(problem)
    return access


# --- limits ---------------------------------------------------------------------------------------------------


class SocketSlots:
    """Open sockets per key (a user id, a share link id) in this process, up to `limit` each.

    Per process on purpose: a count held in Redis would outlive a crashed process and need cleaning up; here a
    process that dies takes its sockets and its counts with it. With several API processes the effective cap is
    the number of processes times `limit` (docs/events.md)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._open: dict[int, int] = {}

    def acquire(self, key: int) -> bool:
        held = self._open.get(key, 0)
        if held >= self.limit:
            return False
        self._open[key] = held + 1
        return True

    def release(self, key: int) -> None:
        held = self._open.get(key, 0) - 1
        if held > 0:
            self._open[key] = held
        else:
            self._open.pop(key, None)

    def held(self, key: int) -> int:
        return self._open.get(key, 0)


@dataclass(frozen=True)
class SocketLimits:
    users: SocketSlots
    links: SocketSlots

    @classmethod
    def from_settings(cls, settings: Settings) -> SocketLimits:
        return cls(
            users=SocketSlots(settings.max_sockets_per_user), links=SocketSlots(settings.max_sockets_per_link)
        )

    def user_refusal(self) -> str:
        return (
            f"Too many live connections for your account ({self.users.limit} open); "
            "close another tab, then reload."
        )

    def link_refusal(self) -> str:
        return f"Too many live connections to this review link ({self.links.limit} open); reload later."


async def owner_snapshot(session: AsyncSession, project_id: int) -> list[dict[str, Any]]:
    """The project's assets that are still pending or running, oldest first."""
    rows = (
        await session.exec(
            select(Asset.id, Asset.box_id, Asset.kind, Asset.status)
            .join(Box, col(Box.id) == Asset.box_id)
            .where(
                Box.project_id == project_id,
                col(Asset.status).in_([AssetStatus.PENDING, AssetStatus.RUNNING]),
            )
            .order_by(col(Asset.id))
            .limit(SNAPSHOT_ASSET_LIMIT)
        )
    ).all()
    return [
        {"asset_id": asset_id, "box_id": box_id, "kind": str(kind), "status": str(status)}
        for asset_id, box_id, kind, status in rows
    ]


# --- review-link sockets --------------------------------------------------------------------------------------


async def authorize_public_socket(session: AsyncSession, token: str) -> SharedLink:
    """The live share link for `token`; SocketRefused when malformed, unknown, revoked or expired."""
    try:
        return await sharing.resolve_link(session, token)
    except DomainError as exc:
        raise SocketRefused(exc.message) from exc


async def public_link_problem(session: AsyncSession, token: str) -> str | None:
    """Why a connected review-link socket must close now (revoked or expired), or None."""
    try:
        await sharing.resolve_link(session, token)
    except DomainError as exc:
        return exc.message
    return None


def _id(value: int | None) -> int:
    assert value is not None
    return value


class PublicView:
    """Rewrites project events into what one review link shows; keeps the link's visible set current."""

    def __init__(self, link: SharedLink, secret: str, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.link = link
        self.refs = sharing.link_refs(secret, link)
        self._sessionmaker = sessionmaker
        self.visible = sharing.VisibleRefs(boxes={}, assets={})
        self.headliners: list[dict[str, str | None]] = []

    async def reload(self) -> None:
        async with self._sessionmaker() as session:
            boxes = await sharing.load_visible_boxes(session, self.link.project_id)
        self.visible = sharing.visible_refs(boxes, self.refs)
        self.headliners = [
            {
                "box_ref": self.refs.box(_id(visible.box.id)),
                "headliner_ref": self.refs.asset(_id(visible.headliner.id)) if visible.headliner else None,
            }
            for visible in boxes
        ]

    def snapshot(self) -> list[dict[str, str | None]]:
        """Each visible shot (in shot order) with the ref of its headliner: what `headliner_changed` updates."""
        return self.headliners

    async def render(self, event: RelayedEvent) -> str | None:
        """The public JSON for `event`, or None when a guest must not see it."""
        payload = event.payload()
        data: dict[str, Any] = payload["data"]
        if event.type == EventType.HEADLINER_CHANGED:
            await self.reload()
            box_id = int(data["box_id"])
            if box_id not in self.visible.boxes:
                return None
            headliner_id = data.get("headliner_id")
            public: dict[str, Any] = {
                "box_ref": self.visible.boxes[box_id],
                "headliner_ref": self.visible.assets.get(int(headliner_id)) if headliner_id else None,
            }
        elif event.type == EventType.NEW_COMMENT:
            box_id = int(data["box_id"])
            asset_id = data.get("asset_id")
            if box_id not in self.visible.boxes or (
                asset_id is not None and asset_id not in self.visible.assets
            ):
                return None
            comment = ReviewComment(
                ref=self.refs.comment(int(data["comment_id"])),
                box_ref=self.visible.boxes[box_id],
                asset_ref=self.visible.assets.get(asset_id) if asset_id is not None else None,
                author_name=str(data["author_name"]),
                from_studio=not data.get("via_link", False),
                text=str(data["text"]),
                created_at=datetime.fromisoformat(str(data["created_at"])),
            )
            public = comment.model_dump(mode="json")
        else:
            return None
        return json.dumps({"type": event.type, "data": public, "ts": payload["ts"], "id": event.id})
