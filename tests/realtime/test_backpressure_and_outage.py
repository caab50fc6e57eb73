"""A client that stops reading is cut off; Redis going away closes sockets with "try again" but not the REST API."""

from __future__ import annotations

import asyncio
import base64
import os
import socket
from datetime import UTC, datetime
from pathlib import Path

import httpx
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from core.events import EventBus, new_comment, project_stream
from core.settings import Settings
from devstack.services import free_port, start_redis
from tests.builders import make_asset, make_box, make_project, register
from tests.realtime.conftest import (
    LiveServer,
    closed_with,
    next_json,
    numsub,
    open_socket,
    start_live_server,
    token_of,
)

TRY_AGAIN_LATER = 1013


def stalled_client(port: int, path: str) -> socket.socket:
    """Open a WebSocket by hand with a tiny receive buffer, and then never read from it."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


async def test_a_client_that_stops_reading_is_disconnected(
    live: LiveServer, http: httpx.AsyncClient, redis: Redis, settings: Settings
) -> None:
    headers = await register(http)
    project = await make_project(http, headers)
    box = await make_box(http, headers, project["id"])
    bus = EventBus(settings.redis_url)
    before = live.relay.stats.slow_disconnects
    sock = stalled_client(live.port, f"/ws/projects/{project['id']}/?token={token_of(headers)}")
    try:
        for _ in range(200):
            if live.relay.local_subscribers(project["id"]) == 1:
                break
            await asyncio.sleep(0.05)
        assert live.relay.local_subscribers(project["id"]) == 1
        big = "x" * 64_000
        published = 0
        # Kernel buffers absorb a few MB; after that events pile up in the socket's bounded queue until it is cut.
        while live.relay.stats.slow_disconnects == before and published < 2000:
            await bus.publish(
                new_comment(
                    project_id=project["id"],
                    comment_id=published,
                    box_id=box["id"],
                    asset_id=None,
                    author_name="Flood",
                    text=big,
                    created_at=datetime.now(UTC),
                    via_link=False,
                )
            )
            published += 1
            if published % 50 == 0:
                await asyncio.sleep(0.1)
        assert live.relay.stats.slow_disconnects == before + 1
        for _ in range(200):
            if live.relay.local_subscribers(project["id"]) == 0 and await numsub(redis, project["id"]) == 0:
                break
            await asyncio.sleep(0.05)
        assert live.relay.local_subscribers(project["id"]) == 0
        assert await numsub(redis, project["id"]) == 0
    finally:
        sock.close()
        await redis.delete(project_stream(project["id"]))
        await bus.disconnect()


async def test_redis_outage_closes_sockets_with_try_again_and_they_resume_when_it_is_back(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    # Our own Redis (stopping the session's would break every other test) and our own API server using it.
    port = free_port()
    redis_service = start_redis(tmp_path / "redis", port, tmp_path / "redis.log")
    own = settings.model_copy(update={"redis_url": redis_service.url})
    server = start_live_server(own)
    bus = EventBus(own.redis_url)
    try:
        async with httpx.AsyncClient(base_url=server.http_url, timeout=15) as http:
            headers = await register(http)
            project = await make_project(http, headers)
            box = await make_box(http, headers, project["id"])
            asset = await make_asset(sessionmaker, box["id"])
            url = server.ws_url(f"/ws/projects/{project['id']}/?token={token_of(headers)}")

            ws = await open_socket(url)
            assert (await next_json(ws))["type"] == "snapshot"
            first = await bus.publish(
                new_comment(
                    project_id=project["id"],
                    comment_id=1,
                    box_id=box["id"],
                    asset_id=None,
                    author_name="Ann",
                    text="before",
                    created_at=datetime.now(UTC),
                    via_link=False,
                )
            )
            assert (await next_json(ws))["id"] == first

            redis_service.stop()
            code, reason, _ = await closed_with(ws)
            assert code == TRY_AGAIN_LATER, (code, reason)

            # REST keeps answering, including a route that publishes an event.
            listed = await http.get("/api/projects/", headers=headers)
            assert listed.status_code == 200
            patched = await http.patch(
                f"/api/boxes/{box['id']}/", json={"headliner_id": asset.id}, headers=headers
            )
            assert patched.status_code == 200, patched.text
            # A socket opened now is told to try again.
            code, _, messages = await closed_with(await open_socket(url))
            assert (code, [m["type"] for m in messages]) == (TRY_AGAIN_LATER, [])

            redis_service = start_redis(tmp_path / "redis", port, tmp_path / "redis.log")
            second = None
            for _ in range(50):  # the publisher's connection recovers on its own
                second = await bus.publish(
                    new_comment(
                        project_id=project["id"],
                        comment_id=2,
                        box_id=box["id"],
                        asset_id=None,
                        author_name="Ann",
                        text="after",
                        created_at=datetime.now(UTC),
                        via_link=False,
                    )
                )
                if second is not None:
                    break
                await asyncio.sleep(0.1)
            assert second is not None

            # The client reconnects and resumes from the last id it saw.
            ws = await open_socket(f"{url}&since={first}")
            snapshot = await next_json(ws)
            assert snapshot["type"] == "snapshot"
            assert snapshot["data"]["resume"]["replayed"] == 1
            replayed = await next_json(ws)
            assert (replayed["id"], replayed["data"]["text"]) == (second, "after")
            third = await bus.publish(
                new_comment(
                    project_id=project["id"],
                    comment_id=3,
                    box_id=box["id"],
                    asset_id=None,
                    author_name="Ann",
                    text="live again",
                    created_at=datetime.now(UTC),
                    via_link=False,
                )
            )
            assert (await next_json(ws))["id"] == third
            await ws.close()
            assert server.relay.stats.redis_losses == 1
    finally:
        await bus.disconnect()
        server.stop()
        redis_service.stop()
