"""Input images (edit, animate from an upload) reach Kie.ai as presigned S3 URLs; callbacks are checked."""

from __future__ import annotations

import asyncio
import io
import json
import os
import time
import uuid

import httpx
from PIL import Image

from core.kie import KieClient
from core.storage import Storage
from kie_simulator.app import sign_callback
from tests.builders import make_box, make_project, png_bytes, register
from tests.pipeline.fixtures import SimulatorProcess, wait_for_asset
from worker.deps import WorkerDeps


async def test_edit_with_an_uploaded_image_then_animate_the_upload(
    pipeline_client: httpx.AsyncClient,
    pipeline_worker: WorkerDeps,
    kie_simulator: SimulatorProcess,
    storage: Storage,
) -> None:
    headers = await register(pipeline_client)
    project = await make_project(pipeline_client, headers)
    box = await make_box(pipeline_client, headers, project["id"])
    upload = await pipeline_client.post(
        f"/api/boxes/{box['id']}/upload/",
        files={"file": ("ref.png", png_bytes((320, 240), "navy"), "image/png")},
        headers=headers,
    )
    assert upload.status_code == 201, upload.text
    uploaded = upload.json()

    prompt = f"make the sky orange {uploaded['id']}"
    response = await pipeline_client.post(
        f"/api/boxes/{box['id']}/generate/",
        json={"model": "google/nano-banana-edit", "prompt": prompt, "input_asset_ids": [uploaded["id"]]},
        headers=headers,
    )
    assert response.status_code == 202, response.text
    edited = await wait_for_asset(pipeline_client, headers, response.json()["asset_id"])
    assert edited["status"] == "COMPLETED", edited
    assert edited["input_asset_ids"] == [uploaded["id"]]
    (task,) = kie_simulator.tasks(prompt_contains=prompt)
    assert task["model"] == "google/nano-banana-edit"
    assert f"assets/{uploaded['id']}/original.png" in task["input"]["image_urls"][0]

    response = await pipeline_client.post(
        f"/api/assets/{uploaded['id']}/animate/",
        json={
            "prompt": "slow push in",
            "params": {"duration": 4, "resolution": "480p", "generate_audio": True},
        },
        headers=headers,
    )
    video = await wait_for_asset(pipeline_client, headers, response.json()["asset_id"])
    assert video["status"] == "COMPLETED", video
    assert video["source_asset_id"] == uploaded["id"] and video["cost_credits"] == 14.0


async def test_an_input_image_kie_cannot_download_fails_readably(
    pipeline_client: httpx.AsyncClient, pipeline_worker: WorkerDeps, storage: Storage
) -> None:
    headers = await register(pipeline_client)
    project = await make_project(pipeline_client, headers)
    box = await make_box(pipeline_client, headers, project["id"])
    upload = await pipeline_client.post(
        f"/api/boxes/{box['id']}/upload/",
        files={"file": ("ref.png", png_bytes(), "image/png")},
        headers=headers,
    )
    uploaded = upload.json()
    storage.delete_keys([f"assets/{uploaded['id']}/original.png"])  # the presigned URL will answer 404
    response = await pipeline_client.post(
        f"/api/boxes/{box['id']}/generate/",
        json={"model": "google/nano-banana-edit", "prompt": "add a hat", "input_asset_ids": [uploaded["id"]]},
        headers=headers,
    )
    asset = await wait_for_asset(pipeline_client, headers, response.json()["asset_id"])
    assert asset["status"] == "FAILED"
    assert "Could not download input image 1: HTTP 404" in asset["error_message"]


async def test_the_simulator_refuses_an_input_image_over_10_mb_as_kie_does(
    kie_simulator: SimulatorProcess, storage: Storage
) -> None:
    key = f"tests/oversized-{uuid.uuid4().hex}.png"
    storage.put_bytes(key, os.urandom(10 * 1024 * 1024 + 1), "image/png")
    kie = KieClient(kie_simulator.url, kie_simulator.api_key, timeout=10)
    try:
        task_id = await kie.create_task(
            "google/nano-banana-edit", {"prompt": "add a hat", "image_urls": [storage.presigned_get_url(key)]}
        )
        async with asyncio.timeout(30):
            while not (task := await kie.record_info(task_id)).is_terminal:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
    finally:
        await kie.aclose()
        storage.delete_keys([key])
    assert task.state == "fail" and task.fail_code == "400"
    assert "Input image 1 is larger than 10 MB" in task.fail_msg


