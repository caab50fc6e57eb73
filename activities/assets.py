"""Database activities of the generation workflow. Every update is conditional, so running one twice is harmless."""

from __future__ import annotations

import asyncio
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlalchemy.orm import selectinload
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio import activity
from temporalio.exceptions import ApplicationError

from core.activity import record_generation_outcome
from core.contract import (
    COMPLETE_ASSET,
    DISCARD_INGESTED_FILES,
    FAIL_ASSET,
    MARK_ASSET_RUNNING,
    PLAN_KIE_SUBMISSION,
    RECORD_KIE_TASK,
    AssetGone,
    AssetNotWaiting,
    AssetRef,
    AssetStatus,
    CompleteAssetInput,
    DiscardFilesInput,
    FailAssetInput,
    KieInvalidInputError,
    RecordTaskInput,
    SubmissionPlan,
)
from core.kie import kie_callback_url
from core.models import Asset, utcnow
from core.schemas import storable_text
from core.settings import Settings
from core.spend import settle_asset_charge, variant_cost
from core.storage import Storage

ACTIVE = (AssetStatus.PENDING, AssetStatus.RUNNING)


def asset_gone(asset_id: int) -> ApplicationError:
    return ApplicationError(
        f"Asset {asset_id} was deleted while it was being generated.",
        type=AssetGone.__name__,
        non_retryable=True,
    )


async def asset_exists(sessionmaker: async_sessionmaker[AsyncSession], asset_id: int) -> bool:
    async with sessionmaker() as session:
        return (await session.exec(select(Asset.id).where(Asset.id == asset_id))).first() is not None


