"""GenerateAssetWorkflow: submit to Kie.ai, wait (callback signal or polling), ingest to S3, complete, publish.

Deterministic: every effect is an activity; time is `workflow.now()` and durable timers. The Kie.ai task id is
recorded in history as soon as createTask answers, so a worker restart never submits a second task.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import (
    ActivityError,
    ApplicationError,
    RetryState,
    TimeoutType,
    is_cancelled_exception,
)
from temporalio.exceptions import TimeoutError as ActivityTimeoutError

with workflow.unsafe.imports_passed_through():
    from core.contract import (
        COMPLETE_ASSET,
        DISCARD_INGESTED_FILES,
        FAIL_ASSET,
        FETCH_KIE_TASK,
        GENERATE_WORKFLOW,
        INGEST_RESULT,
        KIE_CALLBACK_SIGNAL,
        KIE_ERRORS,
        MARK_ASSET_RUNNING,
        NON_RETRYABLE_KIE_ERRORS,
        PLAN_KIE_SUBMISSION,
        PUBLISH_ASSET_STATUS,
        RECORD_KIE_TASK,
        STATUS_QUERY,
        SUBMIT_KIE_TASK,
        AssetGone,
        AssetKind,
        AssetNotWaiting,
        AssetRef,
        AssetStatus,
        CompleteAssetInput,
        DiscardFilesInput,
        EventsUnavailable,
        FailAssetInput,
        GenerateAssetInput,
        GenerateAssetResult,
        GenerationFailed,
        GenerationOutcome,
        IngestError,
        IngestInput,
        IngestResult,
        KieCallbackSignal,
        KieState,
        KieTaskState,
        RecordTaskInput,
        SubmissionPlan,
        TaskRef,
    )
    from core.errors import S3Unavailable

NON_RETRYABLE_ERROR_TYPES = [
    kind.__name__ for kind in (*NON_RETRYABLE_KIE_ERRORS, AssetGone, AssetNotWaiting)
]
"""Errors retrying cannot fix: a bad key, no credits, a rejected request or prompt, a task Kie.ai forgot."""

OUTAGE_ERROR_TYPES = frozenset(
    {
        # PostgreSQL (psycopg and SQLAlchemy use the same names)
        "OperationalError",
        "InterfaceError",
        "DisconnectionError",
        # S3 (botocore)
        "EndpointConnectionError",
        "ConnectionClosedError",
        "ConnectTimeoutError",
        "ReadTimeoutError",
        "HTTPClientError",
        "ProxyConnectionError",
        S3Unavailable.__name__,
        # Redis (redis-py), and the publish activity's own "Redis is unavailable"
        "ConnectionError",
        "TimeoutError",
        "BusyLoadingError",
        EventsUnavailable.__name__,
        # the socket itself
        OSError.__name__,
        ConnectionRefusedError.__name__,
        ConnectionResetError.__name__,
        ConnectionAbortedError.__name__,
        BrokenPipeError.__name__,
        "gaierror",
    }
)
"""The `ApplicationError.type` (the exception's class name) of an activity's failure when one of our services is
unreachable. A step that gave up on anything else is a bug of ours and is reported as an internal error. The
third-party names are written out: a workflow does not import the database, S3 or Redis clients that define them."""

PROVIDER_ANSWER_TYPES = frozenset(kind.__name__ for kind in (*KIE_ERRORS, AssetGone, IngestError))
"""Failures whose message is Kie.ai's answer (or says the asset is gone): shown to the user as they are."""


def attempts_for_window(window_seconds: float, max_interval_seconds: float) -> int:
    """How many attempts make the pauses between them (1 s, doubling, capped at `max_interval_seconds`) add up to
    at least `window_seconds`. A window counted in attempts, unlike a schedule-to-close, does not run while the step
    waits in the queue for a worker: a worker down for hours uses none of it."""
    attempts, paused, pause = 1, 0.0, 1.0
    while paused < window_seconds:
        paused += min(pause, max_interval_seconds)
        pause *= 2
        attempts += 1
    return attempts


def retry_policy(max_interval_seconds: float, attempts: int, non_retryable: list[str]) -> RetryPolicy:
    """Every step's policy: 1 s doubling up to `max_interval_seconds`; `attempts` 0 means no limit."""
    return RetryPolicy(
        initial_interval=timedelta(seconds=1),
        backoff_coefficient=2.0,
        maximum_interval=timedelta(seconds=max_interval_seconds),
        maximum_attempts=attempts,
        non_retryable_error_types=non_retryable,
    )


KIE_RETRY_POLICY = retry_policy(30, 3, NON_RETRYABLE_ERROR_TYPES)
"""createTask costs money: 3 attempts (the seed's rule for the AI provider's request)."""
KIE_CALL_TIMEOUT = timedelta(seconds=90)


POLL_MIN_WINDOW_SECONDS = 60
"""recordInfo is retried for at least this long, even when the deadline is near or past (after an outage)."""


def poll_retry_policy(seconds_left: float) -> RetryPolicy:
    """recordInfo is free, and the task it asks about is paid for: a flaky Kie.ai is asked again (30 s apart at most)
    for the time left until the generation's deadline (at least a minute), never given up on after 3 quick
    attempts. Counted in attempts: a worker or Temporal outage spanning the deadline does not use them up."""
    window = max(seconds_left, POLL_MIN_WINDOW_SECONDS)
    return retry_policy(30, attempts_for_window(window, 30), NON_RETRYABLE_ERROR_TYPES)


def infra_retry_policy(input: GenerateAssetInput) -> RetryPolicy:
    """Steps that only touch our database, S3 or Redis: an outage of ours delays a paid generation, it does not
    fail it. As many attempts as it takes for the pauses between them to cover the window."""
    attempts = attempts_for_window(input.infra_retry_window_seconds, input.infra_retry_max_interval_seconds)
    return retry_policy(input.infra_retry_max_interval_seconds, attempts, NON_RETRYABLE_ERROR_TYPES)


def final_retry_policy(input: GenerateAssetInput) -> RetryPolicy:
    """Recording the final state (FAILED, cancelled) and telling the user: no attempt limit and no window, so the
    workflow cannot close while the row still says PENDING/RUNNING. Only a deleted asset stops it."""
    return retry_policy(input.infra_retry_max_interval_seconds, 0, [AssetGone.__name__])


INGEST_TIMEOUT = timedelta(minutes=5)
DB_TIMEOUT = timedelta(seconds=30)
STORAGE_TIMEOUT = timedelta(minutes=2)
"""Database steps that may also delete S3 objects (complete an asset deleted meanwhile, discard): longer than one
boto3 call can take with its own retries (3 attempts x (5 s connect + 30 s read))."""
POLL_INTERVALS_SECONDS = (2, 2, 3, 3, 3, 5, 5, 5, 10, 10, 15, 15, 20, 30)
"""Widening recordInfo intervals (Kie.ai's guidance: 2-3 s at first, 15-30 s after two minutes)."""

STEP_NAMES = {
    MARK_ASSET_RUNNING: "starting",
    PLAN_KIE_SUBMISSION: "preparing the request",
    SUBMIT_KIE_TASK: "submitting to Kie.ai",
    RECORD_KIE_TASK: "recording the Kie.ai task",
    FETCH_KIE_TASK: "checking on Kie.ai",
    INGEST_RESULT: "saving the result",
    COMPLETE_ASSET: "saving the result",
}


ASSET_GONE_PATCH = "asset-gone-ends-cleanly"
"""Since this patch a deleted asset ends its workflow with status DELETED instead of failing it."""


PUBLISH_NEVER_FAILS_PATCH = "publish-never-fails-generation"
"""Since this patch a status event given up on (Redis down past the window) is logged; it no longer fails the run."""


BOUNDED_CALLBACKS_PATCH = "callbacks-keep-bounded-state"
"""Since this patch a callback signal for another task than the submitted one is dropped, and at most one task id
is kept, so the state stays bounded however many signals arrive (the API also stops forged ones before Temporal)."""


def retry_window_ran_out(error: ActivityError) -> BaseException | None:
    """When an activity gave up because its window ran out (its attempts, or the schedule-to-close of runs started
    before the windows were attempt counts): its last attempt's failure (or the timeout itself when it had none).
    None when it failed for another reason."""
    cause = error.cause
    if isinstance(cause, ActivityTimeoutError) and cause.type is TimeoutType.SCHEDULE_TO_CLOSE:
        return cause.cause or cause
    if error.retry_state in (RetryState.MAXIMUM_ATTEMPTS_REACHED, RetryState.TIMEOUT) and cause is not None:
        # Temporal reports the last attempt's failure.
        return cause
    return None


def is_outage(failure: BaseException) -> bool:
    """Whether an activity's failure says one of our services was unreachable (not a bug of ours)."""
    return isinstance(failure, ApplicationError) and failure.type in OUTAGE_ERROR_TYPES


def readable_error(error: ActivityError) -> str:
    """A sentence a person understands from a failed activity (never a traceback)."""
    step = STEP_NAMES.get(error.activity_type or "", "generating")
    cause = error.cause
    if isinstance(cause, ApplicationError) and cause.type in PROVIDER_ANSWER_TYPES:
        return cause.message
    last = retry_window_ran_out(error)
    if last is not None and is_outage(last):
        return f"Our database or file storage stayed unavailable while {step}. Retry it."
    failure = last if isinstance(last, ApplicationError) else cause
    if isinstance(failure, ApplicationError):
        # Not a provider answer nor an outage: a bug here. Name it without leaking internals.
        return f"Internal error while {step} ({failure.type or 'unknown'}). Retry it; if it keeps failing, tell us."
    if isinstance(cause, ActivityTimeoutError):
        return f"The worker took too long {step}. Retry it."
    return f"The generation failed while {step}. Retry it."


def _error_type(error: ActivityError) -> str | None:
    return error.cause.type if isinstance(error.cause, ApplicationError) else None


@workflow.defn(name=GENERATE_WORKFLOW)
class GenerateAssetWorkflow:
    def __init__(self) -> None:
        self._finished_tasks: set[str] = set()
        self._task_id: str | None = None
        self._ingested: IngestResult | None = None
        self._charged: float | None = None
        """What Kie.ai charged for this run, once known: a failure after its success (ingest refused) still
        cost that much."""
        self._status = AssetStatus.PENDING
        self._input: GenerateAssetInput | None = None

    @workflow.signal(name=KIE_CALLBACK_SIGNAL)
    def kie_callback(self, signal: KieCallbackSignal) -> None:
        if not workflow.patched(BOUNDED_CALLBACKS_PATCH):
            self._finished_tasks.add(signal.task_id)
            return
        if self._task_id is not None and signal.task_id != self._task_id:
            return
        self._finished_tasks = {signal.task_id}

    @workflow.query(name=STATUS_QUERY)
    def status(self) -> AssetStatus:
        return self._status

    @property
    def input(self) -> GenerateAssetInput:
        assert self._input is not None
        return self._input

    @workflow.run
    async def run(self, input: GenerateAssetInput) -> GenerateAssetResult:
        self._input = input
        ref = AssetRef(asset_id=input.asset_id)
        try:
            return await self._generate(input, ref)
        except AssetGone:
            workflow.logger.info("asset %s was deleted; its generation stops", input.asset_id)
            return GenerateAssetResult(
                asset_id=input.asset_id, status=GenerationOutcome.DELETED, provider_task_id=self._task_id
            )
        except AssetNotWaiting:
            workflow.logger.info(
                "asset %s is not waiting for this run; it stops before Kie.ai", input.asset_id
            )
            return GenerateAssetResult(asset_id=input.asset_id, status=GenerationOutcome.SKIPPED)
        except GenerationFailed as failure:
            await self._fail(ref, failure.message)
            raise ApplicationError(
                failure.message, type=GenerationFailed.__name__, non_retryable=True
            ) from None
        except BaseException as error:
            if is_cancelled_exception(error):
                # The asset may be gone already (deleted); a still-existing one says why it stopped.
                await self._fail(ref, "The generation was cancelled.")
                if self._ingested is not None and workflow.patched(ASSET_GONE_PATCH):
                    await self._discard(ref, self._ingested)
            raise

    async def _generate(self, input: GenerateAssetInput, ref: AssetRef) -> GenerateAssetResult:
        infra = infra_retry_policy(input)
        try:
            started: bool = await workflow.execute_activity(
                MARK_ASSET_RUNNING,
                ref,
                result_type=bool,
                start_to_close_timeout=DB_TIMEOUT,
                retry_policy=infra,
            )
            self._status = AssetStatus.RUNNING
            if started:
                await self._publish(ref)
            plan: SubmissionPlan = await workflow.execute_activity(
                PLAN_KIE_SUBMISSION,
                ref,
                result_type=SubmissionPlan,
                start_to_close_timeout=DB_TIMEOUT,
                retry_policy=infra,
            )
            task_id: str = await workflow.execute_activity(
                SUBMIT_KIE_TASK,
                plan,
                result_type=str,
                start_to_close_timeout=KIE_CALL_TIMEOUT,
                retry_policy=KIE_RETRY_POLICY,
            )
            self._task_id = task_id
            await workflow.execute_activity(
                RECORD_KIE_TASK,
                RecordTaskInput(asset_id=input.asset_id, task_id=task_id),
                result_type=bool,
                start_to_close_timeout=DB_TIMEOUT,
                retry_policy=infra,
            )
            state = await self._wait_for_result(input, task_id)
            if state.state == KieState.SUCCESS:
                self._charged = (
                    state.credits_consumed if state.credits_consumed is not None else plan.estimated_cost
                )
            elif state.credits_consumed:
                self._charged = state.credits_consumed
            if state.state != KieState.SUCCESS:
                raise GenerationFailed(state.error_message or "Kie.ai could not generate it. Retry it.")
            # A failed upload is retried by downloading again from Kie.ai (free); the task is never submitted again.
            ingest: IngestResult = await workflow.execute_activity(
                INGEST_RESULT,
                IngestInput(asset_id=input.asset_id, kind=input.kind, result_url=state.result_urls[0]),
                result_type=IngestResult,
                start_to_close_timeout=INGEST_TIMEOUT,
                retry_policy=infra,
            )
            self._ingested = ingest
            cost = self._charged
            # Retries reuse the stored objects (their keys are in the input, derived from the asset id).
            await workflow.execute_activity(
                COMPLETE_ASSET,
                CompleteAssetInput(
                    asset_id=input.asset_id, task_id=task_id, ingest=ingest, cost_credits=cost
                ),
                result_type=bool,
                start_to_close_timeout=STORAGE_TIMEOUT,
                retry_policy=infra,
            )
        except ActivityError as error:
            if is_cancelled_exception(error):
                raise
            if _error_type(error) == AssetGone.__name__ and workflow.patched(ASSET_GONE_PATCH):
                raise AssetGone() from None
            if (
                _error_type(error) == AssetNotWaiting.__name__
            ):  # no history holds this error before it existed: no patch needed
                raise AssetNotWaiting() from None
            raise GenerationFailed(readable_error(error)) from None
        self._status = AssetStatus.COMPLETED
        await self._publish(ref)
        return GenerateAssetResult(
            asset_id=input.asset_id, status=GenerationOutcome.COMPLETED, provider_task_id=task_id
        )

    async def _wait_for_result(self, input: GenerateAssetInput, task_id: str) -> KieTaskState:
        """Wake on the callback signal or on the next widening timer, then ask recordInfo; stop at the deadline."""
        deadline = workflow.now() + timedelta(seconds=input.deadline_seconds)
        polls = 0
        state: KieTaskState | None = None
        what = "video" if input.kind == AssetKind.VIDEO else "image"
        seconds = input.deadline_seconds
        limit = f"{seconds / 60:g} minutes" if seconds >= 60 else f"{seconds} seconds"
        while True:
            remaining = (deadline - workflow.now()).total_seconds()
            if remaining <= 0:
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
            remaining = (deadline - workflow.now()).total_seconds()
            try:
                state = await workflow.execute_activity(
                    FETCH_KIE_TASK,
                    TaskRef(task_id=task_id),
                    result_type=KieTaskState,
                    start_to_close_timeout=KIE_CALL_TIMEOUT,
                    retry_policy=poll_retry_policy(remaining),
                )
            except ActivityError as error:
                last_error = retry_window_ran_out(error)
                if last_error is None:
                    raise
                # Kie.ai kept failing to answer until the deadline: say so, with its last answer.
                said = (
                    f": {last_error.message.rstrip('.')}" if isinstance(last_error, ApplicationError) else ""
                )
                raise GenerationFailed(
                    f"Kie.ai could not tell us how the {what} went within {limit}{said}. Retry it later."
                ) from None
            if state.is_terminal:
                return state
            polls += 1

    async def _publish(self, ref: AssetRef) -> None:
        """Tell the project's sockets (retried while Redis or the database is down). Past the window the row is
        still right; sockets that missed the event were closed as "unavailable" and refetch it."""
        try:
            await workflow.execute_activity(
                PUBLISH_ASSET_STATUS,
                ref,
                result_type=bool,
                start_to_close_timeout=DB_TIMEOUT,
                retry_policy=infra_retry_policy(self.input),
            )
        except ActivityError as error:
            # Runs that started before the patch failed the generation here; their replay must do the same.
            if is_cancelled_exception(error) or not workflow.patched(PUBLISH_NEVER_FAILS_PATCH):
                raise
            workflow.logger.warning("asset %s: status not published: %s", ref.asset_id, error.cause or error)

    async def _discard(self, ref: AssetRef, ingest: IngestResult) -> None:
        """Cancelled between storing the result and completing the asset (the user deleted it): no orphans."""
        keys = [key for key in (ingest.file_key, ingest.thumbnail_key) if key]
        await workflow.execute_activity(
            DISCARD_INGESTED_FILES,
            DiscardFilesInput(asset_id=ref.asset_id, keys=keys),
            result_type=bool,
            start_to_close_timeout=STORAGE_TIMEOUT,
            retry_policy=final_retry_policy(self.input),
        )

    async def _fail(self, ref: AssetRef, message: str) -> None:
        """Record the failure, however long the database takes to answer: the workflow never ends with the row
        still PENDING/RUNNING. Then publish it, as insistently: nothing else will tell the user."""
        self._status = AssetStatus.FAILED
        final = final_retry_policy(self.input)
        changed: bool = await workflow.execute_activity(
            FAIL_ASSET,
            FailAssetInput(asset_id=ref.asset_id, error_message=message, cost_credits=self._charged),
            result_type=bool,
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=final,
        )
        if changed:
            await workflow.execute_activity(
                PUBLISH_ASSET_STATUS,
                ref,
                result_type=bool,
                start_to_close_timeout=DB_TIMEOUT,
                retry_policy=final,
            )
