"""The Temporal connection (with the pydantic converter) and every workflow id / task queue name."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleAlreadyRunningError,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError

from core.errors import TemporalUnavailable
from core.settings import Settings

TEMPORAL_UNREACHABLE = "The job service (Temporal) is unreachable; try again in a moment."


async def connect_temporal(settings: Settings) -> Client:
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=pydantic_data_converter,
    )


def asset_workflow_id(asset_id: int) -> str:
    return f"asset-{asset_id}"


def task_queue(settings: Settings) -> str:
    return settings.temporal_task_queue


class TemporalClientHolder:
    """Connects on first use so the API serves REST even while Temporal is still starting or briefly away."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._client: Client | None = None

    async def get(self) -> Client:
        if self._client is None:
            # Bounded: a server that accepts the connection and never answers would hold the request for ~30 s.
            async with temporal_call(self._settings, TEMPORAL_UNREACHABLE):
                self._client = await connect_temporal(self._settings)
        return self._client


def rpc_timeout(settings: Settings) -> timedelta:
    """The `rpc_timeout` of a call the API makes to Temporal (start, signal, cancel)."""
    return timedelta(seconds=settings.temporal_rpc_timeout_seconds)


@asynccontextmanager
async def temporal_call(settings: Settings, failure: str) -> AsyncIterator[None]:
    """Bound one call to Temporal by TEMPORAL_RPC_TIMEOUT_SECONDS and turn "Temporal is not there" into
    TemporalUnavailable(failure): an RPC the server refused or failed, a failed (re)connect (the SDK raises it as a
    RuntimeError, also for the first call of a lazily connected client), or no answer in time. `rpc_timeout`
    alone does not bound a call that first has to connect to a server that accepts and never answers.

    A call that timed out may still have taken effect on the server; callers must be safe either way.
    """
    try:
        async with asyncio.timeout(settings.temporal_rpc_timeout_seconds):
            yield
    except (RPCError, RuntimeError, TimeoutError) as exc:
        raise TemporalUnavailable(failure) from exc


async def upsert_schedule(client: Client, schedule_id: str, schedule: Schedule) -> bool:
    """Create the schedule, or bring an existing one up to date keeping its pause state; True when created.

    Idempotent: the worker runs it at every start.
    """
    try:
        await client.create_schedule(schedule_id, schedule)
        return True
    except ScheduleAlreadyRunningError:
        pass

    def update(current: ScheduleUpdateInput) -> ScheduleUpdate:
        # Keep the operator's pause state; replace what the code owns (action, spec, policy).
        schedule.state = current.description.schedule.state
        return ScheduleUpdate(schedule=schedule)

    await client.get_schedule_handle(schedule_id).update(update)
    return False


def retention_schedule_id() -> str:
    return "retention-nightly"


def retention_workflow_id(run_key: str) -> str:
    """A manual (admin-triggered) retention run; scheduled runs get the schedule id plus a timestamp."""
    return f"retention-manual-{run_key}"


def smart_edit_workflow_id(request_key: str) -> str:
    return f"smart-edit-{request_key}"


def reconcile_schedule_id() -> str:
    return "reconcile-assets"


def reconcile_workflow_id(run_key: str) -> str:
    """A manual reconciler run; scheduled runs get the schedule id plus a timestamp."""
    return f"reconcile-manual-{run_key}"
