"""Event activity: publish an asset's current status to its project's channel (after the change committed), and
with a final status the activity line the worker wrote for it."""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio import activity
from temporalio.exceptions import ApplicationError

from core.activity import activity_event, outcome_of
from core.contract import PUBLISH_ASSET_STATUS, AssetRef, EventsUnavailable
from core.events import EventBus, asset_status_event
from core.models import Asset, Box
from core.storage import Storage


class EventActivities:
    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], events: EventBus, storage: Storage
    ) -> None:
        self.sessionmaker = sessionmaker
        self.events = events
        self.storage = storage

    @activity.defn(name=PUBLISH_ASSET_STATUS)
    async def publish_asset_status(self, ref: AssetRef) -> bool:
        """Publish `asset_status_changed` with what the row says now, then (final status) its `activity` line;
        False when the asset is gone. Fails (to be retried, both again: clients tell a repeat by its id) while
        Redis is unavailable."""
        async with self.sessionmaker() as session:
            row = (
                await session.exec(
                    select(Asset, Box.project_id)
                    .join(Box, col(Box.id) == Asset.box_id)
                    .where(Asset.id == ref.asset_id)
                )
            ).first()
            if row is None:
                return False
            asset, project_id = row
            outcome = await outcome_of(session, asset, project_id)
        assert asset.id is not None
        file_url, thumbnail_url = await asyncio.to_thread(
            lambda: (
                self.storage.presigned_get_url(asset.file_key) if asset.file_key else None,
                self.storage.presigned_get_url(asset.thumbnail_key) if asset.thumbnail_key else None,
            )
        )
        published = await self.events.publish(
            asset_status_event(asset, project_id, thumbnail_url=thumbnail_url, file_url=file_url)
        )
        if published is not None and outcome is not None:
            published = await self.events.publish(activity_event(outcome))
        if published is None:
            # Redis is down: fail the attempt so the workflow publishes again once it is back, instead of the
            # event being lost for sockets that resume with `since`.
            raise ApplicationError(
                f"The status of asset {asset.id} could not be published (Redis is unavailable).",
                type=EventsUnavailable.__name__,
            )
        return True
