"""GenerateAssetWorkflow under time skipping, with scripted activities standing in for Kie.ai, S3 and the DB.

Times are read from the (skipped) Temporal clock: `activity.info().current_attempt_scheduled_time`.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pytest
import pytest_asyncio
from temporalio import activity
from temporalio.client import WorkflowFailureError, WorkflowHandle, WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer, Worker

from core.contract import (
    AssetRef,
    CompleteAssetInput,
    DiscardFilesInput,
    FailAssetInput,
    GenerateAssetInput,
    IngestInput,
    IngestResult,
    KieCallbackSignal,
    KieTaskState,
    RecordTaskInput,
    SubmissionPlan,
    TaskRef,
)
from workflows.generation import GenerateAssetWorkflow

TASK_ID = "0123456789abcdef0123456789abcdef"


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    server = os.path.join(os.path.dirname(sys.executable), "temporal-test-server")
    async with await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter, test_server_existing_path=server
    ) as environment:
        yield environment


@dataclass
class FakeWorld:
    """Scripted activities with the real activity names; records what the workflow asked for."""

    submit_errors: list[ApplicationError] = field(default_factory=list)
    states: list[str] = field(default_factory=list)
    """What recordInfo answers, in order; the last one repeats."""
    fail_message: str = "Kie.ai could not generate it: boom. Retry the generation."
    submit_times: list[datetime] = field(default_factory=list)
    fetch_times: list[datetime] = field(default_factory=list)
    failed_with: list[str] = field(default_factory=list)
    completed: list[CompleteAssetInput] = field(default_factory=list)
    published: int = 0
    ingested: int = 0
    asset_deleted: bool = False
    complete_hangs: bool = False
    completing: int = 0
    discarded: list[list[str]] = field(default_factory=list)

    @activity.defn(name="mark_asset_running")
    async def mark_asset_running(self, ref: AssetRef) -> bool:
        return True

    @activity.defn(name="plan_kie_submission")
    async def plan_kie_submission(self, ref: AssetRef) -> SubmissionPlan:
        return SubmissionPlan(
            asset_id=ref.asset_id,
            model="google/nano-banana",
            input={"prompt": "x"},
            callback_url=None,
            estimated_cost=4,
        )

    @activity.defn(name="submit_kie_task")
    async def submit_kie_task(self, plan: SubmissionPlan) -> str:
        self.submit_times.append(activity.info().current_attempt_scheduled_time)
        if self.submit_errors:
            raise self.submit_errors.pop(0)
        return TASK_ID

    @activity.defn(name="record_kie_task")
    async def record_kie_task(self, data: RecordTaskInput) -> bool:
        if self.asset_deleted:
            raise ApplicationError("Asset 1 was deleted while it was being generated.", type="AssetGone")
        return True

    @activity.defn(name="fetch_kie_task")
    async def fetch_kie_task(self, ref: TaskRef) -> KieTaskState:
        self.fetch_times.append(activity.info().current_attempt_scheduled_time)
        state = self.states.pop(0) if len(self.states) > 1 else self.states[0]
        if state == "success":
            return KieTaskState(
                task_id=ref.task_id, state=state, result_urls=["http://kie/x.png"], credits_consumed=4
            )
        if state == "fail":
            return KieTaskState(
                task_id=ref.task_id,
                state=state,
                error_type="KieGenerationFailedError",
                error_message=self.fail_message,
            )
        return KieTaskState(task_id=ref.task_id, state=state)

    @activity.defn(name="ingest_result")
    async def ingest_result(self, data: IngestInput) -> IngestResult:
        self.ingested += 1
        return IngestResult(
            file_key="assets/1/original.png", thumbnail_key=None, mime_type="image/png", size_bytes=1
        )

    @activity.defn(name="complete_asset")
    async def complete_asset(self, data: CompleteAssetInput) -> bool:
        self.completing += 1
        if self.complete_hangs:
            await asyncio.sleep(3)  # long enough for the test to cancel the workflow meanwhile
        self.completed.append(data)
        return True

    @activity.defn(name="discard_ingested_files")
    async def discard_ingested_files(self, data: DiscardFilesInput) -> bool:
        self.discarded.append(data.keys)
        return True

    @activity.defn(name="fail_asset")
    async def fail_asset(self, data: FailAssetInput) -> bool:
        self.failed_with.append(data.error_message)
        return True

    @activity.defn(name="publish_asset_status")
    async def publish_asset_status(self, ref: AssetRef) -> bool:
        self.published += 1
        return True

    def activities(self) -> list[object]:
        return [
            self.mark_asset_running,
            self.plan_kie_submission,
            self.submit_kie_task,
            self.record_kie_task,
            self.fetch_kie_task,
            self.ingest_result,
            self.complete_asset,
            self.discard_ingested_files,
            self.fail_asset,
            self.publish_asset_status,
        ]


@dataclass
class Running:
    handle: WorkflowHandle[GenerateAssetWorkflow, object]
    started: datetime


async def start(env: WorkflowEnvironment, queue: str, deadline: int = 900) -> Running:
    handle = await env.client.start_workflow(
        GenerateAssetWorkflow.run,
        GenerateAssetInput(asset_id=1, box_id=2, project_id=3, kind="image", deadline_seconds=deadline),
        id=f"asset-test-{uuid.uuid4().hex[:8]}",
        task_queue=queue,
    )
    started = (await handle.describe()).start_time
    assert started is not None
    return Running(handle, started)


def worker(env: WorkflowEnvironment, world: FakeWorld) -> tuple[Worker, str]:
    queue = f"gen-{uuid.uuid4().hex[:8]}"
    return (
        Worker(
            env.client,
            task_queue=queue,
            workflows=[GenerateAssetWorkflow],
            activities=world.activities(),  # type: ignore[arg-type]
        ),
        queue,
    )


def seconds_between(times: list[datetime]) -> list[float]:
    return [round((b - a).total_seconds()) for a, b in itertools.pairwise(times)]


async def test_callback_before_the_first_poll_completes_without_waiting(env: WorkflowEnvironment) -> None:
    world = FakeWorld(states=["success"])
    w, queue = worker(env, world)
    async with w:
        run = await start(env, queue)
        await run.handle.signal("kie_callback", KieCallbackSignal(task_id=TASK_ID, state="success"))
        result = await run.handle.result()
    assert result.status == "COMPLETED"
    assert len(world.fetch_times) == 1
    assert (world.fetch_times[0] - run.started).total_seconds() < 2  # before the first 2 s poll timer
    assert world.completed[0].cost_credits == 4 and world.published == 2  # RUNNING, COMPLETED


async def test_callback_after_the_first_poll_wakes_the_workflow(env: WorkflowEnvironment) -> None:
    world = FakeWorld(states=["generating", "success"])
    w, queue = worker(env, world)
    async with w:
        run = await start(env, queue)
        async with asyncio.timeout(30):
            while not world.fetch_times:  # noqa: ASYNC110 - the first poll happens on its own timer
                await asyncio.sleep(0.05)
        await run.handle.signal("kie_callback", KieCallbackSignal(task_id=TASK_ID, state="success"))
        result = await run.handle.result()
    assert result.status == "COMPLETED"
    assert len(world.fetch_times) == 2
    assert seconds_between(world.fetch_times)[0] < 2  # woken by the callback, not by the next 2 s timer


async def test_without_callbacks_polling_widens(env: WorkflowEnvironment) -> None:
    world = FakeWorld(
        states=["waiting", "queuing", "generating", "generating", "generating", "generating", "success"]
    )
    w, queue = worker(env, world)
    async with w:
        run = await start(env, queue)
        assert (await run.handle.result()).status == "COMPLETED"
    assert round((world.fetch_times[0] - run.started).total_seconds()) == 2
    assert seconds_between(world.fetch_times) == [2, 3, 3, 3, 5, 5]


async def test_retryable_errors_back_off_exponentially_then_succeed(env: WorkflowEnvironment) -> None:
    world = FakeWorld(
        states=["success"],
        submit_errors=[
            ApplicationError("Kie.ai is unavailable (code 500).", type="KieUnavailableError"),
            ApplicationError("Kie.ai is rate limiting (code 429).", type="KieRateLimitedError"),
        ],
    )
    w, queue = worker(env, world)
    async with w:
        run = await start(env, queue)
        assert (await run.handle.result()).status == "COMPLETED"
        history = await run.handle.fetch_history()
    assert len(world.submit_times) == 3
    # History keeps one scheduled/started pair per activity: the last attempt started 1 s + 2 s after scheduling.
    scheduled = next(
        e
        for e in history.events
        if e.HasField("activity_task_scheduled_event_attributes")
        and e.activity_task_scheduled_event_attributes.activity_type.name == "submit_kie_task"
    )
    started = next(
        e
        for e in history.events
        if e.HasField("activity_task_started_event_attributes")
        and e.activity_task_started_event_attributes.scheduled_event_id == scheduled.event_id
    )
    assert started.activity_task_started_event_attributes.attempt == 3
    gap = started.event_time.ToDatetime() - scheduled.event_time.ToDatetime()
    assert round(gap.total_seconds()) == 3


async def test_retries_are_exhausted_after_three_attempts(env: WorkflowEnvironment) -> None:
    message = "Kie.ai is unavailable: Simulated HTTP 500 (code 500). Kie.ai is unavailable; retry later."
    world = FakeWorld(
        states=["success"],
        submit_errors=[ApplicationError(message, type="KieUnavailableError") for _ in range(5)],
    )
    w, queue = worker(env, world)
    async with w:
        run = await start(env, queue)
        with pytest.raises(WorkflowFailureError) as failure:
            await run.handle.result()
    assert len(world.submit_times) == 3
    assert world.failed_with == [message]
    cause = failure.value.cause
    assert (
        isinstance(cause, ApplicationError) and cause.type == "GenerationFailed" and cause.message == message
    )


@pytest.mark.parametrize(
    "error_type",
    ["KieAuthError", "KieNoCreditsError", "KieInvalidInputError", "KieContentPolicyError"],
)
async def test_errors_retrying_cannot_fix_fail_at_once(env: WorkflowEnvironment, error_type: str) -> None:
    # Raised as retryable on purpose: the workflow's retry policy itself must refuse to retry these types.
    world = FakeWorld(
        states=["success"], submit_errors=[ApplicationError(f"{error_type} said no.", type=error_type)]
    )
    w, queue = worker(env, world)
    async with w:
        run = await start(env, queue)
        with pytest.raises(WorkflowFailureError):
            await run.handle.result()
    assert len(world.submit_times) == 1
    assert world.failed_with == [f"{error_type} said no."]


async def test_a_failed_task_fails_the_asset_with_kie_reason(env: WorkflowEnvironment) -> None:
    world = FakeWorld(states=["generating", "fail"])
    w, queue = worker(env, world)
    async with w:
        run = await start(env, queue)
        with pytest.raises(WorkflowFailureError):
            await run.handle.result()
    assert world.failed_with == [world.fail_message]
    assert world.ingested == 0


async def test_a_task_that_never_finishes_fails_at_the_overall_deadline(env: WorkflowEnvironment) -> None:
    world = FakeWorld(states=["generating"])
    w, queue = worker(env, world)
    async with w:
        run = await start(env, queue, deadline=15 * 60)
        with pytest.raises(WorkflowFailureError):
            await run.handle.result()
    assert world.failed_with == [
        "Kie.ai did not finish the image within 15 minutes (it was still 'generating'). Retry it later."
    ]
    assert (
        world.fetch_times[-1] - run.started
    ).total_seconds() < 15 * 60 + 1  # the last poll ends at the deadline
    assert max(seconds_between(world.fetch_times)) == 30  # the widest poll interval


async def test_cancelling_records_why_and_stops(env: WorkflowEnvironment) -> None:
    world = FakeWorld(states=["generating"])
    w, queue = worker(env, world)
    async with w:
        run = await start(env, queue)
        async with asyncio.timeout(30):
            while not world.fetch_times:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        await run.handle.cancel()
        with pytest.raises(WorkflowFailureError):
            await run.handle.result()
        assert (await run.handle.describe()).status.name == "CANCELED"
    assert world.failed_with == ["The generation was cancelled."]
    assert world.ingested == 0 and not world.completed


async def test_a_deleted_asset_ends_its_workflow_cleanly(env: WorkflowEnvironment) -> None:
    """The user deleted the asset (and cancelling its workflow failed): the workflow stops, records nothing."""
    world = FakeWorld(states=["generating"], asset_deleted=True)
    w, queue = worker(env, world)
    async with w:
        run = await start(env, queue)
        result = await run.handle.result()
        assert (await run.handle.describe()).status.name == "COMPLETED"
    assert result.status == "DELETED" and result.provider_task_id == TASK_ID
    assert world.failed_with == [] and world.fetch_times == []  # no FAILED to record, no polling for nobody


async def test_cancelled_after_storing_the_result_discards_the_files(env: WorkflowEnvironment) -> None:
    """The user deletes the asset while its result is being saved: the stored files do not outlive it."""
    world = FakeWorld(states=["success"], complete_hangs=True)
    w, queue = worker(env, world)
    async with w:
        run = await start(env, queue)
        async with asyncio.timeout(30):
            while not world.completing:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        await run.handle.cancel()
        with pytest.raises(WorkflowFailureError):
            await run.handle.result()
        assert (await run.handle.describe()).status.name == "CANCELED"
    assert world.ingested == 1
    assert world.discarded == [["assets/1/original.png"]]


async def test_histories_replay_deterministically(env: WorkflowEnvironment) -> None:
    world = FakeWorld(states=["generating", "success"])
    w, queue = worker(env, world)
    async with w:
        run = await start(env, queue)
        async with asyncio.timeout(30):
            while not world.fetch_times:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        await run.handle.signal("kie_callback", KieCallbackSignal(task_id=TASK_ID, state="success"))
        await run.handle.result()
        history = await run.handle.fetch_history()
    replayer = Replayer(workflows=[GenerateAssetWorkflow], data_converter=pydantic_data_converter)
    await replayer.replay_workflow(history)


HISTORIES = Path(__file__).parent / "histories"


@pytest.mark.parametrize("name", ["completed_7fbda62", "cancelled_after_ingest_7fbda62"])
async def test_histories_recorded_by_older_code_replay_against_the_current_workflow(name: str) -> None:
    """Runs in flight during a deploy are replayed by the new code: histories recorded at 7fbda62 (before the
    retry windows and patches) must replay without a non-determinism error (see histories/record.py)."""
    history = WorkflowHistory.from_json(name, (HISTORIES / f"{name}.json").read_text())
    replayer = Replayer(workflows=[GenerateAssetWorkflow], data_converter=pydantic_data_converter)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure


async def test_callbacks_for_other_tasks_are_dropped_and_the_history_replays(
    env: WorkflowEnvironment,
) -> None:
    """The bounded-callbacks patch: foreign task ids are dropped in the signal handler (replay-safe)."""
    world = FakeWorld(states=["generating", "success"])
    w, queue = worker(env, world)
    async with w:
        run = await start(env, queue)
        async with asyncio.timeout(30):
            while not world.fetch_times:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        for n in range(20):
            await run.handle.signal("kie_callback", KieCallbackSignal(task_id=f"forged-{n}", state="success"))
        await run.handle.signal("kie_callback", KieCallbackSignal(task_id=TASK_ID, state="success"))
        result = await run.handle.result()
        history = await run.handle.fetch_history()
    assert result.status == "COMPLETED"
    assert len(world.fetch_times) == 2  # woken once, by the submitted task's callback
    replayer = Replayer(workflows=[GenerateAssetWorkflow], data_converter=pydantic_data_converter)
    await replayer.replay_workflow(history)
