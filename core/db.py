"""Async SQLAlchemy engine and sessions. The request's session owns the transaction; services only flush."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from core.settings import Settings

CONNECT_ARGS = {
    # A server that is down refuses at once; one that is unreachable must not stall a request or activity.
    "connect_timeout": 5,
    # A peer that vanished without closing (host gone, network cut) is found within ~25 s instead of the kernel's
    # ~2 h, so a query on it fails (and is retried) rather than hanging past the activity's timeout.
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
}


def create_engine(settings: Settings) -> AsyncEngine:
    """Pooled connections are pinged before use (`pool_pre_ping`), so the ones a PostgreSQL restart killed are
    replaced on their next checkout instead of failing the first query after the restart.

    `hide_parameters`: errors (and their log lines) show the SQL without its values, which can be a password hash
    or a guest's comment."""
    return create_async_engine(
        settings.database_url,
        hide_parameters=True,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
        pool_timeout=settings.database_pool_timeout_seconds,
        pool_pre_ping=True,
        connect_args=CONNECT_ARGS,
    )


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


@asynccontextmanager
async def session_scope(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A transaction: committed when the block ends normally, rolled back on an exception."""
    async with sessionmaker() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


async def release_connection(session: AsyncSession) -> None:
    """End the session's transaction so its pooled connection goes back before a long wait (an LLM answer, S3
    downloads, a queued password check); the next query takes a connection again, in a new transaction.

    Only for a transaction that has written nothing yet, or whose writes may be committed now: it commits."""
    await session.commit()