async def test_an_upload_over_kies_input_limit_can_be_edited_and_animated(
    pipeline_client: httpx.AsyncClient,
    pipeline_worker: WorkerDeps,
    kie_simulator: SimulatorProcess,
    storage: Storage,
) -> None:
    headers = await register(pipeline_client)
    project = await make_project(pipeline_client, headers)
    box = await make_box(pipeline_client, headers, project["id"])
    buffer = io.BytesIO()
    Image.frombytes("RGB", (2000, 2000), os.urandom(2000 * 2000 * 3)).save(buffer, format="PNG")
    assert len(buffer.getvalue()) > 12_000_000  # over Kie.ai's 10 MB, under our 20 MB upload limit
    upload = await pipeline_client.post(
        f"/api/boxes/{box['id']}/upload/",
        files={"file": ("scan.png", buffer.getvalue(), "image/png")},
        headers=headers,
    )
    assert upload.status_code == 201, upload.text
    uploaded = upload.json()

    prompt = f"add a lighthouse {uploaded['id']}"
    response = await pipeline_client.post(
        f"/api/boxes/{box['id']}/generate/",
        json={"model": "google/nano-banana-edit", "prompt": prompt, "input_asset_ids": [uploaded["id"]]},
        headers=headers,
    )
    assert response.status_code == 202, response.text
    edited = await wait_for_asset(pipeline_client, headers, response.json()["asset_id"])
    assert edited["status"] == "COMPLETED", edited
    (task,) = kie_simulator.tasks(prompt_contains=prompt)
    assert f"assets/{uploaded['id']}/original.jpg" in task["input"]["image_urls"][0]

    prompt = f"slow pan across {uploaded['id']}"
    response = await pipeline_client.post(
        f"/api/assets/{uploaded['id']}/animate/",
        json={"prompt": prompt, "params": {"duration": 4, "resolution": "480p"}},
        headers=headers,
    )
    assert response.status_code == 202, response.text
    video = await wait_for_asset(pipeline_client, headers, response.json()["asset_id"])
    assert video["status"] == "COMPLETED", video
    (task,) = kie_simulator.tasks(prompt_contains=prompt)
    assert task["state"] == "success" and len(task["input"]["input_urls"]) == 1


def signed(key: str, task_id: str) -> dict[str, str]:
    timestamp = str(int(time.time()))
    return {
        "X-Webhook-Timestamp": timestamp,
        "X-Webhook-Signature": sign_callback(key, task_id, timestamp),
    }


async def test_callbacks_are_verified_and_never_fail_for_unknown_assets(
    pipeline_client: httpx.AsyncClient, kie_simulator: SimulatorProcess
) -> None:
    url = "/api/providers/kie/callback/987654321/"
    body = {"code": 200, "msg": "ok", "data": {"taskId": "ab" * 16, "state": "success"}}
    raw = json.dumps(body)
    unsigned = await pipeline_client.post(url, content=raw)
    assert unsigned.status_code == 401
    forged = await pipeline_client.post(url, content=raw, headers=signed("not-the-key", "ab" * 16))
    assert forged.status_code == 401
    other_task = await pipeline_client.post(
        url, content=raw, headers=signed(kie_simulator.hmac_key, "cd" * 16)
    )
    assert other_task.status_code == 401
    good = await pipeline_client.post(url, content=raw, headers=signed(kie_simulator.hmac_key, "ab" * 16))
    assert good.status_code == 200 and good.json() == {"status": "ignored"}  # no workflow for that asset
    assert (await pipeline_client.post(url, content=b"{not json")).status_code == 422
    assert (await pipeline_client.post(url, content=json.dumps({"data": {}}))).status_code == 422
    assert (await pipeline_client.post("/api/providers/kie/callback/0/", content=raw)).status_code == 422
