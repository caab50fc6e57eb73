"""Live updates keep working after the API has been idle past the Redis health-check interval.

Redis-py PINGs a connection that has been idle longer than the interval before it uses it again. The relay's
pub/sub connection must do that (and everything else) from one task: a second coroutine reading the same
connection breaks it for every socket of the process. The interval is shortened to one second through settings.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import httpx
import pytest
import pytest_asyncio
from redis.asyncio import Redis
from websockets.asyncio.client import ClientConnection

from core.events import EventBus, new_comment, project_stream
from core.settings import Settings
from tests.builders import make_project, register
from tests.realtime.conftest import LiveServer, next_json, numsub, open_socket, start_live_server, token_of

HEALTH_CHECK_SECONDS = 1.0
IDLE_SECONDS = 1.5
"""Longer than the health-check interval: the next use of an idle connection starts with a PING."""


@pytest.fixture(scope="module")
def idle_live(settings: Settings) -> Iterator[LiveServer]:
    """An API server of its own, so no other test's sockets keep its relay busy."""
    server = start_live_server(
        settings.model_copy(update={"redis_health_check_seconds": HEALTH_CHECK_SECONDS})
    )
    yield server
    server.stop()


@pytest_asyncio.fixture(loop_scope="session")
async def idle_http(idle_live: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=idle_live.http_url, timeout=15) as client:
        yield client


@pytest_asyncio.fixture(loop_scope="session")
async def bus(settings: Settings) -> AsyncIterator[EventBus]:
    events = EventBus(settings.redis_url, health_check_interval=HEALTH_CHECK_SECONDS)
    yield events
    await events.disconnect()


async def publish_comment(bus: EventBus, project_id: int, text: str) -> str:
    event_id = await bus.publish(
        new_comment(
            project_id=project_id,
            comment_id=1,
            box_id=1,
            asset_id=None,
            author_name="Ann",
            text=text,
            created_at=datetime.now(UTC),
            via_link=False,
        )
    )
    assert event_id is not None
    return event_id


async def join(live: LiveServer, headers: dict[str, str], project_id: int) -> ClientConnection:
    """Open a project socket and read its snapshot (the relay's subscription is confirmed by then)."""
    ws = await open_socket(live.ws_url(f"/ws/projects/{project_id}/?token={token_of(headers)}"))
    snapshot = await next_json(ws)
    assert snapshot["type"] == "snapshot", snapshot
    return ws


async def leave(ws: ClientConnection) -> None:
    assert ws.protocol.close_rcvd is None, f"the server closed the socket: {ws.protocol.close_rcvd}"
    await ws.close()


async def until_unsubscribed(live: LiveServer, redis: Redis, project_ids: list[int]) -> None:
    for _ in range(200):
        local = sum(live.relay.local_subscribers(pid) for pid in project_ids)
        remote = [await numsub(redis, pid) for pid in project_ids]
        if local == 0 and not any(remote):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the relay did not unsubscribe after the last socket left")


async def test_a_socket_opened_after_an_idle_period_gets_events(
    idle_live: LiveServer, idle_http: httpx.AsyncClient, redis: Redis, bus: EventBus
) -> None:
    headers = await register(idle_http)
    project = await make_project(idle_http, headers)
    losses = idle_live.relay.stats.redis_losses

    await leave(await join(idle_live, headers, project["id"]))
    await until_unsubscribed(idle_live, redis, [project["id"]])
    await asyncio.sleep(IDLE_SECONDS)  # the relay now holds no project channel and its connection is idle

    ws = await join(idle_live, headers, project["id"])
    event_id = await publish_comment(bus, project["id"], "after a pause")
    event = await next_json(ws)
    assert (event["id"], event["data"]["text"]) == (event_id, "after a pause")
    await leave(ws)
    assert idle_live.relay.stats.redis_losses == losses
    await redis.delete(project_stream(project["id"]))


async def test_sockets_of_several_projects_join_and_leave_concurrently_after_idle_periods(
    idle_live: LiveServer, idle_http: httpx.AsyncClient, redis: Redis, bus: EventBus
) -> None:
    headers = await register(idle_http)
    project_ids = [(await make_project(idle_http, headers, name=f"Film {n}"))["id"] for n in range(3)]
    losses = idle_live.relay.stats.redis_losses
    shuffle = random.Random(10)
    sockets: dict[int, list[ClientConnection]] = {pid: [] for pid in project_ids}

    for round_no in range(4):
        await asyncio.sleep(IDLE_SECONDS)
        # Some sockets leave while new ones join, for every project at once.
        leaving = [ws for pid in project_ids for ws in sockets[pid][: len(sockets[pid]) // 2]]
        for pid in project_ids:
            sockets[pid] = sockets[pid][len(sockets[pid]) // 2 :]
        joining = [pid for pid in project_ids for _ in range(3)]
        shuffle.shuffle(joining)
        results = await asyncio.gather(
            *(leave(ws) for ws in leaving), *(join(idle_live, headers, pid) for pid in joining)
        )
        for pid, ws in zip(joining, results[len(leaving) :], strict=True):
            assert isinstance(ws, ClientConnection)
            sockets[pid].append(ws)

        ids = {pid: await publish_comment(bus, pid, f"round {round_no}") for pid in project_ids}
        for pid, open_sockets in sockets.items():
            for ws in open_sockets:
                event = await next_json(ws)
                assert (event["id"], event["data"]["text"]) == (ids[pid], f"round {round_no}")

        if round_no % 2 == 1:
            # Every socket leaves: the relay idles with no project channel before the next round joins.
            await asyncio.gather(*(leave(ws) for pid in project_ids for ws in sockets[pid]))
            sockets = {pid: [] for pid in project_ids}
            await until_unsubscribed(idle_live, redis, project_ids)

    assert idle_live.relay.stats.redis_losses == losses
    for pid in project_ids:
        await redis.delete(project_stream(pid))


async def test_a_socket_held_open_across_several_health_checks_still_gets_events(
    idle_live: LiveServer, idle_http: httpx.AsyncClient, redis: Redis, bus: EventBus
) -> None:
    headers = await register(idle_http)
    project = await make_project(idle_http, headers)
    losses = idle_live.relay.stats.redis_losses
    ws = await join(idle_live, headers, project["id"])

    await asyncio.sleep(3.5 * HEALTH_CHECK_SECONDS)

    event_id = await publish_comment(bus, project["id"], "still here")
    event = await next_json(ws)
    assert (event["id"], event["data"]["text"]) == (event_id, "still here")
    await leave(ws)
    assert idle_live.relay.stats.redis_losses == losses
    await redis.delete(project_stream(project["id"]))
