"""Accounts: registration and credential checks."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.db import release_connection
from core.errors import Conflict, Unauthorized
from core.models import User
from core.schemas import UserRegister
from core.security import hash_password, hash_password_blocking, verify_password
from core.studios import create_studio, personal_studio_name

# Verifying against a real hash when the email is unknown keeps the response time from telling which emails exist.
_DUMMY_HASH = hash_password_blocking("not-a-real-password")


async def get_user_by_email(session: AsyncSession, email: str) -> User | None:
    result = await session.exec(select(User).where(sa.func.lower(User.email) == email.lower()))
    return result.first()


async def register_user(session: AsyncSession, body: UserRegister, *, is_superuser: bool = False) -> User:
    """Call it before the transaction writes anything: the hash may queue behind other logins, so the pooled
    connection goes back meanwhile (the checks so far only read; a racing duplicate is refused by the unique
    email at the insert)."""
    if await get_user_by_email(session, body.email) is not None:
        raise Conflict("An account with this email already exists.")
    await release_connection(session)
    password_hash = await hash_password(body.password)
    user = User(
        email=body.email.lower(),
        password_hash=password_hash,
        display_name=body.display_name,
        is_superuser=is_superuser,
    )
    session.add(user)
    await session.flush()
    await create_studio(session, user, personal_studio_name(user))
    return user


async def authenticate(session: AsyncSession, email: str, password: str) -> User:
    user = await get_user_by_email(session, email)
    # The check may queue behind other logins: give the pooled connection back while it waits (nothing is written).
    await release_connection(session)
    if user is None:
        await verify_password(_DUMMY_HASH, password)
        raise Unauthorized("Wrong email or password.")
    if not await verify_password(user.password_hash, password):
        raise Unauthorized("Wrong email or password.")
    if not user.is_active:
        raise Unauthorized("This account is deactivated; ask an administrator.")
    return user


async def get_active_user(session: AsyncSession, user_id: int) -> User:
    user = await session.get(User, user_id)
    if user is None or not user.is_active:
        raise Unauthorized("The account for this token no longer exists or is deactivated.")
    return user
