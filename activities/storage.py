"""Storage activity: download Kie.ai's result, put it in S3 under the asset's key, with a thumbnail.

Keys derive from the asset id, so a second run overwrites the same objects instead of adding new ones.
"""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.assets import asset_exists, asset_gone
from activities.kie import application_error
from core.contract import (
    INGEST_RESULT,
    AssetKind,
    IngestError,
    IngestInput,
    IngestResult,
    KieError,
    KieNotFoundError,
)
from core.kie import KieClient
from core.media import UnsupportedMedia, in_decode_pool, probe_video, read_image
from core.settings import Settings
from core.storage import Storage, asset_file_key, asset_thumbnail_key


class StorageActivities:
    """With `sessionmaker`, ingest checks that the asset still exists (before downloading, after uploading), so a
    result arriving for an asset the user just deleted is not stored, or is deleted again at once."""

    def __init__(
        self,
        storage: Storage,
        kie: KieClient,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession] | None = None,
    ) -> None:
        self.storage = storage
        self.kie = kie
        self.settings = settings
        self.sessionmaker = sessionmaker

    async def _check_asset(self, asset_id: int, stored: list[str]) -> None:
        if self.sessionmaker is None or await asset_exists(self.sessionmaker, asset_id):
            return
        if stored:
            await asyncio.to_thread(self.storage.delete_keys, stored)
        raise asset_gone(asset_id)

    async def _download(self, url: str) -> bytes:
        limit = self.settings.kie_max_result_bytes
        try:
            data, _ = await self.kie.fetch_file(url, limit)
            return data
        except KieNotFoundError:
            pass
        except KieError as exc:
            raise application_error(exc) from exc
        # Result links expire; Kie.ai mints a fresh one for its own files.
        try:
            fresh = await self.kie.download_url(url)
            data, _ = await self.kie.fetch_file(fresh, limit)
            return data
        except KieNotFoundError as exc:
            raise ApplicationError(
                f"Kie.ai finished, but its result file could not be downloaded ({exc.message.rstrip('.')}). "
                "Retry the generation.",
                type=KieNotFoundError.__name__,
                non_retryable=True,
            ) from exc
        except KieError as exc:
            raise application_error(exc) from exc

    @activity.defn(name=INGEST_RESULT)
    async def ingest_result(self, data: IngestInput) -> IngestResult:
        await self._check_asset(data.asset_id, [])
        content = await self._download(data.result_url)
        try:
            if data.kind == AssetKind.VIDEO:
                info, thumbnail = await in_decode_pool(probe_video, content)
            else:
                info, thumbnail = await in_decode_pool(read_image, content, self.settings.max_image_pixels)
        except UnsupportedMedia as exc:
            raise ApplicationError(
                f"Kie.ai returned a file we cannot use: {str(exc).rstrip('.')}. Retry the generation.",
                type=IngestError.__name__,
                non_retryable=True,
            ) from exc
        file_key = asset_file_key(data.asset_id, info.extension)
        thumbnail_key = asset_thumbnail_key(data.asset_id) if thumbnail is not None else None
        await asyncio.to_thread(self.storage.put_bytes, file_key, content, info.mime_type)
        if thumbnail is not None and thumbnail_key is not None:
            await asyncio.to_thread(self.storage.put_bytes, thumbnail_key, thumbnail, "image/jpeg")
        await self._check_asset(data.asset_id, [key for key in (file_key, thumbnail_key) if key])
        return IngestResult(
            file_key=file_key,
            thumbnail_key=thumbnail_key,
            mime_type=info.mime_type,
            size_bytes=len(content),
            width=info.width,
            height=info.height,
            duration_seconds=info.duration_seconds,
        )
