"""Which workflows and activities this worker runs, and what it sets up at start (e.g. schedules).

Each feature adds its entries here; activities are bound methods of objects built from WorkerDeps.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from activities.retention import RetentionActivities
from core.retention import sync_retention_schedule
from worker.deps import WorkerDeps
from workflows.retention import RetentionWorkflow


def workflows() -> list[type]:
    return [
        RetentionWorkflow,
    ]


def activities(deps: WorkerDeps) -> list[Callable[..., Any]]:
    retention = RetentionActivities(deps.sessionmaker, deps.storage)
    return [
        retention.plan_retention_run,
        retention.drain_pending_deletions,
        retention.purge_retention_page,
    ]


def startup_hooks() -> list[Callable[[WorkerDeps], Awaitable[None]]]:
    """Coroutines run once when the worker starts (idempotent: e.g. create-or-update a schedule)."""
    return [
        ensure_retention_schedule,
    ]


async def ensure_retention_schedule(deps: WorkerDeps) -> None:
    await sync_retention_schedule(deps.sessionmaker, deps.temporal, deps.settings)
