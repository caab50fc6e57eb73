"""Generation requests: validate against the model's capabilities (`core.catalogue`), insert PENDING assets, commit,
start workflows.

Also animate (img2vid from a completed image), retry, cancel, and relaying a Kie.ai callback (read and
signature-checked by `core.kie`) to the workflow it wakes up.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import uuid
from collections.abc import Mapping
from typing import Annotated, Any

import sqlalchemy as sa
from pydantic import BaseModel, Field, StringConstraints
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.client import Client

from core import spend
from core.activity import activity_event, record_generation_outcome
from core.catalogue import check_prompt, load_model, resolve_params
from core.contract import AssetKind, AssetStatus, GenerateAssetInput, KieCallbackSignal, asset_workflow_id
from core.errors import Conflict, InvalidInput, NotFound, TemporalUnavailable
from core.events import Outbox, ProjectEvent, asset_status_changed, asset_status_event
from core.models import ActivityItem, AIModel, Asset, Box, ChargeKind, CreditCharge, ModelKind, utcnow
from core.schemas import STORED_TEXT, DbId, InputModel
from core.settings import Settings
from core.temporal import signal_kie_callback, start_generation

logger = logging.getLogger(__name__)

DEFAULT_VIDEO_MODEL = "bytedance/seedance-1.5-pro"
MAX_VARIANTS = 4

ModelName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=150), STORED_TEXT
]
PromptText = Annotated[str, StringConstraints(max_length=20_000), STORED_TEXT]


class GenerationCreate(InputModel):
    model: ModelName
    prompt: PromptText
    params: dict[str, Any] = Field(default_factory=dict)
    count: Annotated[int, Field(ge=1, le=MAX_VARIANTS)] = 1
    input_asset_ids: Annotated[list[DbId], Field(max_length=10)] = Field(
        default_factory=list, description="Completed image assets of this project (models that edit images)"
    )


class AnimationCreate(InputModel):
    prompt: PromptText
    model: ModelName = DEFAULT_VIDEO_MODEL
    params: dict[str, Any] = Field(
        default_factory=dict,
        description="duration (4/8/12), resolution, aspect_ratio, fixed_lens, generate_audio",
    )


class GenerationPublic(BaseModel):
    asset_id: int
    status: AssetStatus
    asset_ids: list[int]
    workflow_ids: list[str]
    estimated_cost: float = Field(
        description="The credits this request is charged until Kie.ai reports its own"
    )


# --- pure helpers ------------------------------------------------------------------------------------------------


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
    events: Outbox | None = None,
    *,
    retrying: bool = False,
    charge_ids: Mapping[int, int] | None = None,
) -> list[str]:
    """Start every asset's workflow (their rows are committed and announced PENDING already). When Temporal is down
    for some (or all), undo those: a new asset is deleted (nothing was started, nothing will be charged) and its
    viewers are told (`_discard_event`), a retried one goes back to FAILED; either way its credit charge
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
        failed, lines = await _fail_unstarted(session, refused_ids, NOT_STARTED_REFUSED)
        await spend.delete_charges(session, [charges[i] for i in failed if i in charges])
        # Committed here, not by the session dependency: the error raised next rolls the request's session back,
        # and the rows must keep saying why they did not run. Their viewers are told right after.
        await session.commit()
        if events is not None:
            queue_failures(events, project_id, [a for a in assets if a.id in failed], lines)
            await events.send()
        raise mistakes[0]
    discarded = [] if retrying else [_discard_event(project_id, asset) for asset, _ in refused]
    lines = []
    if retrying:
        undone, lines = await _fail_unstarted(session, refused_ids, NOT_STARTED_MESSAGE)
    else:
        undone = await _delete_unstarted(session, refused_ids)
    await spend.delete_charges(session, [charges[i] for i in undone if i in charges])
    # Committed here for the same reason: the TemporalUnavailable raised below rolls the request's session back.
    await session.commit()
    if events is not None:
        if retrying:
            queue_failures(events, project_id, [a for a in assets if a.id in undone], lines)
        else:
            for event in discarded:
                if event.data["asset_id"] in undone:
                    events.queue(event)
        await events.send()
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


async def _fail_unstarted(
    session: AsyncSession, asset_ids: list[int], message: str
) -> tuple[list[int], list[ActivityItem]]:
    """Put assets whose workflow did not start to FAILED with `message`, if still PENDING: the ids failed, and the
    activity lines saying so (the feed shows every failure the shot view shows)."""
    now = utcnow()
    failed = await session.exec(
        sa.update(Asset)
        .where(col(Asset.id).in_(asset_ids), col(Asset.status) == AssetStatus.PENDING)
        .values(status=AssetStatus.FAILED, error_message=message, updated_at=now, finished_at=now)
        .returning(col(Asset.id))
    )
    ids = sorted(failed.scalars().all())
    lines = []
    for asset_id in ids:  # the instances the caller publishes
        asset = await session.get(Asset, asset_id)
        if asset is not None:
            await session.refresh(asset)
        line = await record_generation_outcome(session, asset_id, AssetStatus.FAILED)
        if line is not None:
            lines.append(line)
    return ids, lines


