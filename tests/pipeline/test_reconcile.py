"""Generations whose workflow stopped for good (terminated, never started) do not stay PENDING/RUNNING forever: the
reconciler marks them FAILED with a sentence a person understands and tells the project's viewers. A healthy
workflow and an asset whose start may still be in flight are left alone. The clock is injected, never slept on."""

from __future__ import annotations

import contextlib
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError
from temporalio.worker import Replayer

from core.contract import (
    AssetStatus,
    ReconcileInput,
    ReconcileResult,
    asset_workflow_id,
    reconcile_workflow_id,
)
from core.events import project_stream
from core.models import Asset
from core.settings import Settings
from tests.builders import make_asset, make_box, make_project, register
from tests.pipeline.fixtures import wait_for_asset
from worker.deps import WorkerDeps
from workflows.reconcile import ReconcileAssetsWorkflow


async def run_reconciler(worker: WorkerDeps, settings: Settings, now: datetime) -> ReconcileResult:
    handle = await worker.temporal.start_workflow(
        ReconcileAssetsWorkflow.run,
        # Small pages and runs: it pages through whatever else is stale, and continues as new along the way.
        ReconcileInput(now=now, page_size=2, pages_per_run=2),
        id=reconcile_workflow_id(uuid.uuid4().hex[:8]),
        task_queue=settings.temporal_task_queue,
    )
    result = await handle.result()
    # Every run of the chain replays against the current workflow code (no non-determinism).
    replayer = Replayer(workflows=[ReconcileAssetsWorkflow], data_converter=pydantic_data_converter)
    async for history in worker.temporal.list_workflows(f"WorkflowId = '{handle.id}'").map_histories():
        await replayer.replay_workflow(history)
    return result


async def published(worker: WorkerDeps, project_id: int) -> list[dict[str, Any]]:
    """The project's events as Redis keeps them for resuming clients (what a socket would have received)."""
    entries = await worker.events.redis.xrange(project_stream(project_id))
    return [json.loads(fields[b"e"]) for _, fields in entries]


async def start_endless(client: httpx.AsyncClient, headers: dict[str, str], box_id: int, prompt: str) -> int:
    response = await client.post(
        f"/api/boxes/{box_id}/generate/",
        json={"model": "google/nano-banana", "prompt": f"{prompt} [sim:never]"},
        headers=headers,
    )
    assert response.status_code == 202, response.text
    asset_id: int = response.json()["asset_id"]
    await wait_for_asset(client, headers, asset_id, statuses=("RUNNING",))
    return asset_id


async def set_updated_at(
    sessionmaker: async_sessionmaker[AsyncSession], asset_id: int, moment: datetime
) -> None:
    async with sessionmaker() as session:
        await session.exec(sa.update(Asset).where(col(Asset.id) == asset_id).values(updated_at=moment))
        await session.commit()


