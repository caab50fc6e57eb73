"""Generation: generate variants in a box, animate an image, retry a failed asset, upload an image."""

from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile, status

from api.deps import (
    CurrentUser,
    EditedAsset,
    EditedBox,
    EventsDep,
    GenerationRateLimit,
    SessionDep,
    SettingsDep,
    SpendingDep,
    StorageDep,
    TemporalDep,
)
from api.errors import error_responses
from core import generation
from core.assets import to_asset_public, upload_image
from core.errors import PayloadTooLarge
from core.generation import AnimationCreate, GenerationCreate, GenerationPublic
from core.schemas import STORED_TEXT, AssetPublic

router = APIRouter(tags=["generation"])

UPLOAD_CHUNK = 1024 * 1024


@router.post(
    "/api/boxes/{box_id}/generate/",
    status_code=status.HTTP_202_ACCEPTED,
    responses=error_responses(402, 429, 503),
    dependencies=[GenerationRateLimit],
)
async def generate(
    box: EditedBox,
    body: GenerationCreate,
    session: SessionDep,
    settings: SettingsDep,
    events: EventsDep,
    temporal: TemporalDep,
    spending: SpendingDep,
) -> GenerationPublic:
    return await generation.generate(session, temporal, settings, box, body, spending, events)


@router.post(
    "/api/assets/{asset_id}/animate/",
    status_code=status.HTTP_202_ACCEPTED,
    responses=error_responses(402, 429, 503),
    dependencies=[GenerationRateLimit],
)
async def animate(
    asset: EditedAsset,
    body: AnimationCreate,
    session: SessionDep,
    settings: SettingsDep,
    events: EventsDep,
    temporal: TemporalDep,
    spending: SpendingDep,
) -> GenerationPublic:
    return await generation.animate(session, temporal, settings, asset, body, spending, events)


@router.post(
    "/api/assets/{asset_id}/retry/",
    status_code=status.HTTP_202_ACCEPTED,
    responses=error_responses(402, 409, 429, 503),
    dependencies=[GenerationRateLimit],
)
async def retry(
    asset: EditedAsset,
    session: SessionDep,
    settings: SettingsDep,
    events: EventsDep,
    temporal: TemporalDep,
    spending: SpendingDep,
) -> GenerationPublic:
    return await generation.retry(session, temporal, settings, asset, spending, events)


@router.post(
    "/api/boxes/{box_id}/upload/",
    status_code=status.HTTP_201_CREATED,
    response_model=AssetPublic,
    responses=error_responses(413, 503),
)
async def upload(
    box: EditedBox,
    file: Annotated[UploadFile, File(description="A PNG, JPEG or WebP image")],
    user: CurrentUser,
    session: SessionDep,
    storage: StorageDep,
    events: EventsDep,
    settings: SettingsDep,
    prompt: Annotated[str, Form(max_length=5000), STORED_TEXT] = "",
) -> AssetPublic:
    limit = settings.max_upload_bytes
    chunks: list[bytes] = []
    size = 0
    while chunk := await file.read(UPLOAD_CHUNK):
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"The file is larger than {limit // (1024 * 1024)} MB.")
        chunks.append(chunk)
    asset = await upload_image(
        session, storage, events, settings, box, b"".join(chunks), prompt, user_id=user.id
    )
    return to_asset_public(asset, storage, user.display_name)
