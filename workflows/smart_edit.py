"""SmartEditWorkflow: one LLM prompt rewrite, retried on transient errors; the API waits for its result."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from core.contract import REWRITE_PROMPT, SMART_EDIT_WORKFLOW, RewritePromptInput, RewritePromptResult

LLM_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=10),
    maximum_attempts=3,
)


@workflow.defn(name=SMART_EDIT_WORKFLOW)
class SmartEditWorkflow:
    @workflow.run
    async def run(self, payload: RewritePromptInput) -> RewritePromptResult:
        result: RewritePromptResult = await workflow.execute_activity(
            REWRITE_PROMPT,
            payload,
            result_type=RewritePromptResult,
            start_to_close_timeout=timedelta(seconds=payload.attempt_timeout_seconds),
            retry_policy=LLM_RETRY,
        )
        return result
