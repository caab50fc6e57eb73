"""Socket tickets: short-lived, single-use stand-ins for the access token in a socket URL (docs/events.md).

A URL ends up in access logs; a ticket found there is already used or expired. Tickets live in Redis under
`socket-ticket:<ticket>` with a TTL and are taken with GETDEL, so each opens one socket at most.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass

from pydantic import BaseModel, Field
from redis.asyncio import Redis
from redis.exceptions import RedisError

from core.errors import ServiceUnavailable
from core.schemas import MAX_DB_ID

TICKET_BYTES = 32
MAX_TICKET_LENGTH = 64
"""token_urlsafe(32) is 43 characters; anything longer is refused without asking Redis."""


class SocketTicketCreate(BaseModel):
    project_id: int = Field(ge=1, le=MAX_DB_ID, description="The project whose socket the ticket opens")


class SocketTicketPublic(BaseModel):
    ticket: str = Field(description="Use once, as `?ticket=` on `/ws/projects/{project_id}/`")
    expires_in: int = Field(description="Seconds left to open the socket with it")


class RedisUnavailable(ServiceUnavailable):
    service = "redis"


@dataclass(frozen=True)
class SocketTicket:
    """What a ticket opens: one project of one user, while the credential it was issued for lasts: a bearer token
    (until it expires, or is revoked: `issued_at`) or a browser session (`session_id`)."""

    user_id: int
    project_id: int
    token_expires_at: float | None
    issued_at: float | None = None
    session_id: int | None = None


def _key(ticket: str) -> str:
    return f"socket-ticket:{ticket}"


async def issue_ticket(redis: Redis, grant: SocketTicket, ttl_seconds: int) -> str:
    ticket = secrets.token_urlsafe(TICKET_BYTES)
    value = json.dumps(
        {
            "user_id": grant.user_id,
            "project_id": grant.project_id,
            "token_expires_at": grant.token_expires_at,
            "issued_at": grant.issued_at,
            "session_id": grant.session_id,
        }
    )
    try:
        await redis.set(_key(ticket), value, ex=ttl_seconds)
    except (RedisError, OSError) as exc:
        raise RedisUnavailable("Live events are unavailable (Redis); try again in a moment.") from exc
    return ticket


async def redeem_ticket(redis: Redis, ticket: str) -> SocketTicket | None:
    """The grant behind `ticket`, deleting it; None when it is unknown, expired or already used.

    Raises RedisError/OSError when Redis cannot be reached (the caller closes the socket with "try again")."""
    if not ticket or len(ticket) > MAX_TICKET_LENGTH:
        return None
    raw = await redis.getdel(_key(ticket))
    if raw is None:
        return None
    data = json.loads(raw)
    expires, issued, session_id = data.get("token_expires_at"), data.get("issued_at"), data.get("session_id")
    return SocketTicket(
        user_id=int(data["user_id"]),
        project_id=int(data["project_id"]),
        token_expires_at=float(expires) if expires is not None else None,
        issued_at=float(issued) if issued is not None else None,
        session_id=int(session_id) if session_id is not None else None,
    )