class AssetActivities:
    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], storage: Storage, settings: Settings
    ) -> None:
        self.sessionmaker = sessionmaker
        self.storage = storage
        self.settings = settings

    async def _update(
        self,
        asset_id: int,
        only_if: tuple[AssetStatus, ...],
        *,
        actual_cost: float | None = None,
        **values: Any,
    ) -> bool:
        """Update the asset if its status is one of `only_if`; with `actual_cost`, its open credit charge records
        what the run really cost, in the same transaction (so a repeated activity never records it twice). A final
        status writes its line in the project's feed in that transaction too (published with the status)."""
        async with self.sessionmaker() as session:
            result = await session.exec(
                sa.update(Asset)
                .where(col(Asset.id) == asset_id, col(Asset.status).in_(only_if))
                .values(updated_at=utcnow(), **values)
            )
            if result.rowcount and actual_cost is not None:
                await settle_asset_charge(session, asset_id, actual_cost)
            status = values.get("status")
            if result.rowcount and isinstance(status, AssetStatus) and status.is_final:
                await record_generation_outcome(session, asset_id, status)
            await session.commit()
            return bool(result.rowcount)

    @activity.defn(name=MARK_ASSET_RUNNING)
    async def mark_asset_running(self, ref: AssetRef) -> bool:
        """PENDING → RUNNING; False when it already moved on (a retried activity or a replayed run)."""
        return await self._update(ref.asset_id, (AssetStatus.PENDING,), status=AssetStatus.RUNNING)

    @activity.defn(name=PLAN_KIE_SUBMISSION)
    async def plan_kie_submission(self, ref: AssetRef) -> SubmissionPlan:
        """The createTask body for the asset's recipe; input images become fresh presigned S3 URLs."""
        async with self.sessionmaker() as session:
            asset = (
                await session.exec(
                    select(Asset).where(Asset.id == ref.asset_id).options(selectinload(Asset.model))  # type: ignore[arg-type]
                )
            ).first()
            if asset is None:
                raise asset_gone(ref.asset_id)
            if asset.status not in ACTIVE:
                # A run nobody waits for (a retry whose start timed out in the API, which put the row back to
                # FAILED, yet reached Temporal): submitting would pay for a result that is never recorded.
                raise ApplicationError(
                    f"Asset {ref.asset_id} is {asset.status.value}, not waiting for a generation; nothing was "
                    "submitted.",
                    type=AssetNotWaiting.__name__,
                    non_retryable=True,
                )
            if asset.model is None:
                raise ApplicationError(
                    "This asset has no AI model to generate it with.",
                    type=KieInvalidInputError.__name__,
                    non_retryable=True,
                )
            model = asset.model
            image_ids = list(asset.input_asset_ids)
            if asset.source_asset_id is not None and asset.source_asset_id not in image_ids:
                image_ids.insert(0, asset.source_asset_id)
            keys: dict[int, str | None] = {}
            if image_ids:
                rows = await session.exec(
                    select(Asset.id, Asset.file_key).where(col(Asset.id).in_(image_ids))
                )
                keys = {row[0]: row[1] for row in rows.all() if row[0] is not None}
        kie_input: dict[str, Any] = {"prompt": asset.prompt, **asset.params}
        field = (model.capabilities.get("input_images") or {}).get("field")
        if image_ids:
            missing = [i for i in image_ids if not keys.get(i)]
            if missing or not field:
                raise ApplicationError(
                    f"The input image(s) {', '.join(map(str, missing or image_ids))} are no longer available.",
                    type=KieInvalidInputError.__name__,
                    non_retryable=True,
                )
            ttl = self.settings.kie_input_url_ttl_seconds
            kie_input[field] = await asyncio.to_thread(
                lambda: [self.storage.presigned_get_url(str(keys[i]), ttl) for i in image_ids]
            )
        cost = variant_cost(model, asset.params)
        return SubmissionPlan(
            asset_id=ref.asset_id,
            model=model.provider_model_id,
            input=kie_input,
            callback_url=kie_callback_url(self.settings, ref.asset_id),
            estimated_cost=cost.credits if cost is not None else None,
        )

    @activity.defn(name=RECORD_KIE_TASK)
    async def record_kie_task(self, data: RecordTaskInput) -> bool:
        """Note the Kie.ai task id; an asset deleted meanwhile stops the workflow (no polling for nobody)."""
        changed = await self._update(data.asset_id, ACTIVE, provider_task_id=data.task_id)
        if not changed and not await asset_exists(self.sessionmaker, data.asset_id):
            raise asset_gone(data.asset_id)
        return changed

    @activity.defn(name=COMPLETE_ASSET)
    async def complete_asset(self, data: CompleteAssetInput) -> bool:
        """RUNNING → COMPLETED with the file's facts. An asset deleted meanwhile leaves no orphan S3 objects."""
        ingest = data.ingest
        changed = await self._update(
            data.asset_id,
            ACTIVE,
            status=AssetStatus.COMPLETED,
            finished_at=utcnow(),
            provider_task_id=data.task_id,
            file_key=ingest.file_key,
            thumbnail_key=ingest.thumbnail_key,
            mime_type=ingest.mime_type,
            size_bytes=ingest.size_bytes,
            width=ingest.width,
            height=ingest.height,
            duration_seconds=ingest.duration_seconds,
            cost_credits=data.cost_credits,
            error_message=None,
            actual_cost=data.cost_credits,
        )
        if not changed and not await asset_exists(self.sessionmaker, data.asset_id):
            keys = [k for k in (ingest.file_key, ingest.thumbnail_key) if k]
            await asyncio.to_thread(self.storage.delete_keys, keys)
            raise asset_gone(data.asset_id)
        return changed

    @activity.defn(name=DISCARD_INGESTED_FILES)
    async def discard_ingested_files(self, data: DiscardFilesInput) -> bool:
        """After a cancellation: delete the files ingest stored if their asset was deleted (no orphan objects)."""
        if await asset_exists(self.sessionmaker, data.asset_id):
            return False
        await asyncio.to_thread(self.storage.delete_keys, data.keys)
        return True

    @activity.defn(name=FAIL_ASSET)
    async def fail_asset(self, data: FailAssetInput) -> bool:
        charged = data.cost_credits or 0.0
        return await self._update(
            data.asset_id,
            ACTIVE,
            status=AssetStatus.FAILED,
            finished_at=utcnow(),
            error_message=storable_text(data.error_message)[:4000],
            # Kie.ai refunds a task that fails (and one never submitted costs nothing): 0, unless the failure came
            # after Kie.ai's success (ingest refused the file), which it charged. The asset and the ledger agree.
            cost_credits=charged,
            actual_cost=charged,
        )
