"""The asset reconciler: a generation whose workflow is gone but whose row still says PENDING/RUNNING is marked FAILED.

Such a row would otherwise stay forever: it cannot be retried (retry needs FAILED), retention never purges it, and
it protects its input images. It happens when a workflow is terminated, times out, exceeds the history limit, or
never started after the asset was committed (the API process died between the commit and the start).

A Temporal schedule (`reconcile-assets`, every RECONCILE_INTERVAL_SECONDS) runs `ReconcileAssetsWorkflow`, which
examines, page by page, the PENDING/RUNNING assets unchanged for RECONCILE_GRACE_SECONDS and asks Temporal about
each one's workflow. The update is conditional (still PENDING/RUNNING and unchanged since it was read), so a row the
workflow or a retry moved on meanwhile is left alone; the event is published after the commit.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.client import Client, WorkflowExecutionStatus

from core.activity import activity_event, record_generation_outcome
from core.contract import AssetStatus, ReconcilePageResult, asset_workflow_id
from core.events import EventBus, asset_status_changed
from core.models import ActivityItem, Asset, utcnow
from core.settings import Settings
from core.temporal import describe_workflow

logger = logging.getLogger(__name__)

DESCRIBE_IN_FLIGHT = 8
"""Temporal DescribeWorkflowExecution calls one page keeps in flight."""

RETRY_HINT = "Retry to try again."
STOPPED_BECAUSE: dict[WorkflowExecutionStatus, str] = {
    WorkflowExecutionStatus.TERMINATED: "The generation stopped unexpectedly (its job was terminated).",
    WorkflowExecutionStatus.TIMED_OUT: "The generation stopped unexpectedly (its job ran out of time).",
    WorkflowExecutionStatus.FAILED: "The generation stopped unexpectedly (its job failed without saying why).",
    WorkflowExecutionStatus.CANCELED: "The generation was cancelled before it finished.",
    WorkflowExecutionStatus.COMPLETED: "The generation stopped unexpectedly (its job ended without saving a result).",
}
NEVER_STARTED = "The generation stopped unexpectedly (its job could not be found: it never started, or its record expired)."


# --- finding and judging stale assets ---------------------------------------------------------------------------


@dataclass(frozen=True)
class StaleAsset:
    asset_id: int
    workflow_id: str
    updated_at: datetime
    box_id: int
    project_id: int
    kind: str


_STALE_PAGE = sa.text(
    """
    SELECT a.id, a.workflow_id, a.updated_at, a.box_id, b.project_id, a.kind
    FROM asset a JOIN box b ON b.id = a.box_id
    WHERE a.status IN ('PENDING', 'RUNNING') AND a.updated_at < :older_than AND a.id > :after_id
    ORDER BY a.id
    LIMIT :limit
    """
)


async def find_stale_assets(
    sessionmaker: async_sessionmaker[AsyncSession], *, older_than: datetime, after_id: int, limit: int
) -> list[StaleAsset]:
    """PENDING/RUNNING assets unchanged since `older_than` (a just-committed one whose start is in flight is not)."""
    async with sessionmaker() as session:
        connection = await session.connection()
        rows = (
            await connection.execute(
                _STALE_PAGE, {"older_than": older_than, "after_id": after_id, "limit": limit}
            )
        ).all()
    return [
        StaleAsset(
            asset_id=row.id,
            workflow_id=row.workflow_id or asset_workflow_id(row.id),
            updated_at=row.updated_at,
            box_id=row.box_id,
            project_id=row.project_id,
            kind=row.kind,
        )
        for row in rows
    ]


async def why_workflow_stopped(temporal: Client, workflow_id: str) -> str | None:
    """None while the asset's workflow is alive; otherwise a sentence saying why the generation stopped.

    The latest run decides. A run that continued as new lives on in its successor, so it counts as alive (the
    next pass sees the successor). Any other error (Temporal unreachable) raises: the activity retries.
    """
    description = await describe_workflow(temporal, workflow_id)
    if description is None:
        return f"{NEVER_STARTED} {RETRY_HINT}"
    status = description.status
    if status is None or status in (
        WorkflowExecutionStatus.RUNNING,
        WorkflowExecutionStatus.CONTINUED_AS_NEW,
    ):
        return None
    return f"{STOPPED_BECAUSE.get(status, 'The generation stopped unexpectedly.')} {RETRY_HINT}"


async def fail_stale_asset(
    sessionmaker: async_sessionmaker[AsyncSession], stale: StaleAsset, message: str
) -> ActivityItem | None:
    """Mark FAILED only if the row is still PENDING/RUNNING and unchanged since it was read, with its activity line in
    the same transaction; the line when it was (the caller publishes it after the status), else None."""
    now = utcnow()
    async with sessionmaker() as session:
        result = await session.exec(
            sa.update(Asset)
            .where(
                col(Asset.id) == stale.asset_id,
                col(Asset.status).in_((AssetStatus.PENDING, AssetStatus.RUNNING)),
                col(Asset.updated_at) == stale.updated_at,
            )
            .values(status=AssetStatus.FAILED, error_message=message, updated_at=now, finished_at=now)
        )
        if not result.rowcount:
            return None
        line = await record_generation_outcome(session, stale.asset_id, AssetStatus.FAILED)
        await session.commit()
        return line


async def reconcile_page(
    sessionmaker: async_sessionmaker[AsyncSession],
    temporal: Client,
    events: EventBus,
    *,
    older_than: datetime,
    after_id: int,
    limit: int,
) -> ReconcilePageResult:
    """Examine one page of stale assets; fail those whose workflow is gone and publish each change."""
    stale = await find_stale_assets(sessionmaker, older_than=older_than, after_id=after_id, limit=limit)
    gate = asyncio.Semaphore(DESCRIBE_IN_FLIGHT)

    async def judge(asset: StaleAsset) -> str | None:
        async with gate:
            return await why_workflow_stopped(temporal, asset.workflow_id)

    verdicts = await asyncio.gather(*(judge(asset) for asset in stale))
    failed: list[int] = []
    for asset, message in zip(stale, verdicts, strict=True):
        if message is None:
            continue
        line = await fail_stale_asset(sessionmaker, asset, message)
        if line is None:
            continue
        failed.append(asset.asset_id)
        logger.warning("reconciler: asset %s marked FAILED: %s", asset.asset_id, message)
        await events.publish(
            asset_status_changed(
                project_id=asset.project_id,
                asset_id=asset.asset_id,
                box_id=asset.box_id,
                kind=asset.kind,
                status=AssetStatus.FAILED.value,
                error_message=message,
            )
        )
        await events.publish(activity_event(line))
    return ReconcilePageResult(
        examined=len(stale),
        failed_asset_ids=failed,
        last_id=stale[-1].asset_id if stale else None,
        done=len(stale) < limit,
    )


def stale_before(now: datetime, settings: Settings) -> datetime:
    return now - timedelta(seconds=settings.reconcile_grace_seconds)
