"""A real Uvicorn server (in a thread) serving `api.main.create_app(settings)`, and real WebSocket clients."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
import uvicorn
from fastapi import FastAPI
from redis.asyncio import Redis
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from core.relay import EventRelay
from core.settings import Settings
from devstack.services import free_port

# The pipeline's live API, worker and Kie.ai simulator, for the end-to-end test with a real generation.
from tests.pipeline.fixtures import (  # noqa: F401
    kie_simulator,
    pipeline_api_port,
    pipeline_app,
    pipeline_client,
    pipeline_settings,
    pipeline_worker,
)

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 15.0


@dataclass
class LiveServer:
    app: FastAPI
    server: uvicorn.Server
    thread: threading.Thread
    port: int

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def ws_url(self, path: str) -> str:
        return f"ws://127.0.0.1:{self.port}{path}"

    @property
    def relay(self) -> EventRelay:
        relay: EventRelay = self.app.state.relay
        return relay

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(15)


def start_live_server(
    settings: Settings, ping_interval: float = 1.0, health_check_seconds: float = 1.0
) -> LiveServer:
    """Socket pings every second, and Redis health checks every second (so idle periods in tests exercise them)."""
    from api.main import create_app

    app = create_app(
        settings.model_copy(
            update={"redis_health_check_seconds": health_check_seconds, "socket_ping_seconds": ping_interval}
        )
    )
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, lifespan="on", log_level="warning", timeout_graceful_shutdown=3
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the live server did not start")
        time.sleep(0.05)
    return LiveServer(app=app, server=server, thread=thread, port=port)


@pytest.fixture(scope="session")
def live(settings: Settings) -> Iterator[LiveServer]:
    server = start_live_server(settings)
    yield server
    server.stop()


@pytest_asyncio.fixture(loop_scope="session")
async def http(live: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=live.http_url, timeout=TIMEOUT) as client:
        yield client


@pytest_asyncio.fixture(loop_scope="session")
async def redis(settings: Settings) -> AsyncIterator[Redis]:
    client = Redis.from_url(settings.redis_url)
    yield client
    await client.aclose()


def token_of(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


async def open_socket(url: str) -> ClientConnection:
    return await connect(url, open_timeout=TIMEOUT, max_size=2**24)


async def next_json(ws: ClientConnection, *, skip_pings: bool = True) -> dict[str, Any]:
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
        if not (skip_pings and message.get("type") == "ping"):
            return message  # type: ignore[no-any-return]


async def closed_with(ws: ClientConnection) -> tuple[int | None, str, list[dict[str, Any]]]:
    """Read until the server closes; return the close code, reason and every message that came before."""
    messages: list[dict[str, Any]] = []
    try:
        while True:
            messages.append(json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT)))
    except ConnectionClosed as exc:
        frame = exc.rcvd
        return (frame.code if frame else None), (frame.reason if frame else ""), messages


def publish_from_another_process(settings_env: dict[str, str], events: list[dict[str, Any]]) -> list[str]:
    """Publish with `core.events.EventBus` from a separate Python process (as a worker does); return the ids."""
    script = (
        "import asyncio, json, sys\n"
        "from core.events import EventBus, ProjectEvent\n"
        "from core.settings import get_settings\n"
        "async def main():\n"
        "    bus = EventBus(get_settings().redis_url)\n"
        "    ids = [await bus.publish(ProjectEvent.model_validate(e)) for e in json.load(sys.stdin)]\n"
        "    await bus.disconnect()\n"
        "    print(json.dumps(ids))\n"
        "asyncio.run(main())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        input=json.dumps(events),
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**settings_env, "PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        timeout=60,
        check=True,
    )
    ids: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    assert all(ids), f"publishing failed: {done.stderr}"
    return ids


async def numsub(redis: Redis, project_id: int) -> int:
    result = await redis.pubsub_numsub(f"project_{project_id}")
    return int(result[0][1])
