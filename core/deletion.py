"""Deleting assets, boxes and projects: rows first (one transaction), S3 objects and running workflows after it.

The request's transaction deletes the asset rows (their comments go with them: the database cascades) and, in the
same statement, queues their S3 keys in `pending_object_deletion`. After the commit, `finish_deletion` cancels the
workflows of generations that were still running and deletes the queued objects off the event loop. Whatever
fails there stays queued: the next reconciler run (every few minutes) or retention run drains the queue. So a slow or unreachable S3 never stalls
or fails a delete, and a failed commit never leaves rows pointing at missing files.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import sqlalchemy as sa
from botocore.exceptions import BotoCoreError, ClientError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from core.contract import AssetStatus
from core.errors import UpstreamUnavailable
from core.retention import PendingObject, delete_and_queue_sql, delete_pending_objects
from core.storage import Storage
from core.temporal import TemporalClientHolder, cancel_generation

logger = logging.getLogger(__name__)

_ACTIVE = (AssetStatus.PENDING.value, AssetStatus.RUNNING.value)

# One statement, so the keys queued are those of the rows deleted (a workflow completing meanwhile either
# committed its keys before the row lock, and they are returned here, or finds its row gone and cleans up itself).
_DELETE_ASSETS = {
    scope: sa.text(delete_and_queue_sql(condition))
    for scope, condition in {
        "asset": "a.id = :id",
        "box": "a.box_id = :id",
        "project": "a.box_id IN (SELECT b.id FROM box b WHERE b.project_id = :id)",
    }.items()
}


@dataclass
class DeletedAssets:
    """What is left to do once the deleting transaction has committed."""

    asset_ids: list[int] = field(default_factory=list)
    running_asset_ids: list[int] = field(default_factory=list)
    """Assets whose generation was PENDING/RUNNING: their workflows are cancelled."""
    pending: list[PendingObject] = field(default_factory=list)
    """Their S3 keys, queued in pending_object_deletion."""

    @property
    def follow_up_needed(self) -> bool:
        return bool(self.running_asset_ids or self.pending)


_LOCK_BOXES = {
    "asset": "SELECT b.id FROM box b JOIN asset a ON a.box_id = b.id WHERE a.id = :id",
    "box": "SELECT b.id FROM box b WHERE b.id = :id",
    "project": "SELECT b.id FROM box b WHERE b.project_id = :id ORDER BY b.id",
}


async def delete_assets(session: AsyncSession, scope: str, scope_id: int) -> DeletedAssets:
    """Delete the assets of one asset/box/project id and queue their keys; inside the caller's transaction.

    The boxes are locked first (FOR NO KEY UPDATE, after the caller's project lock): a tab setting a headliner
    locks the box and then the asset, so deleting the asset before holding its box could deadlock with it. The
    lock does not block the foreign-key checks of comments being written meanwhile (they take KEY SHARE).
    """
    connection = await session.connection()
    await connection.execute(sa.text(_LOCK_BOXES[scope] + " FOR NO KEY UPDATE OF b"), {"id": scope_id})
    rows = (await connection.execute(_DELETE_ASSETS[scope], {"id": scope_id})).all()
    deleted = DeletedAssets()
    seen: set[int] = set()
    for row in rows:
        if row.asset_id not in seen:
            seen.add(row.asset_id)
            deleted.asset_ids.append(row.asset_id)
            if row.status in _ACTIVE:
                deleted.running_asset_ids.append(row.asset_id)
        if row.pending_id is not None:
            deleted.pending.append(PendingObject(row.pending_id, row.key))
    return deleted


async def finish_deletion(
    sessionmaker: async_sessionmaker[AsyncSession],
    storage: Storage,
    temporal: TemporalClientHolder,
    deleted: DeletedAssets,
) -> None:
    """After the commit: stop running generations, then delete the objects. Never raises: it is best effort,
    the rows are gone already, a workflow stops by itself when it finds its asset missing, and the queue keeps
    every key whose object could not be deleted (the next reconciler or retention run drains it)."""
    if deleted.running_asset_ids:
        await cancel_workflows(temporal, deleted.running_asset_ids)
    if deleted.pending:
        try:
            await delete_pending_objects(sessionmaker, storage, deleted.pending)
        except (BotoCoreError, ClientError, RuntimeError, SQLAlchemyError, OSError):
            logger.warning(
                "could not delete %d S3 object(s) of deleted assets now; they stay queued for the next "
                "reconciler or retention run",
                len(deleted.pending),
                exc_info=True,
            )


async def cancel_workflows(temporal: TemporalClientHolder, asset_ids: list[int]) -> None:
    try:
        client = await temporal.get()
    except UpstreamUnavailable:
        logger.warning("could not reach Temporal to cancel the workflows of deleted assets %s", asset_ids)
        return
    for asset_id in asset_ids:
        await cancel_generation(client, temporal.settings, asset_id)  # logs when it could not
