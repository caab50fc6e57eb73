"""Assets: ownership-scoped reads, a user's own uploaded images, favourites, deletion, and the public
representation."""

from __future__ import annotations

import asyncio
import logging
import uuid

import sqlalchemy as sa
from sqlalchemy.orm import joinedload
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.activity import record_asset_deleted, user_name
from core.contract import AssetKind, AssetStatus
from core.deletion import DeletedAssets, delete_assets
from core.errors import Conflict, InvalidInput, NotFound
from core.events import Outbox, asset_status_event
from core.media import UnsupportedMedia, fit_image, in_decode_pool, read_image
from core.models import Asset, Box, Project, StudioRole, User, utcnow
from core.schemas import AssetLineagePublic, AssetPublic
from core.settings import Settings
from core.storage import Storage, asset_file_key, asset_thumbnail_key
from core.studios import ACCESS, allowed, member_studio_ids

logger = logging.getLogger(__name__)


async def get_asset(
    session: AsyncSession,
    user: User,
    asset_id: int,
    needed: StudioRole = StudioRole.VIEWER,
    *,
    lock: bool = False,
) -> Asset:
    """The asset if `user` may act on it with the role `needed` (core/studios.py)."""
    query = (
        select(Asset, *ACCESS)
        .join(Box, col(Box.id) == Asset.box_id)
        .join(Project, col(Project.id) == Box.project_id)
        .where(Asset.id == asset_id)
        .options(joinedload(Asset.model))  # type: ignore[arg-type]
    )
    if lock:
        query = query.with_for_update(of=Asset)
    asset: Asset = await allowed(session, query, user, needed, "Asset not found.")
    return asset


def download_name(asset: Asset, shot_code: str) -> str:
    """`SH010-image-12.png`: the shot's code (letters, digits, `_.-` only), the kind, the id, the file's extension."""
    assert asset.file_key is not None
    extension = asset.file_key.rsplit(".", 1)[-1] if "." in asset.file_key else "bin"
    return f"{shot_code}-{asset.kind.value}-{asset.id}.{extension}"


async def download_url(session: AsyncSession, storage: Storage, asset: Asset) -> str:
    """Where the browser gets the original to save; 409 while the asset has no file."""
    if asset.status is not AssetStatus.COMPLETED or not asset.file_key:
        raise Conflict(f"This asset has no file to download yet (it is {asset.status.value}).")
    box = await session.get(Box, asset.box_id)
    if box is None:
        raise NotFound("Asset not found.")
    return storage.presigned_download_url(asset.file_key, download_name(asset, box.code))


def to_asset_public(asset: Asset, storage: Storage, requested_by_name: str | None = None) -> AssetPublic:
    """`requested_by_name` comes with the asset's own row (`user_name(Asset.requested_by_id)` in its statement)."""
    return AssetPublic(
        id=asset.id,
        box_id=asset.box_id,
        kind=asset.kind,
        status=asset.status,
        prompt=asset.prompt,
        model=asset.model.provider_model_id if asset.model is not None else None,
        model_id=asset.model_id,
        params=asset.params,
        seed=asset.seed,
        source_asset_id=asset.source_asset_id,
        input_asset_ids=asset.input_asset_ids,
        is_favorite=asset.is_favorite,
        error_message=asset.error_message,
        file_url=storage.presigned_get_url(asset.file_key) if asset.file_key else None,
        thumbnail_url=storage.presigned_get_url(asset.thumbnail_key) if asset.thumbnail_key else None,
        mime_type=asset.mime_type,
        size_bytes=asset.size_bytes,
        width=asset.width,
        height=asset.height,
        duration_seconds=asset.duration_seconds,
        cost_credits=asset.cost_credits,
        estimated_cost_credits=asset.estimated_cost_credits,
        batch_id=str(asset.batch_id) if asset.batch_id is not None else None,
        finished_at=asset.finished_at,
        requested_by_name=requested_by_name,
        created_at=asset.created_at,
        updated_at=asset.updated_at,
    )


async def load_asset_public(session: AsyncSession, storage: Storage, asset: Asset) -> AssetPublic:
    """One asset already loaded, with its requester's name (one lookup, often already in the session)."""
    requester = await session.get(User, asset.requested_by_id) if asset.requested_by_id is not None else None
    return to_asset_public(asset, storage, requester.display_name if requester is not None else None)


async def load_lineage(
    session: AsyncSession, storage: Storage, user: User, asset: Asset
) -> AssetLineagePublic:
    """Where the asset came from and what was made from it, in one statement. Sources, inputs and derived assets
    are in the asset's own project (generate and animate refuse others), and only the caller's are read."""
    assert asset.id is not None
    project_id = select(Box.project_id).where(Box.id == asset.box_id).scalar_subquery()
    related = [
        col(Asset.source_asset_id) == asset.id,
        col(Asset.input_asset_ids).contains([asset.id]),
    ]
    if asset.source_asset_id is not None:
        related.append(col(Asset.id) == asset.source_asset_id)
    if asset.input_asset_ids:
        related.append(col(Asset.id).in_(asset.input_asset_ids))
    rows = (
        await session.exec(
            select(Asset, user_name(Asset.requested_by_id))
            .join(Box, col(Box.id) == Asset.box_id)
            .join(Project)
            .where(
                col(Project.studio_id).in_(member_studio_ids(user)),
                Box.project_id == project_id,
                sa.or_(*related),
            )
            .order_by(col(Asset.created_at), col(Asset.id))
            .options(joinedload(Asset.model))  # type: ignore[arg-type]
        )
    ).all()
    public = {row.id: to_asset_public(row, storage, name) for row, name in rows}
    return AssetLineagePublic(
        source=public.get(asset.source_asset_id) if asset.source_asset_id is not None else None,
        inputs=[public[i] for i in asset.input_asset_ids if i in public],
        derived=[
            public[row.id]
            for row, _ in rows
            if row.source_asset_id == asset.id or asset.id in row.input_asset_ids
        ],
    )


