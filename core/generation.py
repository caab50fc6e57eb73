"""Generation requests: validate against the model's capabilities, insert PENDING assets, commit, start workflows.

Also animate (img2vid from a completed image), retry, upload of a user's own image, cancel, and the Kie.ai
callback that wakes a workflow up.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from collections.abc import Mapping
from typing import Annotated, Any

import sqlalchemy as sa
from pydantic import BaseModel, Field, StringConstraints
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.client import Client

from core import spend
from core.catalogue import get_active_model
from core.contract import AssetKind, AssetStatus, GenerateAssetInput, KieCallbackSignal, asset_workflow_id
from core.errors import Conflict, InvalidInput, NotFound, TemporalUnavailable, Unauthorized
from core.events import EventBus, ProjectEvent, asset_status_changed
from core.kie import verify_webhook_signature
from core.media import UnsupportedMedia, fit_image, in_decode_pool, read_image
from core.models import AIModel, Asset, Box, ChargeKind, CreditCharge, ModelKind, utcnow
from core.schemas import STORED_TEXT, DbId, InputModel
from core.settings import Settings
from core.storage import Storage, asset_file_key, asset_thumbnail_key
from core.temporal import signal_kie_callback, start_generation

logger = logging.getLogger(__name__)

DEFAULT_VIDEO_MODEL = "bytedance/seedance-1.5-pro"
MAX_VARIANTS = 4
CALLBACK_MAX_AGE_SECONDS = 24 * 3600
MAX_TIMESTAMP_DIGITS = 12
MAX_TASK_ID_LENGTH = 128
MAX_CALLBACK_BYTES = 64 * 1024
"""A Kie.ai callback is a few hundred bytes (result URLs included); anything far larger is refused unread."""
MAX_CALLBACK_STATE_LENGTH = 32
"""Kie.ai's states are short words ("success", "fail"); a longer one is not relayed to the workflow."""

ModelName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=150), STORED_TEXT
]
PromptText = Annotated[str, StringConstraints(max_length=20_000), STORED_TEXT]


class GenerateRequest(InputModel):
    model: ModelName
    prompt: PromptText
    params: dict[str, Any] = Field(default_factory=dict)
    count: Annotated[int, Field(ge=1, le=MAX_VARIANTS)] = 1
    input_asset_ids: Annotated[list[DbId], Field(max_length=10)] = Field(
        default_factory=list, description="Completed image assets of this project (models that edit images)"
    )


class AnimateRequest(InputModel):
    prompt: PromptText
    model: ModelName = DEFAULT_VIDEO_MODEL
    params: dict[str, Any] = Field(
        default_factory=dict,
        description="duration (4/8/12), resolution, aspect_ratio, fixed_lens, generate_audio",
    )


class GenerationAccepted(BaseModel):
    asset_id: int
    status: AssetStatus
    asset_ids: list[int]
    workflow_ids: list[str]
    estimated_cost: float = Field(
        description="The credits this request is charged until Kie.ai reports its own"
    )


# --- pure helpers (also used by the worker's activities) -----------------------------------------------------


CALLBACKS_OFF_WARNING = (
    "ENVIRONMENT=production without KIE_WEBHOOK_HMAC_KEY: Kie.ai callbacks are off (no callBackUrl is sent and "
    "the callback route refuses); generations are followed by polling alone, a few seconds slower"
)


def warn_if_callbacks_off(settings: Settings) -> None:
    if not settings.kie_callbacks_enabled:
        logger.warning(CALLBACKS_OFF_WARNING)


def kie_callback_url(settings: Settings, asset_id: int) -> str | None:
    """None when callbacks are off (production without KIE_WEBHOOK_HMAC_KEY): Kie.ai is then only polled."""
    if not settings.kie_callbacks_enabled:
        return None
    return f"{settings.public_base_url.rstrip('/')}/api/providers/kie/callback/{asset_id}/"


