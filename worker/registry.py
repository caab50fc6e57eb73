"""Which workflows and activities this worker runs, and what it sets up at start (e.g. schedules).

Each feature adds its entries here; activities are bound methods of objects built from WorkerDeps.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from activities.assets import AssetActivities
from activities.events import EventActivities
from activities.kie import KieActivities
from activities.llm import LlmActivities
from activities.reconcile import ReconcileActivities
from activities.retention import RetentionActivities
from activities.storage import StorageActivities
from core.kie import KieClient
from core.retention import sync_retention_schedule
from core.temporal import upsert_reconcile_schedule
from worker.deps import WorkerDeps
from workflows.generation import GenerateAssetWorkflow
from workflows.reconcile import ReconcileAssetsWorkflow
from workflows.retention import RetentionWorkflow
from workflows.smart_edit import SmartEditWorkflow


def workflows() -> list[type]:
    return [
        GenerateAssetWorkflow,
        ReconcileAssetsWorkflow,
        RetentionWorkflow,
        SmartEditWorkflow,
    ]


def activities(deps: WorkerDeps) -> list[Callable[..., Any]]:
    retention = RetentionActivities(
        deps.sessionmaker,
        deps.storage,
        schedule_sync=partial(sync_retention_schedule, deps.sessionmaker, deps.temporal, deps.settings),
    )
    return [
        *generation_activities(deps),
        retention.plan_retention_run,
        retention.drain_pending_deletions,
        retention.purge_retention_page,
        retention.delete_purged_objects,
        ReconcileActivities(
            deps.sessionmaker, deps.temporal, deps.events, deps.settings
        ).reconcile_assets_page,
        LlmActivities(deps.kie or KieClient.from_settings(deps.settings)).rewrite_prompt,
    ]


def startup_hooks() -> list[Callable[[WorkerDeps], Awaitable[None]]]:
    """Coroutines run once when the worker starts (idempotent: e.g. create-or-update a schedule)."""
    return [
        ensure_retention_schedule,
        ensure_reconciler_schedule,
    ]


async def ensure_retention_schedule(deps: WorkerDeps) -> None:
    await sync_retention_schedule(deps.sessionmaker, deps.temporal, deps.settings)


async def ensure_reconciler_schedule(deps: WorkerDeps) -> None:
    await upsert_reconcile_schedule(deps.temporal, deps.settings)


def generation_activities(deps: WorkerDeps) -> list[Callable[..., Any]]:
    kie = deps.kie or KieClient.from_settings(deps.settings)
    assets = AssetActivities(deps.sessionmaker, deps.storage, deps.settings)
    kie_activities = KieActivities(kie)
    storage = StorageActivities(deps.storage, kie, deps.settings, deps.sessionmaker)
    events = EventActivities(deps.sessionmaker, deps.events, deps.storage)
    return [
        assets.mark_asset_running,
        assets.plan_kie_submission,
        assets.record_kie_task,
        assets.complete_asset,
        assets.discard_ingested_files,
        assets.fail_asset,
        kie_activities.submit_kie_task,
        kie_activities.fetch_kie_task,
        storage.ingest_result,
        events.publish_asset_status,
    ]
