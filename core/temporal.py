"""Every call the API and the worker make to Temporal as a client: connect (with the pydantic converter), start a
generation / smart edit / retention run, cancel, signal, wait for a smart edit, keep the schedules, describe a
workflow. One mapping of "Temporal is not there" (RPCError statuses, timeouts, failed connects) to
TemporalUnavailable: `temporal_call`. Names, ids and payloads come from `core.contract`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleState,
    ScheduleUpdate,
    ScheduleUpdateInput,
    WorkflowExecutionDescription,
    WorkflowHandle,
)
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDConflictPolicy
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from core.contract import (
    ASSET_ID_ATTRIBUTE,
    BOX_ID_ATTRIBUTE,
    GENERATE_WORKFLOW,
    KIE_CALLBACK_SIGNAL,
    PROJECT_ID_ATTRIBUTE,
    RECONCILE_WORKFLOW,
    RETENTION_WORKFLOW,
    SMART_EDIT_WORKFLOW,
    GenerateAssetInput,
    KieCallbackSignal,
    ReconcileInput,
    RetentionInput,
    RewritePromptInput,
    RewritePromptResult,
    asset_workflow_id,
    reconcile_schedule_id,
    retention_schedule_id,
    retention_workflow_id,
    smart_edit_workflow_id,
    task_queue,
)
from core.errors import TemporalUnavailable
from core.settings import Settings

logger = logging.getLogger(__name__)

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


class TemporalClientHolder:
    """Connects on first use so the API serves REST even while Temporal is still starting or briefly away."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._client: Client | None = None

    async def get(self) -> Client:
        if self._client is None:
            # Bounded: a server that accepts the connection and never answers would hold the request for ~30 s.
            try:
                async with temporal_call(self.settings):
                    self._client = await connect_temporal(self.settings)
            except RuntimeError as exc:  # how the SDK reports a failed connect (e.g. the port refuses)
                raise TemporalUnavailable(TEMPORAL_UNAVAILABLE) from exc
        return self._client


def rpc_timeout(settings: Settings) -> timedelta:
    """The `rpc_timeout` of a call the API makes to Temporal (start, signal, cancel)."""
    return timedelta(seconds=settings.temporal_rpc_timeout_seconds)


@asynccontextmanager
async def temporal_errors(failure: str = TEMPORAL_UNAVAILABLE) -> AsyncIterator[None]:
    """THE mapping of "Temporal is not there" (`temporal_down`: no answer in time, or a status of
    TEMPORAL_DOWN_STATUSES) to TemporalUnavailable(failure), a 503 logged once per outage. Any other error (a call
    Temporal refused as wrong, a bug) goes through unchanged: a logged 500."""
    try:
        yield
    except (RPCError, TimeoutError) as exc:
        if not temporal_down(exc):
            raise
        raise TemporalUnavailable(failure) from exc


@asynccontextmanager
async def temporal_call(settings: Settings, failure: str = TEMPORAL_UNAVAILABLE) -> AsyncIterator[None]:
    """Bound one call to Temporal by TEMPORAL_RPC_TIMEOUT_SECONDS, with `temporal_errors`' mapping.
    `rpc_timeout` alone does not bound a call that first has to reconnect to a server that never answers.

    A call that timed out may still have taken effect on the server; callers must be safe either way.
    """
    async with temporal_errors(failure), asyncio.timeout(settings.temporal_rpc_timeout_seconds):
        yield


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


# --- generations ------------------------------------------------------------------------------------------------

CALLBACK_UNAVAILABLE = "The job service is unavailable; send the callback again."