def resolve_params(model: AIModel, given: Mapping[str, Any]) -> dict[str, Any]:
    """Defaults (capabilities, then the model's default_params) overlaid with the request, each checked."""
    specs: dict[str, Any] = model.capabilities.get("params") or {}
    unknown = sorted(set(given) - set(specs))
    if unknown:
        raise InvalidInput(
            f"{model.display_name} does not take {', '.join(unknown)}.",
            details={"unknown_params": unknown, "allowed": sorted(specs)},
        )
    resolved: dict[str, Any] = {}
    for name, spec in specs.items():
        if "default" in spec:
            resolved[name] = spec["default"]
        if name in model.default_params:
            resolved[name] = model.default_params[name]
    for name, value in given.items():
        spec = specs[name]
        if spec.get("type") == "bool":
            if not isinstance(value, bool):
                raise InvalidInput(f"{name} must be true or false.", details={"param": name})
        elif spec.get("type") == "enum":
            values = spec.get("values") or []
            # "8" means 8 (some clients send numbers as strings); compared as text, so "²" or "٣" never reach
            # int() and a 5000-digit string is not parsed.
            as_text = {str(v): v for v in values if isinstance(v, int) and not isinstance(v, bool)}
            if isinstance(value, str) and value in as_text:
                value = as_text[value]
            if isinstance(value, bool) or value not in values:
                raise InvalidInput(
                    f"{name} must be one of {', '.join(map(str, values))}.",
                    details={"param": name, "allowed": values},
                )
        elif _holds_nul(value):
            raise InvalidInput(f"{name} may not contain NUL characters (U+0000).", details={"param": name})
        resolved[name] = value
    return resolved


