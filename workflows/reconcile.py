"""ReconcileAssetsWorkflow (started by a schedule): fail the assets whose generation workflow stopped for good, then
delete the S3 objects of deleted assets that are still queued (S3 refused them when the user deleted)."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from core.contract import (
        DRAIN_PENDING_DELETIONS,
        RECONCILE_ASSETS_PAGE,
        RECONCILE_WORKFLOW,
        DrainResult,
        ReconcileInput,
        ReconcilePageInput,
        ReconcilePageResult,
        ReconcileResult,
    )

RECONCILE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=3,
)
PAGE_TIMEOUT = timedelta(minutes=2)


@workflow.defn(name=RECONCILE_WORKFLOW)
class ReconcileAssetsWorkflow:
    @workflow.run
    async def run(self, payload: ReconcileInput) -> ReconcileResult:
        # One clock for the whole run (and its continuations), so the grace period means the same on every page.
        now = payload.now or workflow.now()
        after_id = payload.after_id
        failed = payload.failed_so_far
        for _ in range(payload.pages_per_run):
            page = await workflow.execute_activity(
                RECONCILE_ASSETS_PAGE,
                ReconcilePageInput(now=now, after_id=after_id, limit=payload.page_size),
                result_type=ReconcilePageResult,
                start_to_close_timeout=PAGE_TIMEOUT,
                retry_policy=RECONCILE_RETRY,
            )
            failed += len(page.failed_asset_ids)
            if page.done or page.last_id is None:
                if failed:
                    workflow.logger.info("reconciler: %d stuck asset(s) marked FAILED", failed)
                return ReconcileResult(failed=failed, leftover_objects_deleted=await self._drain_deletions())
            after_id = page.last_id
        # Keep each run's history short: carry on from here in a fresh run.
        workflow.continue_as_new(
            ReconcileInput(
                now=now,
                page_size=payload.page_size,
                pages_per_run=payload.pages_per_run,
                after_id=after_id,
                failed_so_far=failed,
            )
        )

    async def _drain_deletions(self) -> int:
        """Retry, within minutes rather than at the nightly retention run, the objects S3 refused at delete time.

        Best effort: while S3 is still down the keys stay queued for the next run, and the reconciler's own result
        stands.
        """
        try:
            drained: DrainResult = await workflow.execute_activity(
                DRAIN_PENDING_DELETIONS,
                result_type=DrainResult,
                start_to_close_timeout=PAGE_TIMEOUT,
                retry_policy=RECONCILE_RETRY,
            )
        except ActivityError as exc:
            workflow.logger.warning(
                "reconciler: queued S3 deletions left for the next run: %s", exc.cause or exc
            )
            return 0
        return drained.objects_deleted
