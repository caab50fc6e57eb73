"""Retention activities: plan a run (cutoff from SystemConfig), drain leftovers of a crashed run, purge one page."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio import activity

from core import retention
from core.retention import (
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
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], storage: Storage) -> None:
        self._sessionmaker = sessionmaker
        self._storage = storage

    @activity.defn(name="plan_retention_run")
    async def plan_retention_run(self, payload: RetentionPlanInput) -> RetentionPlan:
        async with self._sessionmaker() as session:
            config = await retention.load_retention_config(session)
        return RetentionPlan(
            cutoff=retention.retention_cutoff(payload.now, config.retention_days),
            retention_days=config.retention_days,
        )

    @activity.defn(name="drain_pending_deletions")
    async def drain_pending_deletions(self) -> DrainResult:
        deleted = await retention.drain_pending_deletions(self._sessionmaker, self._storage)
        if deleted:
            logger.info("retention: deleted %d object(s) left by an interrupted run", deleted)
        return DrainResult(objects_deleted=deleted)

    @activity.defn(name="purge_retention_page")
    async def purge_retention_page(self, payload: PurgePageInput) -> PurgePageResult:
        return await retention.purge_page_rows(
            self._sessionmaker, cutoff=payload.cutoff, after_id=payload.after_id, limit=payload.limit
        )

    @activity.defn(name="delete_purged_objects")
    async def delete_purged_objects(self, payload: QueuedRange) -> DrainResult:
        deleted = await retention.delete_queued_objects(self._sessionmaker, self._storage, payload)
        return DrainResult(objects_deleted=deleted)
