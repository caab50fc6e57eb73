"""The reconciler's schedule: created by the worker at start, idempotently, every RECONCILE_INTERVAL_SECONDS, on the
worker's task queue; a second start neither fails nor unpauses it."""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import ScheduleActionStartWorkflow

from core.contract import RECONCILE_WORKFLOW, reconcile_schedule_id, task_queue
from core.temporal import upsert_reconcile_schedule


async def test_the_worker_creates_the_reconciler_schedule(settings, app_worker):
    handle = app_worker.temporal.get_schedule_handle(reconcile_schedule_id())
    description = await handle.describe()

    action = description.schedule.action
    assert isinstance(action, ScheduleActionStartWorkflow)
    assert action.workflow == RECONCILE_WORKFLOW
    assert action.task_queue == task_queue(settings)
    assert [spec.every for spec in description.schedule.spec.intervals] == [
        timedelta(seconds=settings.reconcile_interval_seconds)
    ]

    await handle.pause(note="an operator paused it")
    try:
        faster = settings.model_copy(update={"reconcile_interval_seconds": 60})
        await upsert_reconcile_schedule(app_worker.temporal, faster)  # what the next worker start does
        description = await handle.describe()
        assert [spec.every for spec in description.schedule.spec.intervals] == [timedelta(seconds=60)]
        assert description.schedule.state.paused
    finally:
        await handle.unpause()
        await upsert_reconcile_schedule(app_worker.temporal, settings)