def queue_failures(events: Outbox, project_id: int, assets: list[Asset], lines: list[ActivityItem]) -> None:
    """The statuses of assets that failed to start, then their activity lines."""
    queue_statuses(events, project_id, assets)
    for line in lines:
        events.queue(activity_event(line))


def queue_statuses(events: Outbox, project_id: int, assets: list[Asset]) -> None:
    """Tell the project's viewers what these assets' rows say now (new PENDING ones, or ones that failed to start)."""
    for asset in assets:
        events.queue(asset_status_event(asset, project_id))


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


async def _insert_and_start(
    session: AsyncSession,
    temporal: Client,
    settings: Settings,
    box: Box,
    assets: list[Asset],
    events: Outbox | None = None,
    *,
    retrying: bool = False,
    spending: spend.Spending,
    estimate: spend.Estimate,
) -> GenerationPublic:
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
        asset.requested_by_id = user_id  # a retry is the retrying member's
        session.add(asset)
        charges[asset.id] = spend.new_charge(user_id, estimate, asset.id, spending.now, spending.studio_id)
        session.add(charges[asset.id])
    await session.flush()
    charge_ids = {asset_id: charge.id for asset_id, charge in charges.items() if charge.id is not None}
    # Commit before starting (not left to the session dependency): a workflow must never see an uncommitted asset.
    # Announce right after, before starting too: the worker's RUNNING must never reach a viewer before this PENDING.
    await session.commit()
    if events is not None:
        queue_statuses(events, box.project_id, assets)
        await events.send()
    workflow_ids = await _start_all(
        session, temporal, settings, assets, box.project_id, events, retrying=retrying, charge_ids=charge_ids
    )
    ids = [a.id for a in assets if a.id is not None]
    return GenerationPublic(
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
    body: GenerationCreate,
    spending: spend.Spending,
    events: Outbox | None = None,
) -> GenerationPublic:
    model = await load_model(session, body.model)
    if model.kind is not ModelKind.IMAGE:
        hint = " Use animate on a completed image asset." if model.kind is ModelKind.VIDEO else ""
        raise InvalidInput(f"{model.display_name} does not make images.{hint}")
    check_prompt(model, body.prompt)
    params = resolve_params(model, body.params)
    await check_input_images(session, box, model, body.input_asset_ids, settings)
    estimate = await spending.check(
        session,
        spend.estimate_generation(model, params, body.count, ChargeKind.GENERATE),
        project_id=box.project_id,
    )
    batch_id = uuid.uuid4()  # the variants of one request are one batch
    assets = [
        Asset(
            box_id=box.id,  # type: ignore[arg-type]
            kind=AssetKind.IMAGE,
            status=AssetStatus.PENDING,
            prompt=body.prompt,
            model_id=model.id,
            params=params,
            input_asset_ids=list(body.input_asset_ids),
            batch_id=batch_id,
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
    body: AnimationCreate,
    spending: spend.Spending,
    events: Outbox | None = None,
) -> GenerationPublic:
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
    estimate = await spending.check(
        session, spend.estimate_generation(model, params, 1, ChargeKind.ANIMATE), project_id=box.project_id
    )
    asset = Asset(
        box_id=source.box_id,
        kind=AssetKind.VIDEO,
        status=AssetStatus.PENDING,
        prompt=body.prompt,
        model_id=model.id,
        params=params,
        source_asset_id=source.id,
        batch_id=uuid.uuid4(),
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
    events: Outbox | None = None,
) -> GenerationPublic:
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
        session,
        spend.estimate_generation(model, asset.params, 1, ChargeKind.RETRY),
        project_id=box.project_id,
    )
    # Conditional FAILED → PENDING: of two concurrent retries only one wins and starts a run. A retry is a request of
    # its own: its own batch, and its clock restarts (`created_at` is when it was requested: the shot view's elapsed
    # time and batch order, the models' typical durations and the retention age all count from the retry).
    now = utcnow()
    moved = await session.exec(
        sa.update(Asset)
        .where(col(Asset.id) == asset.id, col(Asset.status) == AssetStatus.FAILED)
        .values(
            status=AssetStatus.PENDING,
            error_message=None,
            provider_task_id=None,
            created_at=now,
            updated_at=now,
            finished_at=None,
            batch_id=uuid.uuid4(),
        )
    )
    if not moved.rowcount:
        raise Conflict("This asset is already being retried.")
    await session.refresh(asset)
    return await _insert_and_start(
        session, temporal, settings, box, [asset], events, retrying=True, spending=spending, estimate=estimate
    )


# --- Kie.ai callback -----------------------------------------------------------------------------------------


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
