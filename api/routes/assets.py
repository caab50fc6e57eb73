"""Assets of a box: listing with filters, lineage, favourites, deletion."""

from typing import Annotated

from fastapi import APIRouter, Query, status
from fastapi.responses import RedirectResponse

from api.deps import (
    AfterDeletionDep,
    CurrentUser,
    EditedAsset,
    EventsDep,
    PaginationDep,
    SessionDep,
    StorageDep,
    ViewedAsset,
    ViewedBox,
)
from api.errors import error_responses
from core import assets
from core.contract import AssetKind, AssetStatus
from core.schemas import AssetLineagePublic, AssetPublic, AssetUpdate, Page

router = APIRouter(tags=["assets"])


@router.get("/api/boxes/{box_id}/assets/", response_model=Page[AssetPublic])
async def list_assets(
    box: ViewedBox,
    session: SessionDep,
    storage: StorageDep,
    page: PaginationDep,
    kind: Annotated[AssetKind | None, Query()] = None,
    status: Annotated[AssetStatus | None, Query()] = None,
    is_favorite: Annotated[bool | None, Query()] = None,
) -> Page[AssetPublic]:
    items, total = await assets.list_box_assets(
        session, box, kind=kind, status=status, is_favorite=is_favorite, limit=page.limit, offset=page.offset
    )
    return Page(
        items=[assets.to_asset_public(a, storage, requested_by_name) for a, requested_by_name in items],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


@router.get("/api/assets/{asset_id}/", response_model=AssetPublic)
async def read_asset(asset: ViewedAsset, session: SessionDep, storage: StorageDep) -> AssetPublic:
    return await assets.load_asset_public(session, storage, asset)


@router.get("/api/assets/{asset_id}/lineage/", response_model=AssetLineagePublic)
async def read_lineage(
    asset: ViewedAsset, user: CurrentUser, session: SessionDep, storage: StorageDep
) -> AssetLineagePublic:
    """The image a video was animated from, an edit's input images, and what was made from this asset."""
    return await assets.load_lineage(session, storage, user, asset)


@router.get(
    "/api/assets/{asset_id}/download/",
    status_code=status.HTTP_307_TEMPORARY_REDIRECT,
    response_class=RedirectResponse,
    responses=error_responses(409),
)
async def download_asset(asset: ViewedAsset, session: SessionDep, storage: StorageDep) -> RedirectResponse:
    """Save the original: a redirect to the file with `Content-Disposition: attachment` (`SH010-image-12.png`)."""
    url = await assets.download_url(session, storage, asset)
    return RedirectResponse(url, status_code=status.HTTP_307_TEMPORARY_REDIRECT)


@router.patch("/api/assets/{asset_id}/", response_model=AssetPublic)
async def update_asset(
    asset: EditedAsset, body: AssetUpdate, session: SessionDep, storage: StorageDep
) -> AssetPublic:
    asset = await assets.set_favorite(session, asset, body.is_favorite)
    return await assets.load_asset_public(session, storage, asset)


@router.delete("/api/assets/{asset_id}/", status_code=status.HTTP_204_NO_CONTENT)
async def delete_asset(
    asset: EditedAsset, user: CurrentUser, session: SessionDep, events: EventsDep, after: AfterDeletionDep
) -> None:
    """Deletes the variant and the comments on it; a running generation is cancelled after the commit."""
    after.schedule(await assets.delete_asset(session, events, user, asset))
