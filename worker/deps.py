"""What activities need from the world, created once per worker process (an async context manager)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.client import Client

from core.db import create_engine, create_sessionmaker
from core.events import EventBus
from core.kie import KieClient
from core.settings import Settings
from core.storage import Storage
from core.temporal import connect_temporal


@dataclass
class WorkerDeps:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    storage: Storage
    events: EventBus
    temporal: Client
    kie: KieClient | None = field(default=None)
    """The Kie.ai client (generation); None → built from settings by whoever needs it."""


@asynccontextmanager
async def open_worker_deps(settings: Settings) -> AsyncIterator[WorkerDeps]:
    engine = create_engine(settings)
    events = EventBus(settings.redis_url, health_check_interval=settings.redis_health_check_seconds)
    temporal = await connect_temporal(settings)
    kie = KieClient.from_settings(settings)
    try:
        yield WorkerDeps(
            settings=settings,
            engine=engine,
            sessionmaker=create_sessionmaker(engine),
            storage=Storage(settings),
            events=events,
            temporal=temporal,
            kie=kie,
        )
    finally:
        await kie.aclose()
        await events.disconnect()
        await engine.dispose()
