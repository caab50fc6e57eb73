"""The nightly schedule: created by the worker at start (idempotently), at SystemConfig's hour, and triggering it
runs the retention workflow for real. Schedules need the Temporal dev server (the time-skipping one has none)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

from temporalio.client import ScheduleActionStartWorkflow

from core.contract import (
    RETENTION_WORKFLOW,
    RetentionInput,
    RetentionResult,
    retention_schedule_id,
    retention_workflow_id,
    task_queue,
)
from core.models import SystemConfig
from core.retention import sync_retention_schedule
from tests.builders import make_asset, make_box, make_project, register
from tests.retention.helpers import DAY, assert_kept, assert_purged, retention_days
from workflows.retention import RetentionWorkflow


def scheduled_hours(description) -> list[int]:
    spec = description.schedule.spec
    hours = [r.start for calendar in spec.calendars for r in calendar.hour]
    hours += [int(cron.split()[1]) for cron in spec.cron_expressions]
    return hours


async def set_retention_hour(sessionmaker, hour: int) -> int:
    async with sessionmaker() as session:
        config = await session.get(SystemConfig, 1)
        previous = config.retention_hour_utc
        config.retention_hour_utc = hour
        session.add(config)
        await session.commit()
        return previous


async def test_the_worker_creates_the_schedule_and_triggering_it_purges(
    client, sessionmaker, storage, settings, app_worker
):
    handle = app_worker.temporal.get_schedule_handle(retention_schedule_id())
    description = await handle.describe()
    action = description.schedule.action
    assert isinstance(action, ScheduleActionStartWorkflow)
    assert action.workflow == RETENTION_WORKFLOW
    assert action.task_queue == task_queue(settings)
    async with sessionmaker() as session:
        hour = (await session.get(SystemConfig, 1)).retention_hour_utc
    assert scheduled_hours(description) == [hour]

    days = await retention_days(sessionmaker)
    now = datetime.now(UTC)
    headers = await register(client)
    project = await make_project(client, headers)
    box = await make_box(client, headers, project["id"])
    expired = await make_asset(sessionmaker, box["id"], storage=storage, created_at=now - (days + 2) * DAY)
    favourite = await make_asset(
        sessionmaker, box["id"], storage=storage, created_at=now - (days + 2) * DAY, is_favorite=True
    )

    actions_before = len(description.info.recent_actions)
    await handle.trigger()
    for _ in range(300):  # bounded wait for the schedule to start the run (not a timing assertion)
        description = await handle.describe()
        if (
            len(description.info.recent_actions) > actions_before
            or description.info.num_actions > actions_before
        ):
            break
        await asyncio.sleep(0.2)
    started = description.info.recent_actions[-1].action
    result = await app_worker.temporal.get_workflow_handle(
        started.workflow_id, run_id=started.first_execution_run_id, result_type=RetentionResult
    ).result()

    assert result.totals.assets_deleted >= 1
    await assert_purged(sessionmaker, storage, expired)
    await assert_kept(sessionmaker, storage, favourite)


async def test_starting_again_updates_the_schedule_to_the_configured_hour(sessionmaker, settings, app_worker):
    previous = await set_retention_hour(sessionmaker, 5)
    try:
        assert await sync_retention_schedule(sessionmaker, app_worker.temporal, settings) == 5
        description = await app_worker.temporal.get_schedule_handle(retention_schedule_id()).describe()
        assert scheduled_hours(description) == [5]
        # Still exactly one schedule with that id: a second start does not fail or duplicate it.
        await sync_retention_schedule(sessionmaker, app_worker.temporal, settings)
    finally:
        await set_retention_hour(sessionmaker, previous)
        await sync_retention_schedule(sessionmaker, app_worker.temporal, settings)


async def test_each_run_brings_the_schedule_to_the_configured_hour(sessionmaker, settings, app_worker):
    """An admin's change of the hour applies from the next run on, without restarting the worker."""
    previous = await set_retention_hour(sessionmaker, 7)
    try:
        await app_worker.temporal.execute_workflow(
            RetentionWorkflow.run,
            RetentionInput(),
            id=retention_workflow_id(uuid.uuid4().hex[:8]),
            task_queue=task_queue(settings),
        )
        description = await app_worker.temporal.get_schedule_handle(retention_schedule_id()).describe()
        assert scheduled_hours(description) == [7]
    finally:
        await set_retention_hour(sessionmaker, previous)
        await sync_retention_schedule(sessionmaker, app_worker.temporal, settings)
