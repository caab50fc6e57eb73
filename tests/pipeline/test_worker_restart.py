"""Killing the worker in the middle of a generation and starting it again completes the asset exactly once."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid

import httpx
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from core import generation
from core.contract import AssetStatus
from core.models import Asset, Box, Project, User, utcnow
from core.settings import Settings
from core.spend import ProviderBalance, Spending
from core.storage import Storage
from core.temporal import connect_temporal
from tests.builders import make_box, make_project, register
from tests.pipeline.fixtures import ROOT, SimulatorProcess, pipeline_env, stop_process


def start_worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def read_asset(sessionmaker: async_sessionmaker[AsyncSession], asset_id: int) -> Asset:
    async with sessionmaker() as session:
        asset = await session.get(Asset, asset_id)
        assert asset is not None
        return asset


async def test_killing_the_worker_mid_generation_still_completes_once(
    pipeline_client: httpx.AsyncClient,
    pipeline_settings: Settings,
    settings_env: dict[str, str],
    sessionmaker: async_sessionmaker[AsyncSession],
    storage: Storage,
    kie_simulator: SimulatorProcess,
) -> None:
    headers = await register(pipeline_client)
    project = await make_project(pipeline_client, headers)
    box_json = await make_box(pipeline_client, headers, project["id"])
    queue = f"restart-{uuid.uuid4().hex[:8]}"
    settings = pipeline_settings.model_copy(update={"temporal_task_queue": queue})
    env = pipeline_env(settings_env, pipeline_settings, TEMPORAL_TASK_QUEUE=queue)
    temporal = await connect_temporal(settings)
    prompt = f"a slow sunrise over dunes {queue} [sim:steps=1.5]"

    worker = start_worker(env)
    try:
        async with sessionmaker() as session:
            box = await session.get(Box, box_json["id"])
            assert box is not None
            project_row = await session.get(Project, box.project_id)
            assert project_row is not None
            owner = await session.get(User, project_row.created_by_id)
            assert owner is not None
            balance = ProviderBalance(settings)
            try:
                accepted = await generation.generate(
                    session,
                    temporal,
                    settings,
                    box,
                    generation.GenerationCreate(model="google/nano-banana", prompt=prompt),
                    Spending(owner, balance, utcnow()),
                )
            finally:
                await balance.aclose()
        asset_id = accepted.asset_id
        async with asyncio.timeout(60):  # submitted: Kie.ai is working on it
            while (await read_asset(sessionmaker, asset_id)).provider_task_id is None:  # noqa: ASYNC110
                await asyncio.sleep(0.1)
        worker.kill()
        worker.wait(10)
        assert (await read_asset(sessionmaker, asset_id)).status is AssetStatus.RUNNING

        # Kie.ai finishes (and calls back) while no worker runs; the signal waits in the workflow's history.
        async with asyncio.timeout(60):
            while kie_simulator.tasks(prompt_contains=prompt)[0]["state"] != "success":  # noqa: ASYNC110
                await asyncio.sleep(0.2)
        worker = start_worker(env)
        async with asyncio.timeout(90):
            result = await temporal.get_workflow_handle(f"asset-{asset_id}").result()
        assert result["status"] == "COMPLETED"
    finally:
        stop_process(worker)

    asset = await read_asset(sessionmaker, asset_id)
    assert asset.status is AssetStatus.COMPLETED, asset.error_message
    assert len(kie_simulator.tasks(prompt_contains=prompt)) == 1
    assert asset.provider_task_id == kie_simulator.tasks(prompt_contains=prompt)[0]["taskId"]
    async with sessionmaker() as session:
        rows = (await session.exec(select(Asset.id).where(Asset.box_id == box_json["id"]))).all()
    assert rows == [asset_id]
    listed = storage._client.list_objects_v2(Bucket=storage.bucket, Prefix=f"assets/{asset_id}/")
    assert sorted(o["Key"] for o in listed.get("Contents", [])) == [
        f"assets/{asset_id}/original.png",
        f"assets/{asset_id}/thumbnail.jpg",
    ]
    # One run of one workflow: the restarted worker replayed history instead of starting over.
    history = await temporal.get_workflow_handle(f"asset-{asset_id}").fetch_history()
    submits = [
        e
        for e in history.events
        if e.HasField("activity_task_scheduled_event_attributes")
        and e.activity_task_scheduled_event_attributes.activity_type.name == "submit_kie_task"
    ]
    assert len(submits) == 1
