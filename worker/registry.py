"""Which workflows and activities this worker runs, and what it sets up at start (e.g. schedules).

Each feature adds its entries here; activities are bound methods of objects built from WorkerDeps.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from worker.deps import WorkerDeps


def workflows() -> list[type]:
    return []


def activities(deps: WorkerDeps) -> list[Callable[..., Any]]:
    return []


def startup_hooks() -> list[Callable[[WorkerDeps], Awaitable[None]]]:
    """Coroutines run once when the worker starts (idempotent: e.g. create-or-update a schedule)."""
    return []
