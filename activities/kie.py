"""Kie.ai activities: submit a task, read its record. Kie.ai errors become typed ApplicationErrors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from temporalio import activity
from temporalio.exceptions import ApplicationError

from core.contract import (
    FETCH_KIE_TASK,
    SUBMIT_KIE_TASK,
    KieError,
    KieState,
    KieTaskState,
    SubmissionPlan,
    TaskRef,
)
from core.kie import KieClient


def application_error(exc: KieError) -> ApplicationError:
    """The activity failure for a Kie.ai error: its class name as the type, a readable message with a hint."""
    return ApplicationError(
        f"{exc.message} {exc.hint}",
        exc.provider_message,
        type=type(exc).__name__,
        non_retryable=not exc.retryable,
    )


@asynccontextmanager
async def kie_errors() -> AsyncIterator[None]:
    try:
        yield
    except KieError as exc:
        raise application_error(exc) from exc


class KieActivities:
    def __init__(self, client: KieClient) -> None:
        self.client = client

    @activity.defn(name=SUBMIT_KIE_TASK)
    async def submit_kie_task(self, plan: SubmissionPlan) -> str:
        async with kie_errors():
            task_id = await self.client.create_task(plan.model, plan.input, plan.callback_url)
        activity.logger.info("asset %s: Kie.ai task %s", plan.asset_id, task_id)
        return task_id

    @activity.defn(name=FETCH_KIE_TASK)
    async def fetch_kie_task(self, ref: TaskRef) -> KieTaskState:
        async with kie_errors():
            task = await self.client.record_info(ref.task_id)
        state = KieTaskState(
            task_id=task.task_id,
            state=task.state,
            result_urls=task.result_urls,
            credits_consumed=task.credits_consumed,
        )
        if task.state == KieState.FAIL:
            failure = task.failure()
            state.error_type = type(failure).__name__
            state.error_message = f"{failure.message} {failure.hint}"
        return state
