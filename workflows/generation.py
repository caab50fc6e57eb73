"""GenerateAssetWorkflow: submit to Kie.ai, wait (callback signal or polling), ingest to S3, complete, publish.

Deterministic: every effect is an activity; time is `workflow.now()` and durable timers. The Kie.ai task id is
recorded in history as soon as createTask answers, so a worker restart never submits a second task.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, is_cancelled_exception
from temporalio.exceptions import TimeoutError as ActivityTimeoutError

with workflow.unsafe.imports_passed_through():
    from activities.assets import AssetActivities
    from activities.events import EventActivities
    from activities.kie import KieActivities
    from activities.storage import StorageActivities
    from workflows.generation_payloads import (
        KIE_CALLBACK_SIGNAL,
        AssetRef,
        CompleteAssetInput,
        DiscardFilesInput,
        FailAssetInput,
        GenerateAssetInput,
        GenerateAssetResult,
        IngestInput,
        IngestResult,
        KieCallbackSignal,
        KieTaskState,
        RecordTaskInput,
        SubmissionPlan,
        TaskRef,
    )

NON_RETRYABLE_ERROR_TYPES = [
    "KieAuthError",
    "KieNoCreditsError",
    "KieInvalidInputError",
    "KieContentPolicyError",
    "KieNotFoundError",
    "KieGenerationFailedError",
    "AssetGone",
]
"""Errors retrying cannot fix: a bad key, no credits, a rejected request or prompt, a task Kie.ai forgot."""

KIE_RETRY_POLICY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=3,
    non_retryable_error_types=NON_RETRYABLE_ERROR_TYPES,
)
STEP_RETRY_POLICY = KIE_RETRY_POLICY
"""Ingest and database steps: the same 3 attempts with exponential backoff."""
FINAL_RETRY_POLICY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=60),
    maximum_attempts=10,
    non_retryable_error_types=["AssetGone"],
)
"""Recording a failure and publishing it: tried harder, as nothing else will tell the user."""

KIE_CALL_TIMEOUT = timedelta(seconds=90)
INGEST_TIMEOUT = timedelta(minutes=5)
DB_TIMEOUT = timedelta(seconds=30)
POLL_INTERVALS_SECONDS = (2, 2, 3, 3, 3, 5, 5, 5, 10, 10, 15, 15, 20, 30)
"""Widening recordInfo intervals (Kie.ai's guidance: 2-3 s at first, 15-30 s after two minutes)."""

STEP_NAMES = {
    "mark_asset_running": "starting",
    "plan_kie_submission": "preparing the request",
    "submit_kie_task": "submitting to Kie.ai",
    "record_kie_task": "recording the Kie.ai task",
    "fetch_kie_task": "checking on Kie.ai",
    "ingest_result": "saving the result",
    "complete_asset": "saving the result",
}


ASSET_GONE_PATCH = "asset-gone-ends-cleanly"
"""Since this patch a deleted asset ends its workflow with status DELETED instead of failing it."""


class AssetDeleted(Exception):
    """The asset row is gone (the user deleted it): nothing to record, nothing to fail."""


class GenerationFailed(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def readable_error(error: ActivityError) -> str:
    """A sentence a person understands from a failed activity (never a traceback)."""
    step = STEP_NAMES.get(error.activity_type or "", "generating")
    cause = error.cause
    if isinstance(cause, ApplicationError):
        if cause.type and (cause.type.startswith("Kie") or cause.type in ("AssetGone", "IngestError")):
            return cause.message
        # Not a provider answer (a bug or an outage here): name it without leaking internals.
        return f"Internal error while {step} ({cause.type or 'unknown'}). Retry it; if it keeps failing, tell us."
    if isinstance(cause, ActivityTimeoutError):
        return f"The worker took too long {step}. Retry it."
    return f"The generation failed while {step}. Retry it."


def _asset_gone(error: ActivityError) -> bool:
    return isinstance(error.cause, ApplicationError) and error.cause.type == "AssetGone"


@workflow.defn(name="GenerateAssetWorkflow")
class GenerateAssetWorkflow:
    def __init__(self) -> None:
        self._finished_tasks: set[str] = set()
        self._task_id: str | None = None
        self._ingested: IngestResult | None = None
        self._status = "PENDING"

    @workflow.signal(name=KIE_CALLBACK_SIGNAL)
    def kie_callback(self, signal: KieCallbackSignal) -> None:
        self._finished_tasks.add(signal.task_id)

    @workflow.query(name="status")
    def status(self) -> str:
        return self._status

    @workflow.run
    async def run(self, input: GenerateAssetInput) -> GenerateAssetResult:
        ref = AssetRef(asset_id=input.asset_id)
        try:
            return await self._generate(input, ref)
        except AssetDeleted:
            workflow.logger.info("asset %s was deleted; its generation stops", input.asset_id)
            return GenerateAssetResult(
                asset_id=input.asset_id, status="DELETED", provider_task_id=self._task_id
            )
        except GenerationFailed as failure:
            await self._fail(ref, failure.message)
            raise ApplicationError(failure.message, type="GenerationFailed", non_retryable=True) from None
        except BaseException as error:
            if is_cancelled_exception(error):
                # The asset may be gone already (deleted); a still-existing one says why it stopped.
                await self._fail(ref, "The generation was cancelled.")
                if self._ingested is not None and workflow.patched(ASSET_GONE_PATCH):
                    await self._discard(ref, self._ingested)
            raise

    async def _generate(self, input: GenerateAssetInput, ref: AssetRef) -> GenerateAssetResult:
        try:
            started = await workflow.execute_activity_method(
                AssetActivities.mark_asset_running,
                ref,
                start_to_close_timeout=DB_TIMEOUT,
                retry_policy=STEP_RETRY_POLICY,
            )
            self._status = "RUNNING"
            if started:
                await self._publish(ref)
            plan: SubmissionPlan = await workflow.execute_activity_method(
                AssetActivities.plan_kie_submission,
                ref,
                start_to_close_timeout=DB_TIMEOUT,
                retry_policy=STEP_RETRY_POLICY,
            )
            task_id: str = await workflow.execute_activity_method(
                KieActivities.submit_kie_task,
                plan,
                start_to_close_timeout=KIE_CALL_TIMEOUT,
                retry_policy=KIE_RETRY_POLICY,
            )
            self._task_id = task_id
            await workflow.execute_activity_method(
                AssetActivities.record_kie_task,
                RecordTaskInput(asset_id=input.asset_id, task_id=task_id),
                start_to_close_timeout=DB_TIMEOUT,
                retry_policy=STEP_RETRY_POLICY,
            )
            state = await self._wait_for_result(input, task_id)
            if state.state != "success":
                raise GenerationFailed(state.error_message or "Kie.ai could not generate it. Retry it.")
            ingest = await workflow.execute_activity_method(
                StorageActivities.ingest_result,
                IngestInput(asset_id=input.asset_id, kind=input.kind, result_url=state.result_urls[0]),
                start_to_close_timeout=INGEST_TIMEOUT,
                retry_policy=STEP_RETRY_POLICY,
            )
            self._ingested = ingest
            cost = state.credits_consumed if state.credits_consumed is not None else plan.estimated_cost
            await workflow.execute_activity_method(
                AssetActivities.complete_asset,
                CompleteAssetInput(
                    asset_id=input.asset_id, task_id=task_id, ingest=ingest, cost_credits=cost
                ),
                start_to_close_timeout=DB_TIMEOUT,
                retry_policy=STEP_RETRY_POLICY,
            )
        except ActivityError as error:
            if is_cancelled_exception(error):
                raise
            if _asset_gone(error) and workflow.patched(ASSET_GONE_PATCH):
                raise AssetDeleted() from None
            raise GenerationFailed(readable_error(error)) from None
        self._status = "COMPLETED"
        await self._publish(ref)
        return GenerateAssetResult(asset_id=input.asset_id, status="COMPLETED", provider_task_id=task_id)

    async def _wait_for_result(self, input: GenerateAssetInput, task_id: str) -> KieTaskState:
        """Wake on the callback signal or on the next widening timer, then ask recordInfo; stop at the deadline."""
        deadline = workflow.now() + timedelta(seconds=input.deadline_seconds)
        polls = 0
        state: KieTaskState | None = None
        while True:
            remaining = (deadline - workflow.now()).total_seconds()
            if remaining <= 0:
                what = "video" if input.kind == "video" else "image"
                seconds = input.deadline_seconds
                limit = f"{seconds / 60:g} minutes" if seconds >= 60 else f"{seconds} seconds"
                last = f" (it was still '{state.state}')" if state is not None else ""
                raise GenerationFailed(
                    f"Kie.ai did not finish the {what} within {limit}{last}. Retry it later."
                )
            interval = POLL_INTERVALS_SECONDS[min(polls, len(POLL_INTERVALS_SECONDS) - 1)]
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(
                    lambda: task_id in self._finished_tasks, timeout=min(interval, remaining)
                )
            self._finished_tasks.discard(task_id)
            state = await workflow.execute_activity_method(
                KieActivities.fetch_kie_task,
                TaskRef(task_id=task_id),
                start_to_close_timeout=KIE_CALL_TIMEOUT,
                retry_policy=KIE_RETRY_POLICY,
            )
            if state.is_terminal:
                return state
            polls += 1

    async def _publish(self, ref: AssetRef) -> None:
        await workflow.execute_activity_method(
            EventActivities.publish_asset_status,
            ref,
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=FINAL_RETRY_POLICY,
        )

    async def _discard(self, ref: AssetRef, ingest: IngestResult) -> None:
        """Cancelled between storing the result and completing the asset (the user deleted it): no orphans."""
        keys = [key for key in (ingest.file_key, ingest.thumbnail_key) if key]
        await workflow.execute_activity_method(
            AssetActivities.discard_ingested_files,
            DiscardFilesInput(asset_id=ref.asset_id, keys=keys),
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=FINAL_RETRY_POLICY,
        )

    async def _fail(self, ref: AssetRef, message: str) -> None:
        self._status = "FAILED"
        changed = await workflow.execute_activity_method(
            AssetActivities.fail_asset,
            FailAssetInput(asset_id=ref.asset_id, error_message=message),
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=FINAL_RETRY_POLICY,
        )
        if changed:
            await self._publish(ref)
