"""Provider callbacks cannot hurt a job: forged, oversized or foreign callbacks never reach the workflow (its
history stays short) and the generation completes; in production without an HMAC key callbacks are off."""

from __future__ import annotations

import asyncio
import json
import uuid

import httpx
from sqlmodel import select
from temporalio.api.enums.v1 import EventType

from core.kie import kie_callback_url
from core.models import Asset
from core.settings import Environment, Settings
from tests.builders import app_client, make_box, make_project, register
from tests.pipeline.fixtures import wait_for_asset
from worker.deps import WorkerDeps


async def recorded_task_id(sessionmaker, asset_id: int) -> str:
    for _ in range(200):
        async with sessionmaker() as session:
            task_id = (await session.exec(select(Asset.provider_task_id).where(Asset.id == asset_id))).one()
        if task_id:
            return task_id
        await asyncio.sleep(0.05)
    raise AssertionError(f"asset {asset_id} never recorded its Kie.ai task")


def callback(task_id: str, state: str = "success", padding: int = 0) -> bytes:
    body = {"code": 200, "msg": "ok", "data": {"taskId": task_id, "state": state, "note": "x" * padding}}
    return json.dumps(body).encode()


async def test_sixty_forged_callbacks_leave_the_history_short_and_the_job_completing(
    pipeline_client: httpx.AsyncClient,
    pipeline_worker: WorkerDeps,
    pipeline_settings: Settings,
    sessionmaker,
) -> None:
    headers = await register(pipeline_client)
    project = await make_project(pipeline_client, headers)
    box = await make_box(pipeline_client, headers, project["id"])
    accepted = await pipeline_client.post(
        f"/api/boxes/{box['id']}/generate/",
        json={
            "model": "google/nano-banana",
            "prompt": f"a harbour at dawn {uuid.uuid4().hex[:6]} [sim:steps=2]",
        },
        headers=headers,
    )
    assert accepted.status_code == 202, accepted.text
    asset_id = accepted.json()["asset_id"]
    real_task = await recorded_task_id(sessionmaker, asset_id)
    url = f"/api/providers/kie/callback/{asset_id}/"

    # Without an HMAC key (any environment but production) anyone may post a callback: the worst case.
    unsigned = pipeline_settings.model_copy(update={"kie_webhook_hmac_key": None})
    async with app_client(unsigned) as anyone:
        answers = await asyncio.gather(
            # a task id the workflow never submitted, with a state of 40 KB it once relayed into the history
            *(anyone.post(url, content=callback(uuid.uuid4().hex, state="s" * 40_000)) for _ in range(30)),
            # over the body limit
            *(anyone.post(url, content=callback(real_task, padding=64 * 1024)) for _ in range(15)),
            # a task id no provider would send
            *(anyone.post(url, content=callback("t" * 400)) for _ in range(15)),
        )
    statuses = [answer.status_code for answer in answers]
    assert statuses == [200] * 30 + [413] * 15 + [422] * 15, statuses
    assert {answer.json()["status"] for answer in answers[:30]} == {"ignored"}
    assert "larger than 64 KiB" in answers[30].json()["detail"]

    asset = await wait_for_asset(pipeline_client, headers, asset_id)
    assert asset["status"] == "COMPLETED", asset
    history = await pipeline_worker.temporal.get_workflow_handle(f"asset-{asset_id}").fetch_history()
    signals = [e for e in history.events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED]
    # At most the simulator's own (signed, genuine) callback.
    assert len(signals) <= 1, [e.workflow_execution_signaled_event_attributes for e in signals]
    assert sum(e.ByteSize() for e in history.events) < 64 * 1024


async def test_in_production_without_an_hmac_key_callbacks_are_off(settings: Settings) -> None:
    production = settings.model_copy(
        update={"environment": Environment.PRODUCTION, "kie_webhook_hmac_key": None}
    )
    assert kie_callback_url(production, 7) is None  # no callBackUrl is sent to Kie.ai
    async with app_client(production) as client:
        answer = await client.post("/api/providers/kie/callback/7/", content=callback(uuid.uuid4().hex))
    assert answer.status_code == 403, answer.text
    assert "turned off" in answer.json()["detail"] and "polling" in answer.json()["detail"]
