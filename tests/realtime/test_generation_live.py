"""End to end: a real generation (API → Temporal workflow → worker activities → Kie.ai simulator) is watched live
on a WebSocket of the API that started it, and a reconnecting client catches up on what it missed."""

from __future__ import annotations

from typing import Any

import httpx

from tests.builders import make_box, make_project, register
from tests.realtime.conftest import next_json, open_socket, token_of
from worker.deps import WorkerDeps


async def test_a_generation_is_watched_live_and_replayed_after_a_reconnect(
    pipeline_client: httpx.AsyncClient,
    pipeline_worker: WorkerDeps,
    pipeline_api_port: int,
) -> None:
    headers = await register(pipeline_client)
    project = await make_project(pipeline_client, headers)
    box = await make_box(pipeline_client, headers, project["id"])
    url = f"ws://127.0.0.1:{pipeline_api_port}/ws/projects/{project['id']}/?token={token_of(headers)}"

    ws = await open_socket(url)
    snapshot = await next_json(ws)
    assert snapshot["data"]["assets"] == []

    response = await pipeline_client.post(
        f"/api/boxes/{box['id']}/generate/",
        json={"model": "google/nano-banana", "prompt": "a lighthouse in fog, watched live"},
        headers=headers,
    )
    assert response.status_code == 202, response.text
    asset_id = response.json()["asset_id"]

    events: list[dict[str, Any]] = []
    while not events or events[-1]["data"]["status"] not in ("COMPLETED", "FAILED"):
        event = await next_json(ws)
        assert event["type"] == "asset_status_changed"
        assert event["data"]["asset_id"] == asset_id
        events.append(event)
    assert events[-1]["data"]["status"] == "COMPLETED"
    assert events[-1]["data"]["file_url"] and events[-1]["data"]["thumbnail_url"]
    assert "RUNNING" in [e["data"]["status"] for e in events]
    # Then the line the project's feed got for it (tests/pipeline/test_activity_pipeline.py).
    outcome = await next_json(ws)
    assert (outcome["type"], outcome["data"]["kind"], outcome["data"]["asset_id"]) == (
        "activity",
        "generated",
        asset_id,
    )
    events.append(outcome)
    await ws.close()

    # A client that saw only the first event catches up with exactly the rest.
    ws = await open_socket(f"{url}&since={events[0]['id']}")
    snapshot = await next_json(ws)
    assert snapshot["data"]["assets"] == []  # nothing is pending any more
    assert snapshot["data"]["resume"] == {
        "since": events[0]["id"],
        "complete": True,
        "replayed": len(events) - 1,
    }
    replayed = [await next_json(ws) for _ in range(len(events) - 1)]
    assert replayed == events[1:]
    await ws.close()
