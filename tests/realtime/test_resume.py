"""A client that reconnects with `since` gets exactly what it missed, in order, then the live stream."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest_asyncio
from redis.asyncio import Redis
from websockets.exceptions import ConnectionClosed

from core.events import EventBus, ProjectEvent, new_comment, project_stream
from core.relay import parse_event_id
from core.settings import Settings
from tests.builders import make_box, make_project, register
from tests.realtime.conftest import LiveServer, next_json, open_socket, token_of


@pytest_asyncio.fixture(loop_scope="session")
async def bus(settings: Settings) -> AsyncIterator[EventBus]:
    events = EventBus(settings.redis_url)
    yield events
    await events.disconnect()


def numbered(project_id: int, box_id: int, n: int) -> ProjectEvent:
    return new_comment(
        project_id=project_id,
        comment_id=n,
        box_id=box_id,
        asset_id=None,
        author_name="Ann",
        text=f"note {n}",
        created_at=datetime.now(UTC),
        via_link=False,
    )


async def test_resume_replays_exactly_the_missed_events_then_goes_live(
    live: LiveServer, http: httpx.AsyncClient, bus: EventBus
) -> None:
    headers = await register(http)
    project = await make_project(http, headers)
    box = await make_box(http, headers, project["id"])
    url = live.ws_url(f"/ws/projects/{project['id']}/?token={token_of(headers)}")

    ws = await open_socket(url)
    first = await next_json(ws)
    assert first["data"]["last_event_id"] is None  # nothing was ever published for this project
    seen = [await bus.publish(numbered(project["id"], box["id"], n)) for n in range(3)]
    received = [await next_json(ws) for _ in range(3)]
    assert [e["id"] for e in received] == seen
    keys = [parse_event_id(i or "") for i in seen]
    assert keys == sorted(keys) and len(set(keys)) == 3  # ids increase
    await ws.close()

    missed = [await bus.publish(numbered(project["id"], box["id"], n)) for n in range(3, 8)]

    ws = await open_socket(f"{url}&since={seen[-1]}")
    snapshot = await next_json(ws)
    assert snapshot["type"] == "snapshot"
    assert snapshot["data"]["last_event_id"] == seen[-1]
    assert snapshot["data"]["resume"] == {"since": seen[-1], "complete": True, "replayed": 5}
    replayed = [await next_json(ws) for _ in range(5)]
    assert [e["id"] for e in replayed] == missed
    assert [e["data"]["text"] for e in replayed] == [f"note {n}" for n in range(3, 8)]

    live_id = await bus.publish(numbered(project["id"], box["id"], 8))
    assert (await next_json(ws))["id"] == live_id  # the next one is live, nothing repeated
    await ws.close()


async def test_resume_from_the_newest_id_replays_nothing(
    live: LiveServer, http: httpx.AsyncClient, bus: EventBus
) -> None:
    headers = await register(http)
    project = await make_project(http, headers)
    box = await make_box(http, headers, project["id"])
    last = await bus.publish(numbered(project["id"], box["id"], 0))
    ws = await open_socket(
        live.ws_url(f"/ws/projects/{project['id']}/?token={token_of(headers)}&since={last}")
    )
    snapshot = await next_json(ws)
    assert snapshot["data"]["resume"] == {"since": last, "complete": True, "replayed": 0}
    after = await bus.publish(numbered(project["id"], box["id"], 1))
    assert (await next_json(ws))["id"] == after
    await ws.close()


async def test_resume_says_when_events_were_trimmed_away(
    live: LiveServer, http: httpx.AsyncClient, bus: EventBus, redis: Redis
) -> None:
    headers = await register(http)
    project = await make_project(http, headers)
    box = await make_box(http, headers, project["id"])
    ids = [await bus.publish(numbered(project["id"], box["id"], n)) for n in range(3)]
    await redis.xtrim(project_stream(project["id"]), maxlen=1, approximate=False)  # the second one is gone
    ws = await open_socket(
        live.ws_url(f"/ws/projects/{project['id']}/?token={token_of(headers)}&since={ids[0]}")
    )
    snapshot = await next_json(ws)
    assert snapshot["data"]["resume"] == {"since": ids[0], "complete": False, "replayed": 1}
    assert (await next_json(ws))["id"] == ids[2]
    await ws.close()


async def test_reconnecting_while_events_keep_coming_loses_and_repeats_nothing(
    live: LiveServer, http: httpx.AsyncClient, bus: EventBus
) -> None:
    headers = await register(http)
    project = await make_project(http, headers)
    box = await make_box(http, headers, project["id"])
    base = live.ws_url(f"/ws/projects/{project['id']}/?token={token_of(headers)}")
    total = 150

    ws = await open_socket(base)
    last_id = (await next_json(ws))["data"]["last_event_id"]

    async def publish_all() -> None:
        for n in range(total):
            await bus.publish(numbered(project["id"], box["id"], n))
            await asyncio.sleep(0.003)

    publisher = asyncio.create_task(publish_all())
    got: list[int] = []
    connections = 1
    while len(got) < total:
        try:
            message = json.loads(await asyncio.wait_for(ws.recv(), 15))
        except ConnectionClosed:
            message = {"type": "closed"}
        if message["type"] == "new_comment":
            got.append(message["data"]["comment_id"])
            last_id = message["id"]
        # Drop the connection every 20 events and come back from the last id seen.
        if message["type"] == "closed" or (message["type"] == "new_comment" and len(got) % 20 == 0):
            await ws.close()
            ws = await open_socket(f"{base}&since={last_id}" if last_id else base)
            connections += 1
            snapshot = await next_json(ws)
            assert snapshot["type"] == "snapshot"
            assert snapshot["data"]["resume"] is None or snapshot["data"]["resume"]["complete"] is True
    await publisher
    await ws.close()
    assert connections >= 7
    assert got == list(range(total))