async def upload_image(
    session: AsyncSession,
    storage: Storage,
    events: Outbox,
    settings: Settings,
    box: Box,
    data: bytes,
    prompt: str = "",
    *,
    user_id: int | None = None,
) -> Asset:
    """A COMPLETED image asset from the user's own PNG/JPEG/WebP (checked by content, not by name).

    An image over Kie.ai's input limit is stored as a re-encoded copy under it, so that edit and animate can use it.
    """
    try:
        if len(data) > settings.kie_max_input_bytes:
            # Kie.ai refuses input images over its limit: keep a copy it accepts (same pixels when that fits).
            data = await in_decode_pool(
                fit_image, data, settings.kie_max_input_bytes, settings.max_image_pixels
            )
        info, thumbnail = await in_decode_pool(read_image, data, settings.max_image_pixels)
    except UnsupportedMedia as exc:
        raise InvalidInput(str(exc)) from exc
    asset = Asset(
        box_id=box.id,  # type: ignore[arg-type]
        kind=AssetKind.IMAGE,
        status=AssetStatus.COMPLETED,
        prompt=prompt,
        requested_by_id=user_id,
        batch_id=uuid.uuid4(),  # an upload is a batch of its own
        finished_at=utcnow(),
    )
    session.add(asset)
    await session.flush()
    assert asset.id is not None
    asset.file_key = asset_file_key(asset.id, info.extension)
    asset.thumbnail_key = asset_thumbnail_key(asset.id)
    asset.mime_type, asset.size_bytes = info.mime_type, len(data)
    asset.width, asset.height = info.width, info.height
    await asyncio.to_thread(storage.put_bytes, asset.file_key, data, info.mime_type)
    await asyncio.to_thread(storage.put_bytes, asset.thumbnail_key, thumbnail, "image/jpeg")
    session.add(asset)
    await session.flush()
    await session.refresh(asset, attribute_names=["model"])
    # Presigning can fail: the upload is still saved with the request's commit, and a missed live update is repaired
    # by the next reload.
    try:
        events.queue(  # sent after the request session's commit
            asset_status_event(
                asset,
                box.project_id,
                thumbnail_url=storage.presigned_get_url(asset.thumbnail_key),
                file_url=storage.presigned_get_url(asset.file_key),
            )
        )
    except Exception:
        logger.warning("could not publish the upload of asset %s", asset.id, exc_info=True)
    return asset


async def list_box_assets(
    session: AsyncSession,
    box: Box,
    *,
    kind: AssetKind | None,
    status: AssetStatus | None,
    is_favorite: bool | None,
    limit: int,
    offset: int,
) -> tuple[list[tuple[Asset, str | None]], int]:
    """Newest first, each asset with its requester's name."""
    conditions = [Asset.box_id == box.id]
    if kind is not None:
        conditions.append(Asset.kind == kind)
    if status is not None:
        conditions.append(Asset.status == status)
    if is_favorite is not None:
        conditions.append(Asset.is_favorite == is_favorite)
    # The page, each asset's model and the total in one statement; a separate count only past the end.
    rows = (
        await session.exec(
            select(Asset, user_name(Asset.requested_by_id), func.count().over())
            .where(*conditions)
            .order_by(col(Asset.created_at).desc(), col(Asset.id).desc())
            .limit(limit)
            .offset(offset)
            .options(joinedload(Asset.model))  # type: ignore[arg-type]
        )
    ).all()
    if rows:
        return [(asset, name) for asset, name, _ in rows], rows[0][2]
    if offset == 0:
        return [], 0
    total = (await session.exec(select(func.count()).select_from(Asset).where(*conditions))).one()
    return [], total


async def set_favorite(session: AsyncSession, asset: Asset, is_favorite: bool) -> Asset:
    asset.is_favorite = is_favorite
    session.add(asset)
    await session.flush()
    return asset


async def delete_asset(session: AsyncSession, events: Outbox, actor: User, asset: Asset) -> DeletedAssets:
    """Delete the row and the comments on it, and queue its S3 keys; a running workflow is cancelled and the
    objects deleted after the commit (`core.deletion.finish_deletion`). The project's feed says who did it."""
    assert asset.id is not None
    box = await session.get(Box, asset.box_id)
    deleted = await delete_assets(session, "asset", asset.id)
    if (
        box is None or not deleted.asset_ids
    ):  # another tab (or the retention run) deleted it since it was read
        raise NotFound("Asset not found.")
    await record_asset_deleted(session, events, actor, asset, box)
    return deleted
