"""Password hashing (argon2) and bearer JWTs.

Argon2 costs tens of milliseconds of CPU by design: hashing and verifying run in a small pool of their own (one
thread per core; argon2 releases the GIL), never on the event loop nor in anyio's default pool, which the
synchronous dependencies of every request need. A login flood queues there while other requests go on.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from core.errors import Unauthorized
from core.settings import Settings

_hasher = PasswordHasher()
JWT_ALGORITHM = "HS256"
HASHING_THREADS = max(1, os.cpu_count() or 1)
"""More threads than cores would only make each hash slower; the queue in front of them is the back-pressure."""

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


async def hash_password(password: str) -> str:
    return await asyncio.get_running_loop().run_in_executor(_hashing_pool, _hasher.hash, password)


async def verify_password(password_hash: str, password: str) -> bool:
    return await asyncio.get_running_loop().run_in_executor(
        _hashing_pool, _verify_blocking, password_hash, password
    )


def create_access_token(settings: Settings, user_id: int) -> tuple[str, int]:
    """Return the token and its lifetime in seconds."""
    lifetime = timedelta(minutes=settings.jwt_lifetime_minutes)
    now = datetime.now(UTC)
    payload = {"sub": str(user_id), "iat": now, "exp": now + lifetime, "typ": "access"}
    token = jwt.encode(payload, settings.jwt_secret.get_secret_value(), algorithm=JWT_ALGORITHM)
    return token, int(lifetime.total_seconds())


def read_access_token(settings: Settings, token: str) -> int:
    """Return the user id in a valid token; raise Unauthorized for a missing, bad or expired one."""
    try:
        payload = jwt.decode(token, settings.jwt_secret.get_secret_value(), algorithms=[JWT_ALGORITHM])
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("Your session has expired; log in again.") from exc
    except jwt.PyJWTError as exc:
        raise Unauthorized("The access token is not valid; log in again.") from exc
    sub = payload.get("sub")
    if payload.get("typ") != "access" or not isinstance(sub, str) or not sub.isdigit():
        raise Unauthorized("The access token is not valid; log in again.")
    return int(sub)