async def test_a_terminated_generation_is_failed_and_a_healthy_one_is_left_running(
    pipeline_client: httpx.AsyncClient, pipeline_worker: WorkerDeps, pipeline_settings: Settings
) -> None:
    headers = await register(pipeline_client)
    project = await make_project(pipeline_client, headers)
    box = await make_box(pipeline_client, headers, project["id"])
    killed = await start_endless(pipeline_client, headers, box["id"], "a lighthouse that never finishes")
    healthy = await start_endless(pipeline_client, headers, box["id"], "a harbour that takes its time")
    await pipeline_worker.temporal.get_workflow_handle(asset_workflow_id(killed)).terminate("operator")
    assert (await wait_for_asset(pipeline_client, headers, killed, statuses=("RUNNING",)))[
        "status"
    ] == "RUNNING"

    try:
        # Both assets have been unchanged for longer than the grace period by then.
        later = datetime.now(UTC) + timedelta(seconds=pipeline_settings.reconcile_grace_seconds + 60)
        result = await run_reconciler(pipeline_worker, pipeline_settings, later)

        failed = await wait_for_asset(pipeline_client, headers, killed, statuses=("FAILED",), timeout=5)
        assert failed["error_message"] == (
            "The generation stopped unexpectedly (its job was terminated). Retry to try again."
        )
        assert result.failed >= 1
        assert failed["finished_at"] is not None
        still = await pipeline_client.get(f"/api/assets/{healthy}/", headers=headers)
        assert still.json()["status"] == "RUNNING" and still.json()["finished_at"] is None
        events = await published(pipeline_worker, project["id"])
        (event,) = [
            e
            for e in events
            if e["type"] == "asset_status_changed"
            and e["data"]["asset_id"] == killed
            and e["data"]["status"] == "FAILED"
        ]
        assert event["data"]["error_message"] == failed["error_message"]
        assert event["data"]["box_id"] == box["id"] and event["data"]["kind"] == "image"
        # The feed says so too, live and listed (who asked for it, which shot).
        (line,) = [e["data"] for e in events if e["type"] == "activity"]
        assert (line["kind"], line["asset_id"], line["actor_name"]) == ("failed", killed, "Test User")
        feed = (await pipeline_client.get(f"/api/projects/{project['id']}/activity/", headers=headers)).json()
        assert [item["id"] for item in feed["items"]] == [line["id"]]

        # FAILED is what makes it retryable again.
        retried = await pipeline_client.post(f"/api/assets/{killed}/retry/", headers=headers)
        assert retried.status_code == 202, retried.text
    finally:
        for asset_id in (killed, healthy):
            with contextlib.suppress(RPCError):  # already closed
                await pipeline_worker.temporal.get_workflow_handle(asset_workflow_id(asset_id)).cancel()


async def test_an_asset_whose_workflow_never_started_is_failed_once_past_the_grace_period(
    pipeline_client: httpx.AsyncClient,
    pipeline_worker: WorkerDeps,
    pipeline_settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    headers = await register(pipeline_client)
    project = await make_project(pipeline_client, headers)
    box = await make_box(pipeline_client, headers, project["id"])
    now = datetime.now(UTC)
    grace = timedelta(seconds=pipeline_settings.reconcile_grace_seconds)
    # Committed, but the API died before starting the workflow: no `asset-{id}` exists in Temporal.
    orphan = await make_asset(sessionmaker, box["id"], status=AssetStatus.PENDING)
    young = await make_asset(sessionmaker, box["id"], status=AssetStatus.PENDING)
    running_orphan = await make_asset(sessionmaker, box["id"], status=AssetStatus.RUNNING)
    for asset in (orphan, young, running_orphan):
        await set_updated_at(sessionmaker, asset.id, now - grace - timedelta(seconds=30))
    await set_updated_at(
        sessionmaker, young.id, now - grace + timedelta(seconds=30)
    )  # its start may be in flight

    await run_reconciler(pipeline_worker, pipeline_settings, now)

    for asset_id in (orphan.id, running_orphan.id):
        body = (await pipeline_client.get(f"/api/assets/{asset_id}/", headers=headers)).json()
        assert body["status"] == "FAILED"
        assert body["error_message"] == (
            "The generation stopped unexpectedly (its job could not be found: it never started, or its record expired). Retry to try again."
        )
    assert (await pipeline_client.get(f"/api/assets/{young.id}/", headers=headers)).json()[
        "status"
    ] == "PENDING"
    events = await published(pipeline_worker, project["id"])
    failed_events = {
        e["data"]["asset_id"]
        for e in events
        if e["type"] == "asset_status_changed" and e["data"]["status"] == "FAILED"
    }
    assert failed_events == {orphan.id, running_orphan.id}
    lines = {e["data"]["asset_id"]: e["data"]["kind"] for e in events if e["type"] == "activity"}
    assert lines == {orphan.id: "failed", running_orphan.id: "failed"}

    # A second pass changes nothing more (the rows are FAILED now; the young one is still young).
    await run_reconciler(pipeline_worker, pipeline_settings, now)
    assert (await pipeline_client.get(f"/api/assets/{young.id}/", headers=headers)).json()[
        "status"
    ] == "PENDING"
    assert len(await published(pipeline_worker, project["id"])) == 4  # two statuses, two lines
