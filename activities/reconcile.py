"""Reconciler activity: examine one page of stale PENDING/RUNNING assets and fail those whose workflow is gone."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio import activity
from temporalio.client import Client

from core import reconcile
from core.contract import RECONCILE_ASSETS_PAGE, ReconcilePageInput, ReconcilePageResult
from core.events import EventBus
from core.settings import Settings


class ReconcileActivities:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        temporal: Client,
        events: EventBus,
        settings: Settings,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._temporal = temporal
        self._events = events
        self._settings = settings

    @activity.defn(name=RECONCILE_ASSETS_PAGE)
    async def reconcile_assets_page(self, payload: ReconcilePageInput) -> ReconcilePageResult:
        return await reconcile.reconcile_page(
            self._sessionmaker,
            self._temporal,
            self._events,
            older_than=reconcile.stale_before(payload.now, self._settings),
            after_id=payload.after_id,
            limit=payload.limit,
        )
