"""How long GenerateAssetWorkflow keeps retrying, under time skipping: steps on our database, S3 and Redis ride out an
outage for the configured window, recordInfo polling until the deadline, and the final FAILED row has no limit."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from temporalio import activity
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from core.contract import (
    AssetRef,
    CompleteAssetInput,
    FailAssetInput,
    GenerateAssetInput,
    KieTaskState,
    TaskRef,
)
from tests.pipeline.test_workflow import FakeWorld, env, worker  # noqa: F401 - `env` is the fixture
from workflows.generation import GenerateAssetWorkflow, attempts_for_window

WINDOW = 600
MAX_INTERVAL = 30


@dataclass
class FlakyWorld(FakeWorld):
    """FakeWorld whose database / Redis / recordInfo calls fail a given number of times first."""

    complete_failures: int = 0
    fail_failures: int = 0
    publish_failures: int = 0
    fetch_failures: int = 0
    complete_error_type: str = "OperationalError"
    """What complete_asset's failures are (an outage by default; a bug's type otherwise)."""
    attempts: dict[str, int] = field(default_factory=dict)

    def _attempt(self, name: str, failures: int, error_type: str = "OperationalError") -> None:
        self.attempts[name] = self.attempts.get(name, 0) + 1
        if self.attempts[name] <= failures:
            raise ApplicationError("connection refused", type=error_type)

    @activity.defn(name="complete_asset")
    async def complete_asset(self, data: CompleteAssetInput) -> bool:
        self._attempt("complete_asset", self.complete_failures, self.complete_error_type)
        self.completed.append(data)
        return True

    @activity.defn(name="fail_asset")
    async def fail_asset(self, data: FailAssetInput) -> bool:
        self._attempt("fail_asset", self.fail_failures)
        self.failed_with.append(data.error_message)
        return True

    @activity.defn(name="publish_asset_status")
    async def publish_asset_status(self, ref: AssetRef) -> bool:
        self._attempt("publish_asset_status", self.publish_failures)
        self.published += 1
        return True

    @activity.defn(name="fetch_kie_task")
    async def fetch_kie_task(self, ref: TaskRef) -> KieTaskState:
        self._attempt("fetch_kie_task", self.fetch_failures)
        return await super().fetch_kie_task(ref)


DEADLINE = 900


def generation() -> GenerateAssetInput:
    return GenerateAssetInput(
        asset_id=1,
        box_id=2,
        project_id=3,
        kind="image",
        deadline_seconds=DEADLINE,
        infra_retry_window_seconds=WINDOW,
        infra_retry_max_interval_seconds=MAX_INTERVAL,
    )


async def run(env: WorkflowEnvironment, world: FlakyWorld) -> object:  # noqa: F811
    w, queue = worker(env, world)
    async with w:
        return await env.client.execute_workflow(
            GenerateAssetWorkflow.run,
            generation(),
            id=f"asset-test-{uuid.uuid4().hex[:8]}",
            task_queue=queue,
        )


async def test_a_database_outage_while_completing_delays_the_generation_instead_of_failing_it(
    env: WorkflowEnvironment,  # noqa: F811
) -> None:
    # 12 failures at 1, 2, 4, 8, 16, then 30 s apart: ~4 minutes down, well inside the window.
    world = FlakyWorld(states=["success"], complete_failures=12)
    result = await run(env, world)
    assert getattr(result, "status", None) == "COMPLETED"
    assert world.attempts["complete_asset"] == 13
    assert (
        len(world.submit_times) == 1 and world.ingested == 1
    )  # nothing paid for twice, nothing stored twice
    assert world.failed_with == []


async def test_an_outage_longer_than_the_window_fails_the_generation_and_the_failure_is_recorded_however_long_it_takes(
    env: WorkflowEnvironment,  # noqa: F811
) -> None:
    # The database never comes back for complete_asset; fail_asset itself needs 20 attempts (~9 minutes).
    world = FlakyWorld(states=["success"], complete_failures=10**6, fail_failures=20)
    with pytest.raises(WorkflowFailureError):
        await run(env, world)
    assert world.attempts["complete_asset"] > 3
    assert world.attempts["fail_asset"] == 21
    assert world.failed_with == [
        "Our database or file storage stayed unavailable while saving the result. Retry it."
    ]
    assert len(world.submit_times) == 1


async def test_a_redis_outage_delays_the_status_event_and_never_fails_the_generation(
    env: WorkflowEnvironment,  # noqa: F811
) -> None:
    # Longer than the window: the event is given up on, the generation is still COMPLETED.
    world = FlakyWorld(states=["success"], publish_failures=10**6)
    result = await run(env, world)
    assert getattr(result, "status", None) == "COMPLETED"
    assert len(world.completed) == 1 and world.failed_with == []
    assert world.attempts["publish_asset_status"] > 3


async def test_a_flaky_recordinfo_is_asked_again_instead_of_failing_a_paid_generation(
    env: WorkflowEnvironment,  # noqa: F811
) -> None:
    world = FlakyWorld(states=["success"], fetch_failures=6)
    result = await run(env, world)
    assert getattr(result, "status", None) == "COMPLETED"
    assert world.attempts["fetch_kie_task"] == 7
    assert len(world.submit_times) == 1


INFRA_STEPS = {
    "mark_asset_running",
    "plan_kie_submission",
    "record_kie_task",
    "ingest_result",
    "complete_asset",
    "publish_asset_status",
}


async def test_no_step_has_a_schedule_to_close_so_time_queued_without_a_worker_never_uses_up_a_window(
    env: WorkflowEnvironment,  # noqa: F811
) -> None:
    """A schedule-to-close also runs while the step waits in the queue with no worker: a worker down longer than the
    window (or past the generation's deadline) would fail a paid generation once it is back. The windows are
    attempt counts instead. (The time-skipping server cannot show the outage itself: it stops skipping while an
    activity task waits in its queue, so the history's commands are what is checked.)"""
    world = FlakyWorld(states=["generating", "success"])
    w, queue = worker(env, world)
    async with w:
        handle = await env.client.start_workflow(
            GenerateAssetWorkflow.run, generation(), id=f"asset-test-{uuid.uuid4().hex[:8]}", task_queue=queue
        )
        assert getattr(await handle.result(), "status", None) == "COMPLETED"
        history = await handle.fetch_history()
    scheduled = [
        event.activity_task_scheduled_event_attributes
        for event in history.events
        if event.HasField("activity_task_scheduled_event_attributes")
    ]
    ours = [a for a in scheduled if a.activity_type.name in INFRA_STEPS | {"fetch_kie_task"}]
    assert {a.activity_type.name for a in ours} == INFRA_STEPS | {"fetch_kie_task"}
    for attributes in ours:
        # Unset: the server records 0 or the workflow's own timeout (the test server: 10 years).
        limit = attributes.schedule_to_close_timeout.ToTimedelta()
        assert limit == timedelta(0) or limit >= timedelta(days=365), attributes.activity_type.name
        assert attributes.retry_policy.maximum_attempts > 0, attributes.activity_type.name
    infra = {a.retry_policy.maximum_attempts for a in ours if a.activity_type.name in INFRA_STEPS}
    assert infra == {attempts_for_window(WINDOW, MAX_INTERVAL)}


def test_the_attempts_pause_for_the_whole_window_and_not_much_longer() -> None:
    # 1, 2, 4, 8, 16 s, then 30 s pauses: 31 + 19 x 30 = 601 s >= 600 s after 24 pauses, 571 s after 23.
    assert attempts_for_window(600, 30) == 25
    assert attempts_for_window(3600, 30) == 1 + 5 + 119
    assert attempts_for_window(120, 1) == 121
    assert attempts_for_window(0, 30) == 1


async def test_a_bug_retried_for_the_window_is_reported_as_an_internal_error_not_an_outage(
    env: WorkflowEnvironment,  # noqa: F811
) -> None:
    world = FlakyWorld(states=["success"], complete_failures=10**6, complete_error_type="KeyError")
    with pytest.raises(WorkflowFailureError):
        await run(env, world)
    assert world.failed_with == [
        "Internal error while saving the result (KeyError). Retry it; if it keeps failing, tell us."
    ]
