"""Password hashing (argon2) and bearer JWTs (browser sessions: core/sessions.py).

Argon2 costs tens of milliseconds of CPU by design: hashing and verifying run in a small pool of their own (one
thread per core this process may use, at most `MAX_HASHING_THREADS`; argon2 releases the GIL), never on the event
loop nor in anyio's default pool, which the synchronous dependencies of every request need. A login flood queues
there while other requests go on; beyond `PASSWORD_HASH_MAX_WAITING` queued checks the next answers 503.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from core.errors import ServerBusy, Unauthorized
from core.settings import Settings

T = TypeVar("T")
_hasher = PasswordHasher()
JWT_ALGORITHM = "HS256"
MAX_HASHING_THREADS = 4
"""Even on a large host: argon2 uses lanes of its own, and request handlers need CPU too."""


def usable_cores() -> int:
    """The cores this process may run on (its affinity, e.g. a container's cpuset), not the host's count."""
    counted = getattr(os, "process_cpu_count", None)  # Python 3.13
    if counted is not None:
        return int(counted() or 1)
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


HASHING_THREADS = max(1, min(usable_cores(), MAX_HASHING_THREADS))
"""More threads than cores would only make each hash slower; the bounded queue in front of them is the
back-pressure."""

PASSWORD_CHECKS_BUSY = "The server is busy: too many password checks are waiting; try again in a few seconds."

HASHING_NICENESS = 10
"""The hashing threads (and the lane threads argon2 starts from them) run at this lower CPU priority: on a busy
machine a login flood then takes the CPU the request handlers leave, instead of sharing it equally with them."""


def _lower_priority() -> None:
    # Linux keeps a nice value per thread; raising one's own niceness needs no privilege.
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASHING_NICENESS)


_hashing_pool = ThreadPoolExecutor(
    max_workers=HASHING_THREADS, thread_name_prefix="argon2", initializer=_lower_priority
)


def hash_password_blocking(password: str) -> str:
    """For import time only (a dummy hash); request code awaits `hash_password`."""
    return _hasher.hash(password)


def _verify_blocking(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


class _HashingQueue:
    """Hashes waiting for or running in the pool; beyond the threads plus `max_waiting` a new one is refused."""

    def __init__(self) -> None:
        self.in_flight = 0
        self.max_waiting = 64

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        if self.in_flight >= HASHING_THREADS + self.max_waiting:
            raise ServerBusy(PASSWORD_CHECKS_BUSY)
        self.in_flight += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(_hashing_pool, function, *args)
        finally:
            self.in_flight -= 1


_queue = _HashingQueue()


def limit_hashing_queue(settings: Settings) -> None:
    """Apply PASSWORD_HASH_MAX_WAITING (the pool is the process's, so the limit is too)."""
    _queue.max_waiting = settings.password_hash_max_waiting


async def hash_password(password: str) -> str:
    return await _queue.run(_hasher.hash, password)


async def verify_password(password_hash: str, password: str) -> bool:
    return await _queue.run(_verify_blocking, password_hash, password)


def create_access_token(settings: Settings, user_id: int) -> tuple[str, int]:
    """Return the token and its lifetime in seconds."""
    lifetime = timedelta(minutes=settings.jwt_lifetime_minutes)
    now = datetime.now(UTC)
    # `iat` keeps its fraction of a second: logout everywhere refuses tokens issued before it (core/sessions.py),
    # and a login in the same second after it must still work.
    payload = {"sub": str(user_id), "iat": now.timestamp(), "exp": now + lifetime, "typ": "access"}
    token = jwt.encode(payload, settings.jwt_secret.get_secret_value(), algorithm=JWT_ALGORITHM)
    return token, int(lifetime.total_seconds())


@dataclass(frozen=True, slots=True)
class AccessClaims:
    """What a valid access token says: whose it is, when it was issued and when it expires (epoch seconds)."""

    user_id: int
    issued_at: float
    expires_at: float


def read_access_token(settings: Settings, token: str) -> AccessClaims:
    """The claims of a valid token; Unauthorized for a missing, bad or expired one."""
    try:
        payload = jwt.decode(token, settings.jwt_secret.get_secret_value(), algorithms=[JWT_ALGORITHM])
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("Your session has expired; log in again.") from exc
    except jwt.PyJWTError as exc:
        raise Unauthorized("The access token is not valid; log in again.") from exc
    sub, issued, expires = payload.get("sub"), payload.get("iat"), payload.get("exp")
    if (
        payload.get("typ") != "access"
        or not isinstance(sub, str)
        or not sub.isdigit()
        or not isinstance(issued, int | float)
        or not isinstance(expires, int | float)
    ):
        raise Unauthorized("The access token is not valid; log in again.")
    return AccessClaims(user_id=int(sub), issued_at=float(issued), expires_at=float(expires))