async def start_generation(
    client: Client, settings: Settings, payload: GenerateAssetInput, *, replace_closed_run: bool = False
) -> str:
    """Start `asset-{id}`; a run already started for this asset counts as started (no second workflow)."""
    workflow_id = asset_workflow_id(payload.asset_id)
    options: dict[str, Any] = {}
    if settings.temporal_search_attributes:
        options["search_attributes"] = TypedSearchAttributes(
            [
                SearchAttributePair(ASSET_ID_ATTRIBUTE, payload.asset_id),
                SearchAttributePair(BOX_ID_ATTRIBUTE, payload.box_id),
                SearchAttributePair(PROJECT_ID_ATTRIBUTE, payload.project_id),
            ]
        )
    if replace_closed_run:
        options["id_conflict_policy"] = WorkflowIDConflictPolicy.TERMINATE_EXISTING
    async with temporal_call(settings):
        try:
            await client.start_workflow(
                GENERATE_WORKFLOW,
                payload,
                id=workflow_id,
                task_queue=task_queue(settings),
                rpc_timeout=rpc_timeout(settings),
                **options,
            )
        except WorkflowAlreadyStartedError:
            logger.info("workflow %s already started; not starting another", workflow_id)
    return workflow_id


async def cancel_generation(client: Client, settings: Settings, asset_id: int) -> bool:
    """Ask the asset's workflow to stop (it records nothing more once its asset is gone); True when asked, or when
    the workflow is already closed or was never started. False, logged, when Temporal did not take the request
    (away, refused, no answer within TEMPORAL_RPC_TIMEOUT_SECONDS): the caller goes on, as the workflow stops by
    itself when it finds its asset missing. Never raises for Temporal's sake."""
    handle: WorkflowHandle[Any, Any] = client.get_workflow_handle(asset_workflow_id(asset_id))
    try:
        async with asyncio.timeout(settings.temporal_rpc_timeout_seconds):
            await handle.cancel(rpc_timeout=rpc_timeout(settings))
    except RPCError as exc:
        if exc.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.FAILED_PRECONDITION):
            return True
        failure: BaseException = exc
    except (TimeoutError, RuntimeError) as exc:  # no answer in time; the SDK's failed (re)connect
        failure = exc
    else:
        return True
    logger.warning("could not cancel the workflow of deleted asset %s", asset_id, exc_info=failure)
    return False


async def signal_kie_callback(
    client: Client, settings: Settings, asset_id: int, signal: KieCallbackSignal
) -> bool:
    """Signal the asset's workflow; False when there is no running workflow for it (a late or stray callback)."""
    handle: WorkflowHandle[Any, Any] = client.get_workflow_handle(asset_workflow_id(asset_id))
    async with temporal_call(settings, CALLBACK_UNAVAILABLE):
        try:
            await handle.signal(KIE_CALLBACK_SIGNAL, signal, rpc_timeout=rpc_timeout(settings))
        except RPCError as exc:
            if exc.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.FAILED_PRECONDITION):
                return False
            raise
    return True


async def describe_workflow(client: Client, workflow_id: str) -> WorkflowExecutionDescription | None:
    """The latest run of `workflow_id`; None when Temporal has none (never started, or its record expired). Any
    other error (Temporal unreachable) raises."""
    handle: WorkflowHandle[Any, Any] = client.get_workflow_handle(workflow_id)
    try:
        return await handle.describe()
    except RPCError as exc:
        if exc.status is RPCStatusCode.NOT_FOUND:
            return None
        raise


# --- smart edit -------------------------------------------------------------------------------------------------


async def run_smart_edit(
    client: Client, settings: Settings, payload: RewritePromptInput
) -> RewritePromptResult | None:
    """Run SmartEditWorkflow and wait for it, at most `smart_edit_timeout_seconds`; None when it did not finish
    by then (the run is terminated). A failed run raises WorkflowFailureError (the caller maps its cause)."""
    limit = settings.smart_edit_timeout_seconds
    workflow_id = smart_edit_workflow_id(uuid.uuid4().hex)
    async with temporal_call(settings):
        handle = await client.start_workflow(
            SMART_EDIT_WORKFLOW,
            payload,
            id=workflow_id,
            task_queue=task_queue(settings),
            execution_timeout=timedelta(seconds=limit),
            result_type=RewritePromptResult,
            rpc_timeout=rpc_timeout(settings),
        )
    result: RewritePromptResult | None = None
    async with temporal_errors():
        try:
            result = await asyncio.wait_for(handle.result(), timeout=limit + 2)
        except TimeoutError:
            with contextlib.suppress(RPCError):  # already finished, or timed out on the server
                await client.get_workflow_handle(workflow_id).terminate("the API stopped waiting")
    return result


