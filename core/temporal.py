"""The Temporal connection (with the pydantic converter) and every workflow id / task queue name."""

from __future__ import annotations

from temporalio.client import (
    Client,
    Schedule,
    ScheduleAlreadyRunningError,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.contrib.pydantic import pydantic_data_converter

from core.errors import UpstreamUnavailable
from core.settings import Settings


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
            try:
                self._client = await connect_temporal(self._settings)
            except RuntimeError as exc:  # the SDK reports a failed connect as a RuntimeError
                raise UpstreamUnavailable(
                    "The job service (Temporal) is unreachable; try again in a moment."
                ) from exc
        return self._client


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
