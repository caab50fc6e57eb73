"""How long GenerateAssetWorkflow keeps retrying, under time skipping: steps on our database, S3 and Redis ride out an
outage for the configured window, recordInfo polling until the deadline, and the final FAILED row has no limit."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import pytest
from temporalio import activity
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from tests.pipeline.test_workflow import FakeWorld, env, worker  # noqa: F401 - `env` is the fixture
from workflows.generation import GenerateAssetWorkflow
from workflows.generation_payloads import (
    AssetRef,
    CompleteAssetInput,
    FailAssetInput,
    GenerateAssetInput,
    KieTaskState,
    TaskRef,
)

WINDOW = 600
MAX_INTERVAL = 30


def outage() -> ApplicationError:
    """What an activity raises while PostgreSQL, S3 or Redis is down (a retryable error of ours)."""
    return ApplicationError("connection refused", type="OperationalError")


@dataclass
class FlakyWorld(FakeWorld):
    """FakeWorld whose database / Redis / recordInfo calls fail a given number of times first."""

    complete_failures: int = 0
    fail_failures: int = 0
    publish_failures: int = 0
    fetch_failures: int = 0
    attempts: dict[str, int] = field(default_factory=dict)

    def _attempt(self, name: str, failures: int) -> None:
        self.attempts[name] = self.attempts.get(name, 0) + 1
        if self.attempts[name] <= failures:
            raise outage()

    @activity.defn(name="complete_asset")
    async def complete_asset(self, data: CompleteAssetInput) -> bool:
        self._attempt("complete_asset", self.complete_failures)
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


async def run(env: WorkflowEnvironment, world: FlakyWorld) -> object:  # noqa: F811
    w, queue = worker(env, world)
    async with w:
        return await env.client.execute_workflow(
            GenerateAssetWorkflow.run,
            GenerateAssetInput(
                asset_id=1,
                box_id=2,
                project_id=3,
                kind="image",
                deadline_seconds=900,
                infra_retry_window_seconds=WINDOW,
                infra_retry_max_interval_seconds=MAX_INTERVAL,
            ),
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