def _holds_nul(value: Any) -> bool:
    """True when a JSON value carries U+0000 anywhere (PostgreSQL's jsonb cannot store it)."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(v) for v in value)
    return False


def check_prompt(model: AIModel, prompt: str) -> None:
    limits = model.capabilities.get("prompt") or {}
    low, high = int(limits.get("min_length", 1)), int(limits.get("max_length", 5000))
    if len(prompt.strip()) < low:
        raise InvalidInput(f"The prompt needs at least {low} character(s) for {model.display_name}.")
    if len(prompt) > high:
        raise InvalidInput(
            f"The prompt is {len(prompt)} characters long; {model.display_name} takes at most {high}.",
            details={"max_length": high},
        )


async def load_model(session: AsyncSession, name: str) -> AIModel:
    model = await get_active_model(session, name)
    if model is None:
        raise InvalidInput(f"Unknown or inactive model {name!r}; see GET /api/models/.")
    return model


def check_input_size(asset_id: int | None, size_bytes: int | None, settings: Settings) -> None:
    """Kie.ai refuses input images over its limit; say so now instead of failing the generation later."""
    limit = settings.kie_max_input_bytes
    if size_bytes is not None and size_bytes > limit:
        raise InvalidInput(
            f"The source image (asset {asset_id}) is {size_bytes / 1e6:.1f} MB; Kie.ai accepts input images up to "
            f"{limit / 1e6:g} MB. Upload it again (uploads are stored at a size Kie.ai accepts) or pick another.",
            details={"asset_id": asset_id, "size_bytes": size_bytes, "max_bytes": limit},
        )


async def check_input_images(
    session: AsyncSession, box: Box, model: AIModel, ids: list[int], settings: Settings
) -> None:
    spec = model.capabilities.get("input_images")
    if not spec:
        if ids:
            raise InvalidInput(f"{model.display_name} does not take input images.")
        return
    low, high = int(spec.get("min", 0)), int(spec.get("max", 10))
    if not low <= len(ids) <= high:
        raise InvalidInput(f"{model.display_name} takes {low} to {high} input image(s); {len(ids)} given.")
    if len(set(ids)) != len(ids):
        raise InvalidInput("An input image is listed twice.")
    if not ids:
        return
    found = (
        await session.exec(
            select(Asset.id, Asset.size_bytes)
            .join(Box, col(Box.id) == Asset.box_id)
            .where(
                col(Asset.id).in_(ids),
                Box.project_id == box.project_id,
                Asset.kind == AssetKind.IMAGE,
                Asset.status == AssetStatus.COMPLETED,
                col(Asset.file_key).is_not(None),
            )
        )
    ).all()
    missing = sorted(set(ids) - {i for i, _ in found if i is not None})
    if missing:
        raise InvalidInput(
            "Input images must be completed images of this project.",
            details={"invalid_input_asset_ids": missing},
        )
    for asset_id, size_bytes in found:
        assert asset_id is not None
        check_input_size(asset_id, size_bytes, settings)


# --- starting workflows --------------------------------------------------------------------------------------


def deadline_seconds(settings: Settings, kind: AssetKind) -> int:
    if kind is AssetKind.VIDEO:
        return settings.generation_video_deadline_seconds
    return settings.generation_image_deadline_seconds


async def start_asset_workflow(
    temporal: Client, settings: Settings, asset: Asset, project_id: int, *, replace_closed_run: bool = False
) -> str:
    """Start `asset-{id}`; a run already started for this asset counts as started (no second workflow)."""
    assert asset.id is not None
    payload = GenerateAssetInput(
        asset_id=asset.id,
        box_id=asset.box_id,
        project_id=project_id,
        kind=asset.kind,
        deadline_seconds=deadline_seconds(settings, asset.kind),
        infra_retry_window_seconds=settings.infra_retry_window_seconds,
        infra_retry_max_interval_seconds=settings.infra_retry_max_interval_seconds,
    )
    return await start_generation(temporal, settings, payload, replace_closed_run=replace_closed_run)


async def _start_all(
    session: AsyncSession,
    temporal: Client,
    settings: Settings,
    assets: list[Asset],
    project_id: int,
    events: EventBus | None = None,
    *,
    retrying: bool = False,
    charge_ids: Mapping[int, int] | None = None,
) -> list[str]:
    """Start every asset's workflow (their rows are committed and announced PENDING already). When Temporal is down
    for some (or all), undo those: a new asset is deleted (nothing was started, nothing will be charged) and its
    viewers are told (`publish_discarded`), a retried one goes back to FAILED; either way its credit charge
    (`charge_ids`, by asset id) goes in the same transaction. The ones that started are running and stay PENDING. Then answer 503 saying plainly what was and was not started.

    A start Temporal refused for another reason (a namespace or search attribute it does not have: our
    configuration, not an outage) is not undone but kept as FAILED with a sentence, retryable once fixed, and the
    error goes on to be answered as a logged 500.

    A start that timed out may still have reached Temporal. Undoing it is safe: only rows still PENDING are undone
    (a workflow that already moved its asset on counts as started), and a workflow whose row was deleted finds no
    row at its database steps (mark_asset_running finds no PENDING row; plan_kie_submission, the second, then
    ends the run as DELETED), so it never calls Kie.ai.
    """
    outcomes = await asyncio.gather(
        *(
            start_asset_workflow(temporal, settings, a, project_id, replace_closed_run=retrying)
            for a in assets
        ),
        return_exceptions=True,
    )
    refused = [
        (asset, error)
        for asset, error in zip(assets, outcomes, strict=True)
        if isinstance(error, BaseException)
    ]
    if not refused:
        return [str(workflow_id) for workflow_id in outcomes]
    refused_ids = [asset.id for asset, _ in refused if asset.id is not None]
    mistakes = [error for _, error in refused if not isinstance(error, TemporalUnavailable)]
    charges = charge_ids or {}
    if mistakes:  # not an outage: keep the rows, say why they did not run, and let the error surface
        failed = await _fail_unstarted(session, refused_ids, NOT_STARTED_REFUSED)
        await spend.delete_charges(session, [charges[i] for i in failed if i in charges])
        await session.commit()
        if events is not None:
            await publish_statuses(events, project_id, [a for a in assets if a.id in failed])
        raise mistakes[0]
    discarded = [] if retrying else [_discard_event(project_id, asset) for asset, _ in refused]
    if retrying:
        undone = await _fail_unstarted(session, refused_ids, NOT_STARTED_MESSAGE)
    else:
        undone = await _delete_unstarted(session, refused_ids)
    await spend.delete_charges(session, [charges[i] for i in undone if i in charges])
    await session.commit()
    if events is not None:
        if retrying:
            await publish_statuses(events, project_id, [a for a in assets if a.id in undone])
        else:
            await publish_discarded(events, [e for e in discarded if e.data["asset_id"] in undone])
    if not undone:
        # Every start counted as refused did reach Temporal after all: its workflow already moved the asset on.
        return [asset_workflow_id(asset.id) for asset in assets if asset.id is not None]
    started_ids = [asset.id for asset in assets if asset.id not in undone]
    logger.info("undid %d of %d generation start(s): Temporal is unavailable", len(undone), len(assets))
    if retrying:
        detail = (
            "The job service (Temporal) is unavailable: nothing was started; the asset was not retried and stays "
            "failed. Try again in a moment."
        )
        details: dict[str, Any] = {"started_asset_ids": started_ids, "failed_asset_ids": undone}
    elif not started_ids:
        detail = (
            "The job service (Temporal) is unavailable: nothing was started or saved. Try again in a moment."
        )
        details = {"started_asset_ids": [], "discarded_asset_ids": undone}
    else:
        detail = (
            f"The job service (Temporal) is unavailable: only {len(started_ids)} of the {len(assets)} generations "
            f"were started (asset{'s' if len(started_ids) > 1 else ''} {', '.join(map(str, started_ids))}); the "
            f"other {len(undone)} {'was' if len(undone) == 1 else 'were'} not started or saved. "
            "Generate the missing ones again in a moment."
        )
        details = {"started_asset_ids": started_ids, "discarded_asset_ids": undone}
    raise TemporalUnavailable(detail, details=details) from refused[0][1]


NOT_STARTED_MESSAGE = "The retry could not be started (the job service was unavailable). Retry it."
NOT_STARTED_DISCARDED = (
    "Not started: the job service (Temporal) was unavailable; this generation was discarded."
)
NOT_STARTED_REFUSED = (
    "Not started: the job service refused it (a configuration problem on our side). Retry it later."
)


async def _delete_unstarted(session: AsyncSession, asset_ids: list[int]) -> list[int]:
    """Delete the new assets whose workflow did not start, if still PENDING; the ids deleted."""
    deleted = await session.exec(
        sa.delete(Asset)
        .where(col(Asset.id).in_(asset_ids), col(Asset.status) == AssetStatus.PENDING)
        .returning(col(Asset.id))
    )
    return sorted(deleted.scalars().all())


async def _fail_unstarted(session: AsyncSession, asset_ids: list[int], message: str) -> list[int]:
    """Put assets whose workflow did not start to FAILED with `message`, if still PENDING; the ids failed."""
    failed = await session.exec(
        sa.update(Asset)
        .where(col(Asset.id).in_(asset_ids), col(Asset.status) == AssetStatus.PENDING)
        .values(status=AssetStatus.FAILED, error_message=message, updated_at=utcnow())
        .returning(col(Asset.id))
    )
    ids = sorted(failed.scalars().all())
    for asset_id in ids:  # the instances the caller publishes
        asset = await session.get(Asset, asset_id)
        if asset is not None:
            await session.refresh(asset)
    return ids


async def publish_statuses(events: EventBus, project_id: int, assets: list[Asset]) -> None:
    """Tell the project's viewers what these assets' rows say now (new PENDING ones, or ones that failed to start)."""
    try:
        for asset in assets:
            assert asset.id is not None
            await events.publish(
                asset_status_changed(
                    project_id=project_id,
                    asset_id=asset.id,
                    box_id=asset.box_id,
                    kind=asset.kind.value,
                    status=asset.status.value,
                    error_message=asset.error_message,
                )
            )
    except Exception:
        # The rows are committed either way; a missed live update is repaired by the next reload.
        logger.warning("could not publish the status of new assets", exc_info=True)


def _discard_event(project_id: int, asset: Asset) -> ProjectEvent:
    """What tells the viewers a new asset that was announced PENDING is gone (built before its row is deleted).

    The live vocabulary has no deletion event and the SPA none to handle (deleting an asset publishes nothing):
    a final status makes it reload the box's assets, which no longer hold the row. So: FAILED, with a sentence.
    """
    assert asset.id is not None
    return asset_status_changed(
        project_id=project_id,
        asset_id=asset.id,
        box_id=asset.box_id,
        kind=asset.kind.value,
        status=AssetStatus.FAILED.value,
        error_message=NOT_STARTED_DISCARDED,
    )


async def publish_discarded(events: EventBus, discarded: list[ProjectEvent]) -> None:
    try:
        for event in discarded:
            await events.publish(event)
    except Exception:
        # The rows are gone either way; a stale PENDING card is repaired by the next reload.
        logger.warning("could not tell viewers of discarded assets", exc_info=True)


async def _insert_and_start(
    session: AsyncSession,
    temporal: Client,
    settings: Settings,
    box: Box,
    assets: list[Asset],
    events: EventBus | None = None,
    *,
    retrying: bool = False,
    spending: spend.Spending,
    estimate: spend.Estimate,
) -> GenerationAccepted:
    for asset in assets:
        session.add(asset)
    await session.flush()
    user_id = spending.user.id
    assert user_id is not None
    charges: dict[int, CreditCharge] = {}
    for asset in assets:
        assert asset.id is not None
        asset.workflow_id = asset_workflow_id(asset.id)
        asset.estimated_cost_credits = estimate.per_asset
        session.add(asset)
        charges[asset.id] = spend.new_charge(user_id, estimate, asset.id, spending.now)
        session.add(charges[asset.id])
    await session.flush()
    charge_ids = {asset_id: charge.id for asset_id, charge in charges.items() if charge.id is not None}
    # Commit before starting: a workflow must never see an uncommitted asset. Announce before starting too: the
    # worker's RUNNING must never reach a viewer before this PENDING.
    await session.commit()
    if events is not None:
        await publish_statuses(events, box.project_id, assets)
    workflow_ids = await _start_all(
        session, temporal, settings, assets, box.project_id, events, retrying=retrying, charge_ids=charge_ids
    )
    ids = [a.id for a in assets if a.id is not None]
    return GenerationAccepted(
        asset_id=ids[0],
        status=AssetStatus.PENDING,
        asset_ids=ids,
        workflow_ids=workflow_ids,
        estimated_cost=estimate.total,
    )


async def generate(
    session: AsyncSession,
    temporal: Client,
    settings: Settings,
    box: Box,
    body: GenerateRequest,
    spending: spend.Spending,
    events: EventBus | None = None,
) -> GenerationAccepted:
    model = await load_model(session, body.model)
    if model.kind is not ModelKind.IMAGE:
        hint = " Use animate on a completed image asset." if model.kind is ModelKind.VIDEO else ""
        raise InvalidInput(f"{model.display_name} does not make images.{hint}")
    check_prompt(model, body.prompt)
    params = resolve_params(model, body.params)
    await check_input_images(session, box, model, body.input_asset_ids, settings)
    estimate = await spending.check(
        session, spend.estimate_generation(model, params, body.count, ChargeKind.GENERATE)
    )
    assets = [
        Asset(
            box_id=box.id,  # type: ignore[arg-type]
            kind=AssetKind.IMAGE,
            status=AssetStatus.PENDING,
            prompt=body.prompt,
            model_id=model.id,
            params=params,
            input_asset_ids=list(body.input_asset_ids),
        )
        for _ in range(body.count)
    ]
    return await _insert_and_start(
        session, temporal, settings, box, assets, events, spending=spending, estimate=estimate
    )


async def animate(
    session: AsyncSession,
    temporal: Client,
    settings: Settings,
    source: Asset,
    body: AnimateRequest,
    spending: spend.Spending,
    events: EventBus | None = None,
) -> GenerationAccepted:
    if source.kind is not AssetKind.IMAGE:
        raise InvalidInput("Only an image can be animated.")
    if source.status is not AssetStatus.COMPLETED or not source.file_key:
        raise InvalidInput(f"Only a completed image can be animated (this one is {source.status.value}).")
    model = await load_model(session, body.model)
    if model.kind is not ModelKind.VIDEO:
        raise InvalidInput(f"{model.display_name} does not make videos; animate needs a video model.")
    spec = model.capabilities.get("input_images") or {}
    if int(spec.get("max", 0)) < 1:
        raise InvalidInput(f"{model.display_name} cannot start from an image.")
    check_input_size(source.id, source.size_bytes, settings)
    check_prompt(model, body.prompt)
    params = resolve_params(model, body.params)
    box = await session.get(Box, source.box_id)
    if box is None:
        raise NotFound("Box not found.")
    estimate = await spending.check(session, spend.estimate_generation(model, params, 1, ChargeKind.ANIMATE))
    asset = Asset(
        box_id=source.box_id,
        kind=AssetKind.VIDEO,
        status=AssetStatus.PENDING,
        prompt=body.prompt,
        model_id=model.id,
        params=params,
        source_asset_id=source.id,
    )
    return await _insert_and_start(
        session, temporal, settings, box, [asset], events, spending=spending, estimate=estimate
    )


async def retry(
    session: AsyncSession,
    temporal: Client,
    settings: Settings,
    asset: Asset,
    spending: spend.Spending,
    events: EventBus | None = None,
) -> GenerationAccepted:
    """Run a FAILED asset's recipe again: same asset, new workflow run."""
    if asset.status is not AssetStatus.FAILED:
        raise Conflict(f"Only a failed asset can be retried (this one is {asset.status.value}).")
    if asset.model_id is None:
        raise InvalidInput("This asset was uploaded, not generated: there is nothing to retry.")
    box = await session.get(Box, asset.box_id)
    if box is None:
        raise NotFound("Box not found.")
    model = await session.get(AIModel, asset.model_id)
    if model is None:
        raise InvalidInput("This asset's model no longer exists: generate it again with another model.")
    # A retry is paid again: checked (while it is still FAILED, so it does not count itself as running) and charged.
    estimate = await spending.check(
        session, spend.estimate_generation(model, asset.params, 1, ChargeKind.RETRY)
    )
    # Conditional FAILED → PENDING: of two concurrent retries only one wins and starts a run.
    moved = await session.exec(
        sa.update(Asset)
        .where(col(Asset.id) == asset.id, col(Asset.status) == AssetStatus.FAILED)
        .values(status=AssetStatus.PENDING, error_message=None, provider_task_id=None, updated_at=utcnow())
    )
    if not moved.rowcount:
        raise Conflict("This asset is already being retried.")
    await session.refresh(asset)
    return await _insert_and_start(
        session, temporal, settings, box, [asset], events, retrying=True, spending=spending, estimate=estimate
    )


