"""Retention activities: plan a run (cutoff from SystemConfig), drain leftovers of a crashed run, purge one page."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio import activity
from temporalio.service import RPCError

from core import retention, sessions
from core.contract import (
    DELETE_PURGED_OBJECTS,
    DRAIN_PENDING_DELETIONS,
    PLAN_RETENTION_RUN,
    PURGE_RETENTION_PAGE,
    DrainResult,
    PurgePageInput,
    PurgePageResult,
    QueuedRange,
    RetentionPlan,
    RetentionPlanInput,
)
from core.storage import Storage

logger = logging.getLogger(__name__)


class RetentionActivities:
    """`schedule_sync` (the worker passes one) brings the schedule to SystemConfig's hour at each run, so an
    admin's change of the hour applies from the next day without restarting the worker."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        storage: Storage,
        schedule_sync: Callable[[], Awaitable[int]] | None = None,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._storage = storage
        self._schedule_sync = schedule_sync

    @activity.defn(name=PLAN_RETENTION_RUN)
    async def plan_retention_run(self, payload: RetentionPlanInput) -> RetentionPlan:
        async with self._sessionmaker() as session:
            config = await retention.load_retention_config(session)
            # Housekeeping that rides on the nightly run: ended browser sessions (core/sessions.py).
            ended = await sessions.purge_ended_sessions(session, payload.now)
            await session.commit()
        if ended:
            logger.info("retention: deleted %d ended browser sessions", ended)
        if self._schedule_sync is not None:
            try:
                await self._schedule_sync()
            except RPCError as exc:  # the purge matters more than the schedule's hour; the next run retries
                logger.warning("retention: could not update the schedule: %s", exc)
        return RetentionPlan(
            cutoff=retention.retention_cutoff(payload.now, config.retention_days),
            retention_days=config.retention_days,
        )

    @activity.defn(name=DRAIN_PENDING_DELETIONS)
    async def drain_pending_deletions(self) -> DrainResult:
        deleted = await retention.drain_pending_deletions(self._sessionmaker, self._storage)
        if deleted:
            logger.info("retention: deleted %d object(s) left by an interrupted run", deleted)
        return DrainResult(objects_deleted=deleted)

    @activity.defn(name=PURGE_RETENTION_PAGE)
    async def purge_retention_page(self, payload: PurgePageInput) -> PurgePageResult:
        return await retention.purge_page_rows(
            self._sessionmaker,
            cutoff=payload.cutoff,
            now=payload.now or datetime.now(UTC),  # a page queued before `now` existed
            after_id=payload.after_id,
            limit=payload.limit,
        )

    @activity.defn(name=DELETE_PURGED_OBJECTS)
    async def delete_purged_objects(self, payload: QueuedRange) -> DrainResult:
        deleted = await retention.delete_queued_objects(self._sessionmaker, self._storage, payload)
        return DrainResult(objects_deleted=deleted)
