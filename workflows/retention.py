"""RetentionWorkflow: the nightly purge of unselected assets, page by page (started by a Temporal schedule)."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from core.contract import (
        DELETE_PURGED_OBJECTS,
        DRAIN_PENDING_DELETIONS,
        PLAN_RETENTION_RUN,
        PURGE_RETENTION_PAGE,
        RETENTION_WORKFLOW,
        DrainResult,
        PurgePageInput,
        PurgePageResult,
        RetentionInput,
        RetentionPlan,
        RetentionPlanInput,
        RetentionProgress,
        RetentionResult,
        RetentionTotals,
    )

RETENTION_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=3,
)
PAGE_TIMEOUT = timedelta(minutes=5)
# S3 deletions of earlier pages run while later pages' rows are deleted; at most this many at once.
OBJECT_DELETIONS_IN_FLIGHT = 3


@workflow.defn(name=RETENTION_WORKFLOW)
class RetentionWorkflow:
    @workflow.run
    async def run(self, payload: RetentionInput) -> RetentionResult:
        if payload.resume is None:
            now = payload.now or workflow.now()
            plan: RetentionPlan = await workflow.execute_activity(
                PLAN_RETENTION_RUN,
                RetentionPlanInput(now=now),
                result_type=RetentionPlan,
                start_to_close_timeout=timedelta(minutes=1),
                retry_policy=RETENTION_RETRY,
            )
            # Objects whose rows an interrupted run already deleted go first.
            drained: DrainResult = await workflow.execute_activity(
                DRAIN_PENDING_DELETIONS,
                result_type=DrainResult,
                start_to_close_timeout=PAGE_TIMEOUT,
                retry_policy=RETENTION_RETRY,
            )
            progress = RetentionProgress(
                cutoff=plan.cutoff,
                retention_days=plan.retention_days,
                after_id=0,
                totals=RetentionTotals(leftover_objects_deleted=drained.objects_deleted),
                now=now,
            )
        else:
            progress = payload.resume

        pages_this_run = 0
        in_flight: list[workflow.ActivityHandle[DrainResult]] = []

        async def settle(keep: int) -> None:
            while len(in_flight) > keep:
                deleted = await in_flight.pop(0)
                progress.totals.objects_deleted += deleted.objects_deleted

        while True:
            page: PurgePageResult = await workflow.execute_activity(
                PURGE_RETENTION_PAGE,
                PurgePageInput(
                    cutoff=progress.cutoff,
                    now=progress.run_now(),
                    after_id=progress.after_id,
                    limit=payload.page_size,
                ),
                result_type=PurgePageResult,
                start_to_close_timeout=PAGE_TIMEOUT,
                retry_policy=RETENTION_RETRY,
            )
            progress.totals.pages += 1
            progress.totals.assets_deleted += page.assets_deleted
            pages_this_run += 1
            if page.queued is not None:
                in_flight.append(
                    workflow.start_activity(
                        DELETE_PURGED_OBJECTS,
                        page.queued,
                        result_type=DrainResult,
                        start_to_close_timeout=PAGE_TIMEOUT,
                        retry_policy=RETENTION_RETRY,
                    )
                )
                await settle(OBJECT_DELETIONS_IN_FLIGHT)
            if page.done or page.last_id is None:
                break
            progress.after_id = page.last_id
            # Keep each run's history short: continue as new with the progress every so many pages.
            if pages_this_run >= payload.pages_per_run or workflow.info().is_continue_as_new_suggested():
                await settle(0)
                workflow.continue_as_new(
                    RetentionInput(
                        page_size=payload.page_size, pages_per_run=payload.pages_per_run, resume=progress
                    )
                )
        await settle(0)

        workflow.logger.info(
            "retention run finished: %d asset(s) and %d object(s) deleted in %d page(s), "
            "%d leftover object(s) from an earlier run; cutoff %s (%d days)",
            progress.totals.assets_deleted,
            progress.totals.objects_deleted,
            progress.totals.pages,
            progress.totals.leftover_objects_deleted,
            progress.cutoff.isoformat(),
            progress.retention_days,
        )
        return RetentionResult(
            cutoff=progress.cutoff, retention_days=progress.retention_days, totals=progress.totals
        )
