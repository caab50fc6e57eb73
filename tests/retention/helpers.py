"""Small helpers for the retention tests: run the workflow, and see whether an asset's row and objects remain."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.client import Client

from core.contract import RetentionInput, RetentionResult
from core.models import Asset, SystemConfig
from core.storage import Storage
from workflows.retention import RetentionWorkflow

DAY = timedelta(days=1)


async def run_retention(
    client: Client, queue: str, now: datetime, *, page_size: int = 1000
) -> RetentionResult:
    return await client.execute_workflow(
        RetentionWorkflow.run,
        RetentionInput(now=now, page_size=page_size),
        id=f"retention-test-{uuid.uuid4().hex[:8]}",
        task_queue=queue,
    )


async def row_exists(sessionmaker: async_sessionmaker[AsyncSession], asset_id: int) -> bool:
    async with sessionmaker() as session:
        return await session.get(Asset, asset_id) is not None


def objects_exist(storage: Storage, asset: Asset) -> list[bool]:
    assert asset.file_key and asset.thumbnail_key
    return [storage.exists(asset.file_key), storage.exists(asset.thumbnail_key)]


async def assert_kept(sessionmaker: async_sessionmaker[AsyncSession], storage: Storage, asset: Asset) -> None:
    assert await row_exists(sessionmaker, asset.id), f"asset {asset.id} was purged but is protected"
    if asset.file_key:
        assert objects_exist(storage, asset) == [True, True], f"asset {asset.id} lost its objects"


async def assert_purged(
    sessionmaker: async_sessionmaker[AsyncSession], storage: Storage, asset: Asset
) -> None:
    assert not await row_exists(sessionmaker, asset.id), f"asset {asset.id} should have been purged"
    if asset.file_key:
        assert objects_exist(storage, asset) == [False, False], f"asset {asset.id} left objects behind"


async def pending_keys(sessionmaker: async_sessionmaker[AsyncSession], asset_ids: list[int]) -> list[str]:
    async with sessionmaker() as session:
        connection = await session.connection()
        rows = await connection.execute(
            sa.text("SELECT key FROM pending_object_deletion WHERE asset_id = ANY(:ids) ORDER BY id"),
            {"ids": asset_ids},
        )
        return list(rows.scalars())


async def retention_days(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    async with sessionmaker() as session:
        config = await session.get(SystemConfig, 1)
        assert config is not None
        return config.retention_days
