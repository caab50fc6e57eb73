"""Browser sessions: the `aam_session` cookie (an HttpOnly random token; the database keeps only its sha256),
their lifetime (idle and absolute), and logout everywhere (docs/security.md, "Sessions").

Bearer JWTs stay for API clients; logout everywhere ends both kinds: it revokes every session row and sets the
user's `tokens_valid_after`, before which no bearer token (nor a socket opened with one) is accepted."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.errors import Unauthorized
from core.models import User, UserSession
from core.settings import Settings

SESSION_COOKIE = "aam_session"
SESSION_COOKIE_PATH = "/api"
"""The cookie goes to the API only (sockets get a ticket from the API, never the cookie)."""
CSRF_HEADER = "X-AAM-CSRF"
CSRF_REFUSED = "This request must come from the app (missing X-AAM-CSRF header)."
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
TOKEN_BYTES = 32
MAX_TOKEN_LENGTH = 64
"""token_urlsafe(32) is 43 characters; a longer cookie is refused without a query."""
TOUCH_INTERVAL = timedelta(minutes=1)
"""`last_seen_at` is written at most this often per session, not on every request."""
USER_AGENT_LENGTH = 200
ENDED_SESSION_KEPT = timedelta(days=1)
"""An ended session's row stays this long, so its cookie still hears "ended"/"expired" rather than nothing, then the
nightly retention run deletes it. A session that went idle is deleted once its absolute expiry has passed too."""

SESSION_ENDED = "Your session has ended; log in again."
SESSION_EXPIRED = "Your session has expired; log in again."
TOKEN_REVOKED = "This token was revoked (logged out everywhere); log in again."


class SessionEnded(Unauthorized):
    """A session (or bearer token) that worked once and no longer does: the SPA says "your session has expired"
    rather than just showing the login page."""

    code = "session_expired"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def session_lifetime(settings: Settings) -> timedelta:
    return timedelta(hours=settings.session_max_age_hours)


async def start_session(
    session: AsyncSession, settings: Settings, user: User, user_agent: str, now: datetime
) -> str:
    """A new session for `user`; returns the token for the cookie (only its hash is stored)."""
    assert user.id is not None
    token = secrets.token_urlsafe(TOKEN_BYTES)
    session.add(
        UserSession(
            user_id=user.id,
            token_hash=hash_token(token),
            created_at=now,
            last_seen_at=now,
            expires_at=now + session_lifetime(settings),
            user_agent=user_agent[:USER_AGENT_LENGTH],
        )
    )
    await session.flush()
    return token


def session_problem(user_session: UserSession, settings: Settings, now: datetime) -> str | None:
    """Why this session can no longer be used (ended, expired, idle too long), or None."""
    if user_session.revoked_at is not None:
        return SESSION_ENDED
    if now >= user_session.expires_at or now >= user_session.created_at + session_lifetime(settings):
        return SESSION_EXPIRED
    if now - user_session.last_seen_at >= timedelta(hours=settings.session_idle_hours):
        return SESSION_EXPIRED
    return None


async def find_session(session: AsyncSession, token: str) -> UserSession | None:
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    result = await session.exec(select(UserSession).where(col(UserSession.token_hash) == hash_token(token)))
    return result.first()


async def use_session(session: AsyncSession, settings: Settings, token: str, now: datetime) -> UserSession:
    """The live session behind a cookie token (its `last_seen_at` moved on, at most once a minute);
    Unauthorized when there is none or it has ended."""
    user_session = await find_session(session, token)
    if user_session is None:
        raise SessionEnded(SESSION_ENDED)
    problem = session_problem(user_session, settings, now)
    if problem is not None:
        raise SessionEnded(problem)
    if now - user_session.last_seen_at >= TOUCH_INTERVAL:
        user_session.last_seen_at = now
    return user_session


async def end_session(session: AsyncSession, token: str, now: datetime) -> None:
    """Revoke the session behind `token` (nothing to do for an unknown or ended one)."""
    user_session = await find_session(session, token)
    if user_session is not None and user_session.revoked_at is None:
        user_session.revoked_at = now
        await session.flush()


async def end_all_sessions(session: AsyncSession, user: User, now: datetime) -> None:
    """Logout everywhere: every session of `user` revoked, every bearer token issued until now refused."""
    await session.exec(
        sa.update(UserSession)
        .where(col(UserSession.user_id) == user.id, col(UserSession.revoked_at).is_(None))
        .values(revoked_at=now)
    )
    user.tokens_valid_after = now
    await session.flush()


async def purge_ended_sessions(session: AsyncSession, now: datetime) -> int:
    """Delete the rows of sessions that were revoked or expired more than `ENDED_SESSION_KEPT` ago; returns how
    many. Called by the nightly retention run, so the table holds live sessions and a day of ended ones."""
    cutoff = now - ENDED_SESSION_KEPT
    result = await session.exec(
        sa.delete(UserSession).where(
            sa.or_(col(UserSession.revoked_at) < cutoff, col(UserSession.expires_at) < cutoff)
        )
    )
    return result.rowcount


def check_token_issued_after(user: User, issued_at: float) -> None:
    """Refuse a bearer token issued before the user last logged out everywhere."""
    if user.tokens_valid_after is not None and issued_at < user.tokens_valid_after.timestamp():
        raise SessionEnded(TOKEN_REVOKED)
