"""A generation as a user sees it: POST, the asset goes PENDING → RUNNING → COMPLETED, files land in S3."""

from __future__ import annotations

import asyncio
import io
import json
from datetime import datetime

import av
import httpx
from PIL import Image

from core.events import parse_event, project_channel
from core.storage import Storage, asset_file_key, asset_thumbnail_key
from tests.builders import make_box, make_project, register
from tests.pipeline.fixtures import SimulatorProcess, wait_for_asset
from worker.deps import WorkerDeps


async def new_box(client: httpx.AsyncClient) -> tuple[dict[str, str], dict, dict]:
    headers = await register(client)
    project = await make_project(client, headers)
    box = await make_box(client, headers, project["id"])
    return headers, project, box


async def test_generate_completes_with_png_and_thumbnail_in_s3(
    pipeline_client: httpx.AsyncClient,
    pipeline_worker: WorkerDeps,
    storage: Storage,
    kie_simulator: SimulatorProcess,
) -> None:
    headers, project, box = await new_box(pipeline_client)
    events: list[dict] = []
    redis_events = pipeline_worker.events

    prompt = "a lighthouse in a storm, wide shot"
    response = await pipeline_client.post(
        f"/api/boxes/{box['id']}/generate/",
        json={"model": "google/nano-banana", "prompt": prompt, "params": {"aspect_ratio": "16:9"}},
        headers=headers,
    )
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert accepted["status"] == "PENDING"
    assert accepted["workflow_ids"] == [f"asset-{accepted['asset_id']}"]

    asset = await wait_for_asset(pipeline_client, headers, accepted["asset_id"])
    assert asset["status"] == "COMPLETED", asset
    assert asset["error_message"] is None
    assert asset["mime_type"] == "image/png"
    assert (asset["width"], asset["height"]) == (512, 288)
    assert asset["cost_credits"] == 4.0
    assert asset["params"] == {"aspect_ratio": "16:9", "output_format": "png"}
    assert asset["batch_id"] is not None
    assert datetime.fromisoformat(asset["finished_at"]) >= datetime.fromisoformat(asset["created_at"])

    original = storage.get_bytes(asset_file_key(asset["id"], "png"))
    assert len(original) == asset["size_bytes"]
    assert Image.open(io.BytesIO(original)).format == "PNG"
    thumbnail = Image.open(io.BytesIO(storage.get_bytes(asset_thumbnail_key(asset["id"]))))
    assert thumbnail.format == "JPEG" and max(thumbnail.size) == 320
    # The presigned URLs the API hands out serve the same bytes.
    async with httpx.AsyncClient() as plain:
        assert (await plain.get(asset["file_url"])).content == original

    tasks = kie_simulator.tasks(prompt_contains=prompt)
    assert len(tasks) == 1
    assert tasks[0]["callbackStatus"] == 200  # the signed callback reached the API and was accepted
    assert tasks[0]["input"] == {"prompt": prompt, "aspect_ratio": "16:9", "output_format": "png"}
    del events, redis_events, project


async def test_status_changes_are_published_to_the_project_channel(
    pipeline_client: httpx.AsyncClient, pipeline_worker: WorkerDeps
) -> None:
    headers, project, box = await new_box(pipeline_client)
    redis = pipeline_worker.events
    received: list[dict] = []
    from redis.asyncio import Redis

    client = Redis.from_url(pipeline_worker.settings.redis_url)
    pubsub = client.pubsub()
    await pubsub.subscribe(project_channel(project["id"]))
    try:
        response = await pipeline_client.post(
            f"/api/boxes/{box['id']}/generate/",
            json={"model": "google/nano-banana", "prompt": "a quiet harbour at dusk"},
            headers=headers,
        )
        asset_id = response.json()["asset_id"]
        await wait_for_asset(pipeline_client, headers, asset_id)
        async with asyncio.timeout(10):
            while len(received) < 3:
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1)
                if message is not None:
                    received.append(json.loads(message["data"]))
    finally:
        await pubsub.unsubscribe()
        await client.aclose()
    events = [parse_event(json.dumps(m)) for m in received]
    assert [e.data["status"] for e in events] == ["PENDING", "RUNNING", "COMPLETED"]
    assert all(e.type == "asset_status_changed" and e.data["asset_id"] == asset_id for e in events)
    assert events[2].data["thumbnail_url"] and events[2].data["file_url"]
    del redis


async def test_variants_make_one_asset_and_one_workflow_each(
    pipeline_client: httpx.AsyncClient, pipeline_worker: WorkerDeps, kie_simulator: SimulatorProcess
) -> None:
    headers, _, box = await new_box(pipeline_client)
    prompt = "three variants of a red kite over hills"
    response = await pipeline_client.post(
        f"/api/boxes/{box['id']}/generate/",
        json={"model": "google/nano-banana", "prompt": prompt, "count": 3},
        headers=headers,
    )
    assert response.status_code == 202, response.text
    ids = response.json()["asset_ids"]
    assert len(set(ids)) == 3
    assets = [await wait_for_asset(pipeline_client, headers, i) for i in ids]
    assert [a["status"] for a in assets] == ["COMPLETED"] * 3
    assert len(kie_simulator.tasks(prompt_contains=prompt)) == 3


async def test_animate_makes_a_real_mp4_from_the_image(
    pipeline_client: httpx.AsyncClient,
    pipeline_worker: WorkerDeps,
    storage: Storage,
    kie_simulator: SimulatorProcess,
) -> None:
    headers, _, box = await new_box(pipeline_client)
    response = await pipeline_client.post(
        f"/api/boxes/{box['id']}/generate/",
        json={
            "model": "google/nano-banana",
            "prompt": "a paper boat on a pond",
            "params": {"aspect_ratio": "16:9"},
        },
        headers=headers,
    )
    image = await wait_for_asset(pipeline_client, headers, response.json()["asset_id"])
    assert image["status"] == "COMPLETED"

    prompt = "the boat drifts slowly to the right"
    response = await pipeline_client.post(
        f"/api/assets/{image['id']}/animate/",
        json={"prompt": prompt, "params": {"duration": 4, "resolution": "480p", "aspect_ratio": "16:9"}},
        headers=headers,
    )
    assert response.status_code == 202, response.text
    video = await wait_for_asset(pipeline_client, headers, response.json()["asset_id"])
    assert video["status"] == "COMPLETED", video
    assert video["kind"] == "video" and video["source_asset_id"] == image["id"]
    assert video["box_id"] == box["id"]
    assert video["mime_type"] == "video/mp4"
    assert video["duration_seconds"] == 4.0
    assert video["cost_credits"] == 7.0  # 480p without audio: 1.75 credits a second

    data = storage.get_bytes(asset_file_key(video["id"], "mp4"))
    with av.open(io.BytesIO(data)) as container:
        assert container.streams.video[0].codec_context.name == "h264"
    assert storage.exists(asset_thumbnail_key(video["id"]))

    (task,) = kie_simulator.tasks(prompt_contains=prompt)
    (input_url,) = task["input"]["input_urls"]
    assert f"assets/{image['id']}/original.png" in input_url and "Signature" in input_url  # presigned S3 URL
