"""A Temporal client on the session's dev server and a retention worker on a fresh task queue per test."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest_asyncio
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.client import Client
from temporalio.worker import Worker

from activities.retention import RetentionActivities
from core.contract import task_queue
from core.settings import Settings
from core.storage import Storage
from core.temporal import connect_temporal
from tests.pipeline.fixtures import (  # noqa: F401
    kie_simulator,
    pipeline_api_port,
    pipeline_app,
    pipeline_client,
    pipeline_settings,
    pipeline_worker,
)
from worker import registry
from worker.deps import WorkerDeps, open_worker_deps
from workflows.retention import RetentionWorkflow


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def temporal_client(settings: Settings) -> Client:
    return await connect_temporal(settings)


def retention_activities(
    sessionmaker: async_sessionmaker[AsyncSession], storage: Storage
) -> list[Callable[..., Any]]:
    real = RetentionActivities(sessionmaker, storage)
    return [
        real.plan_retention_run,
        real.drain_pending_deletions,
        real.purge_retention_page,
        real.delete_purged_objects,
    ]


@pytest_asyncio.fixture(loop_scope="session")
async def retention_queue(
    temporal_client: Client, sessionmaker: async_sessionmaker[AsyncSession], storage: Storage
) -> AsyncIterator[str]:
    """A worker running the real retention workflow and activities; yields its task queue."""
    queue = f"retention-test-{uuid.uuid4().hex[:8]}"
    async with Worker(
        temporal_client,
        task_queue=queue,
        workflows=[RetentionWorkflow],
        activities=retention_activities(sessionmaker, storage),
    ):
        yield queue


@pytest_asyncio.fixture(loop_scope="session")
async def app_worker(settings: Settings) -> AsyncIterator[WorkerDeps]:
    """The real worker set-up (`python -m worker`): its deps, its start-up hooks, its registry, its task queue."""
    async with open_worker_deps(settings) as deps:
        for hook in registry.startup_hooks():
            await hook(deps)
        async with Worker(
            deps.temporal,
            task_queue=task_queue(settings),
            workflows=registry.workflows(),
            activities=registry.activities(deps),
        ):
            yield deps
