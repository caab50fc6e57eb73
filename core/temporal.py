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
from temporalio.service import RPCError, RPCStatusCode

from core.errors import TemporalUnavailable
from core.settings import Settings

TEMPORAL_UNAVAILABLE = "The job service (Temporal) is unavailable; try again in a moment."
"""The one sentence of every 503 that says Temporal is down (what was or was not done may follow it elsewhere)."""

TEMPORAL_DOWN_STATUSES = frozenset(
    {RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.RESOURCE_EXHAUSTED}
)
"""The RPC statuses that mean "Temporal cannot answer now" (the server away or unreachable once the SDK's own retries
gave up, no answer within the call's deadline, the server overloaded), not "the call is wrong". Measured against the
dev server: a port that refuses or a server that accepts and never answers is retried by the SDK as UNAVAILABLE until
our bound ends the call (TimeoutError); a first connect to either fails with a RuntimeError (refused) or times out.
A namespace the server lacks answers NOT_FOUND, a search attribute it lacks INVALID_ARGUMENT: mistakes of ours."""


def temporal_down(exc: BaseException) -> bool:
    """True when `exc`, raised by a bounded call to Temporal, says Temporal is not there (not that the call is wrong)."""
    if isinstance(exc, RPCError):
        return exc.status in TEMPORAL_DOWN_STATUSES
    return isinstance(exc, TimeoutError)


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
            try:
                async with temporal_call(self._settings):
                    self._client = await connect_temporal(self._settings)
            except RuntimeError as exc:  # how the SDK reports a failed connect (e.g. the port refuses)
                raise TemporalUnavailable(TEMPORAL_UNAVAILABLE) from exc
        return self._client


def rpc_timeout(settings: Settings) -> timedelta:
    """The `rpc_timeout` of a call the API makes to Temporal (start, signal, cancel)."""
    return timedelta(seconds=settings.temporal_rpc_timeout_seconds)


@asynccontextmanager
async def temporal_call(settings: Settings, failure: str = TEMPORAL_UNAVAILABLE) -> AsyncIterator[None]:
    """Bound one call to Temporal by TEMPORAL_RPC_TIMEOUT_SECONDS and turn "Temporal is not there" (`temporal_down`:
    no answer in time, or a status of TEMPORAL_DOWN_STATUSES) into TemporalUnavailable(failure), a 503 logged once
    per outage. Any other error (a call Temporal refused as wrong, a bug) goes through unchanged: a logged 500.
    `rpc_timeout` alone does not bound a call that first has to reconnect to a server that never answers.

    A call that timed out may still have taken effect on the server; callers must be safe either way.
    """
    try:
        async with asyncio.timeout(settings.temporal_rpc_timeout_seconds):
            yield
    except (RPCError, TimeoutError) as exc:
        if not temporal_down(exc):
            raise
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