# --- retention and the reconciler: a manual run, the schedules ----------------------------------------------------


async def start_retention_run(client: Client, settings: Settings, now: datetime | None = None) -> str:
    """Start a retention run now (the admin trigger); answer its workflow id."""
    workflow_id = retention_workflow_id(uuid.uuid4().hex[:12])
    async with temporal_call(settings):
        await client.start_workflow(
            RETENTION_WORKFLOW,
            RetentionInput(now=now),
            id=workflow_id,
            task_queue=task_queue(settings),
            rpc_timeout=rpc_timeout(settings),
        )
    return workflow_id


async def upsert_retention_schedule(client: Client, settings: Settings, hour_utc: int) -> None:
    """Create the nightly schedule, or bring an existing one up to date (idempotent; run at every worker start)."""
    await _keep_schedule(
        client,
        settings,
        "retention schedule",
        retention_schedule_id(),
        RETENTION_WORKFLOW,
        RetentionInput(),
        ScheduleSpec(cron_expressions=[f"0 {hour_utc} * * *"]),
        note="Nightly purge of unselected assets older than the retention period.",
        cadence=f"daily at {hour_utc:02d}:00 UTC",
    )


async def upsert_reconcile_schedule(client: Client, settings: Settings) -> None:
    """Create or update the reconciler's schedule (idempotent; the worker runs it at every start)."""
    every = settings.reconcile_interval_seconds
    await _keep_schedule(
        client,
        settings,
        "reconcile schedule",
        reconcile_schedule_id(),
        RECONCILE_WORKFLOW,
        ReconcileInput(),
        ScheduleSpec(intervals=[ScheduleIntervalSpec(every=timedelta(seconds=every))]),
        note="Marks FAILED the assets whose generation workflow has stopped for good.",
        cadence=f"every {every} s",
    )


async def _keep_schedule(
    client: Client,
    settings: Settings,
    what: str,
    schedule_id: str,
    workflow: str,
    payload: RetentionInput | ReconcileInput,
    spec: ScheduleSpec,
    *,
    note: str,
    cadence: str,
) -> None:
    """Upsert a schedule that starts `workflow` with `payload` (id = the schedule's id; one run at a time) and log
    whether it was created or updated."""
    schedule = Schedule(
        action=ScheduleActionStartWorkflow(
            workflow, payload, id=schedule_id, task_queue=task_queue(settings)
        ),
        spec=spec,
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
        state=ScheduleState(note=note),
    )
    created = await upsert_schedule(client, schedule_id, schedule)
    logger.info("%s %s %s (%s)", "created" if created else "updated", what, schedule_id, cadence)


# --- health ------------------------------------------------------------------------------------------------------


async def check_health(client: Client) -> None:
    """Raises unless the Temporal server answers its health check."""
    await client.service_client.check_health()


async def last_worker_poll(client: Client, settings: Settings) -> datetime | None:
    """When a worker last polled the generation task queue's workflow tasks, as `temporal task-queue describe`
    lists its pollers (None when none is listed). A worker's long poll is renewed at least every ~60 s."""
    described = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=settings.temporal_namespace,
            task_queue=TaskQueue(name=task_queue(settings)),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        )
    )
    seen = [
        poller.last_access_time.ToDatetime(tzinfo=UTC)
        for poller in described.pollers
        if poller.HasField("last_access_time")
    ]
    return max(seen, default=None)
