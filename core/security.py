"""Password hashing (argon2) and bearer JWTs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from core.errors import Unauthorized
from core.settings import Settings

_hasher = PasswordHasher()
JWT_ALGORITHM = "HS256"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


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
