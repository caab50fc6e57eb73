"""A generation's outcome in the project's feed: the worker writes "generated" or "failed" where it records the final
status, names the member who asked for it, and publishes the line right after the status."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
from redis.asyncio import Redis

from core.events import project_channel
from tests.builders import make_box, make_project, register
from tests.pipeline.fixtures import wait_for_asset
from worker.deps import WorkerDeps


async def generate(
    client: httpx.AsyncClient, headers: dict[str, str], box_id: int, prompt: str
) -> dict[str, Any]:
    response = await client.post(
        f"/api/boxes/{box_id}/generate/",
        json={"model": "google/nano-banana", "prompt": prompt},
        headers=headers,
    )
    assert response.status_code == 202, response.text
    return await wait_for_asset(client, headers, response.json()["asset_id"])


async def test_the_worker_records_and_publishes_who_generated_what(
    pipeline_client: httpx.AsyncClient, pipeline_worker: WorkerDeps
) -> None:
    ana = await register(pipeline_client, display_name="Ana")
    ana_id = (await pipeline_client.get("/api/auth/me/", headers=ana)).json()["id"]
    project = await make_project(pipeline_client, ana)
    box = await make_box(pipeline_client, ana, project["id"], code="SH010", title="Opening")
    redis = Redis.from_url(pipeline_worker.settings.redis_url)
    pubsub = redis.pubsub()
    await pubsub.subscribe(project_channel(project["id"]))
    received: list[dict[str, Any]] = []
    try:
        await pubsub.get_message(timeout=1)  # the subscribe confirmation
        made = await generate(pipeline_client, ana, box["id"], "a lantern on a pier at dusk")
        failed = await generate(pipeline_client, ana, box["id"], "a lantern [sim:fail=The GPU caught fire]")
        async with asyncio.timeout(20):
            while sum(m["type"] == "activity" for m in received) < 2:
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1)
                if message is not None:
                    received.append(json.loads(message["data"]))
    finally:
        await pubsub.unsubscribe()
        await pubsub.aclose()
        await redis.aclose()
    assert (made["status"], failed["status"]) == ("COMPLETED", "FAILED")
    assert made["requested_by_name"] == failed["requested_by_name"] == "Ana"

    feed = (await pipeline_client.get(f"/api/projects/{project['id']}/activity/", headers=ana)).json()
    assert [(i["kind"], i["asset_id"], i["summary"]) for i in feed["items"]] == [
        ("failed", failed["id"], "Ana's image for SH010 · Opening failed"),
        ("generated", made["id"], "Ana generated an image for SH010 · Opening"),
    ]
    assert all(i["actor_user_id"] == ana_id and i["box_id"] == box["id"] for i in feed["items"])
    assert feed["items"][1]["details"] == {"code": "SH010", "title": "Opening", "kind": "image"}

    # Each line goes out right after the final status it belongs to, exactly as the feed lists it.
    statuses = [(m["type"], m["data"].get("status") or m["data"].get("kind")) for m in received]
    assert (
        statuses.index(("activity", "generated")) == statuses.index(("asset_status_changed", "COMPLETED")) + 1
    )
    assert statuses.index(("activity", "failed")) == statuses.index(("asset_status_changed", "FAILED")) + 1
    published = [m["data"] for m in received if m["type"] == "activity"]
    assert published == feed["items"][::-1]