# --- upload --------------------------------------------------------------------------------------------------


async def upload_image(
    session: AsyncSession,
    storage: Storage,
    events: EventBus,
    settings: Settings,
    box: Box,
    data: bytes,
    prompt: str = "",
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
    asset = Asset(box_id=box.id, kind=AssetKind.IMAGE, status=AssetStatus.COMPLETED, prompt=prompt)  # type: ignore[arg-type]
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
    await session.commit()
    await session.refresh(asset, attribute_names=["model"])
    try:
        await events.publish(
            asset_status_changed(
                project_id=box.project_id,
                asset_id=asset.id,
                box_id=asset.box_id,
                kind=asset.kind.value,
                status=asset.status.value,
                thumbnail_url=storage.presigned_get_url(asset.thumbnail_key),
                file_url=storage.presigned_get_url(asset.file_key),
            )
        )
    except Exception:  # the upload is saved; a missed live update is repaired by the next reload
        logger.warning("could not publish the upload of asset %s", asset.id, exc_info=True)
    return asset


# --- Kie.ai callback -----------------------------------------------------------------------------------------


def read_callback_task_id(
    settings: Settings, body: Any, timestamp: str | None, signature: str | None
) -> tuple[str, str | None]:
    """The callback's task id and state, after checking the HMAC signature when a key is configured."""
    data = body.get("data") if isinstance(body, dict) else None
    task_id = (data.get("taskId") or data.get("task_id")) if isinstance(data, dict) else None
    if not isinstance(task_id, str) or not task_id:
        raise InvalidInput("The callback has no data.taskId.")
    if not task_id.isascii() or len(task_id) > MAX_TASK_ID_LENGTH:
        raise InvalidInput("The callback's data.taskId is not a Kie.ai task id.")
    state = data.get("state") if isinstance(data, dict) else None
    if settings.kie_webhook_hmac_key is not None:
        if not timestamp or not signature:
            raise Unauthorized("The callback is not signed.")
        # Unix seconds, as ASCII digits: anything longer could not be within a day of now (and int() of a
        # 400-digit string would overflow the float subtraction).
        if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= MAX_TIMESTAMP_DIGITS):
            raise Unauthorized("The callback timestamp is not a Unix time in seconds.")
        age = abs(time.time() - int(timestamp))
        key = settings.kie_webhook_hmac_key.get_secret_value()
        if age > CALLBACK_MAX_AGE_SECONDS or not verify_webhook_signature(key, task_id, timestamp, signature):
            raise Unauthorized("The callback signature does not match.")
    if not isinstance(state, str) or len(state) > MAX_CALLBACK_STATE_LENGTH:
        state = None
    return task_id, state


async def callback_is_for_submitted_task(session: AsyncSession, asset_id: int, task_id: str) -> bool:
    """True when `task_id` is the Kie.ai task the asset's workflow submitted (recorded by record_kie_task).

    Anything else (a forged or stray callback, or one that outran the recording) is answered without signalling:
    each signal grows the workflow's history, and polling finds the task's end anyway."""
    recorded = await session.scalar(sa.select(col(Asset.provider_task_id)).where(col(Asset.id) == asset_id))
    return recorded is not None and hmac.compare_digest(recorded, task_id)


async def deliver_kie_callback(
    temporal: Client, settings: Settings, asset_id: int, task_id: str, state: str | None
) -> bool:
    """Signal the asset's workflow; False when there is no running workflow for it (a late or stray callback)."""
    return await signal_kie_callback(
        temporal, settings, asset_id, KieCallbackSignal(task_id=task_id, state=state)
    )
