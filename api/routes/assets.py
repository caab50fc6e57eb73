"""Assets of a box: listing with filters, favourites, deletion."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, status

from api.deps import OwnedAsset, OwnedBox, PaginationDep, SessionDep, StorageDep
from api.errors import error_responses
from api.routes.generation import temporal_client
from core import assets, generation
from core.models import Asset, AssetKind, AssetStatus
from core.schemas import AssetPublic, AssetUpdate, Page

router = APIRouter(tags=["assets"])


@router.get("/api/boxes/{box_id}/assets/", response_model=Page[AssetPublic])
async def list_assets(
    box: OwnedBox,
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
        items=[assets.to_asset_public(a, storage) for a in items],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


@router.get("/api/assets/{asset_id}/", response_model=AssetPublic)
async def read_asset(asset: OwnedAsset, storage: StorageDep) -> AssetPublic:
    return assets.to_asset_public(asset, storage)


@router.patch("/api/assets/{asset_id}/", response_model=AssetPublic)
async def update_asset(
    asset: OwnedAsset, body: AssetUpdate, session: SessionDep, storage: StorageDep
) -> AssetPublic:
    asset = await assets.set_favorite(session, asset, body.is_favorite)
    return assets.to_asset_public(asset, storage)


@router.delete(
    "/api/assets/{asset_id}/", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(503)
)
async def delete_asset(asset: OwnedAsset, session: SessionDep, storage: StorageDep, request: Request) -> None:
    # A running generation is cancelled first, so it cannot write into a deleted asset.
    async def cancel_workflow(target: Asset) -> None:
        await generation.cancel_generation(await temporal_client(request), target)

    await assets.delete_asset(session, storage, asset, cancel_workflow=cancel_workflow)
