"""An outage of one of our own services never costs a paid generation.

For each of PostgreSQL, S3, Redis and the Temporal server: start generations, SIGKILL the service mid-flight, keep it
down longer than the old ~3 s retry window, start it again, and check that every generation ends COMPLETED exactly
once (one Kie.ai task, one row, its file and thumbnail in S3 and nothing else under its prefix), and that a live
socket ends up seeing every completion. While the service is down, a request of a route that needs it answers 503
with a JSON body (PostgreSQL: the box's assets; S3: an upload; Temporal: a generate, which leaves no row behind), and
a REST read answers 200 without Redis (only events need it).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.builders import make_box, make_project, png_bytes, register
from tests.faults.harness import FaultStack

REQUESTS, VARIANTS = 3, 2
GENERATIONS = REQUESTS * VARIANTS
DOWN_SECONDS = 6.0
"""Longer than the ~3 s (1 s + 2 s backoff) the database and S3 steps used to survive."""
SETTLE_TIMEOUT = 90.0
FINAL = ("COMPLETED", "FAILED")


@dataclass
class Outcome:
    name: str
    rows: list[dict[str, Any]]
    api: tuple[int | None, str]
    recovery: float
    """Seconds from the restart until every row was final (and, for Redis, the socket had seen every completion)."""

    @property
    def completed(self) -> int:
        return sum(row["status"] == "COMPLETED" for row in self.rows)

    @property
    def failed(self) -> int:
        return sum(row["status"] == "FAILED" for row in self.rows)

    @property
    def stuck(self) -> int:
        return sum(row["status"] not in FINAL for row in self.rows)

    def line(self) -> str:
        status, content_type = self.api
        return (
            f"FAULT {self.name}: completed={self.completed} failed={self.failed} stuck={self.stuck} "
            f"api={status}/{content_type or '-'} recovery={self.recovery:.1f}s"
        )


async def wait_healthy(faults: FaultStack) -> None:
    async with httpx.AsyncClient(base_url=faults.api_url, timeout=10) as http:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get("/api/health/")).status_code == 200:
                    return
            assert time.monotonic() < deadline, "the product did not become healthy"
            await asyncio.sleep(0.2)


async def sim_tasks(faults: FaultStack, tag: str) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(timeout=10) as http:
        tasks: list[dict[str, Any]] = (await http.get(f"{faults.simulator.url}/_sim/tasks")).json()
    return [task for task in tasks if tag in (task.get("prompt") or "")]


Request = Callable[[httpx.AsyncClient, dict[str, str], int], Awaitable[httpx.Response]]
"""One request of a real route, as the logged-in user, about the box under test."""


async def probe(
    api_url: str, request: Request, headers: dict[str, str], box_id: int
) -> tuple[int | None, str]:
    """What the API answered `request` while a service was down: status and content type (None if it did not)."""
    async with httpx.AsyncClient(base_url=api_url, timeout=20) as http:
        try:
            response = await request(http, headers, box_id)
        except httpx.HTTPError as exc:
            return None, type(exc).__name__
    return response.status_code, response.headers.get("content-type", "")


async def watch_completions(url: str, wanted: set[int], seen: set[int]) -> None:
    """Hold a project socket; when it closes, reconnect with `since` = the last event seen. Add COMPLETED ids to
    `seen` until it holds every `wanted` one (filled once the generations are accepted, after the socket opened)."""
    last_id: str | None = None
    while not (wanted and wanted <= seen):
        try:
            async with connect(url + (f"&since={last_id}" if last_id else ""), open_timeout=5) as ws:
                async for raw in ws:
                    message = json.loads(raw)
                    if message["type"] == "snapshot":
                        last_id = last_id or message["data"]["last_event_id"]
                        continue
                    if message.get("id"):
                        last_id = message["id"]
                    if message["type"] == "asset_status_changed" and message["data"]["status"] == "COMPLETED":
                        seen.add(message["data"]["asset_id"])
                        if wanted and wanted <= seen:
                            return
        except (ConnectionClosed, InvalidStatus, OSError, TimeoutError):
            pass
        await asyncio.sleep(0.5)


async def run_fault(
    faults: FaultStack,
    capsys: pytest.CaptureFixture[str],
    name: str,
    *,
    kill_when: Callable[[list[dict[str, Any]]], bool],
    request: Request,
    expect: int,
    watch_socket: bool = False,
) -> Outcome:
    await wait_healthy(faults)
    tag = f"fault-{name}-{uuid.uuid4().hex[:8]}"
    async with httpx.AsyncClient(base_url=faults.api_url, timeout=30) as client:
        headers = await register(client)
        project = await make_project(client, headers)
        box = await make_box(client, headers, project["id"])

        watcher: asyncio.Task[None] | None = None
        wanted: set[int] = set()
        seen: set[int] = set()
        if watch_socket:
            token = headers["Authorization"].removeprefix("Bearer ")
            ws_url = faults.ws_url(f"/ws/projects/{project['id']}/?token={token}")
            # Open the socket before anything happens, so its first snapshot stands before the first event.
            watcher = asyncio.create_task(watch_completions(ws_url, wanted, seen))
            await asyncio.sleep(0.5)

        asset_ids: list[int] = []
        for _ in range(REQUESTS):
            response = await client.post(
                f"/api/boxes/{box['id']}/generate/",
                json={"model": "google/nano-banana", "prompt": f"{tag} [sim:steps=1]", "count": VARIANTS},
                headers=headers,
            )
            assert response.status_code == 202, response.text
            asset_ids += response.json()["asset_ids"]
        wanted.update(asset_ids)

    try:
        deadline = time.monotonic() + 60
        while not kill_when(await sim_tasks(faults, tag)):
            assert time.monotonic() < deadline, f"the moment to kill {name} never came"
            await asyncio.sleep(0.05)
        faults.kill(name)
        killed = time.monotonic()
        api = await probe(faults.api_url, request, headers, box["id"])
        await asyncio.sleep(max(0.0, DOWN_SECONDS - (time.monotonic() - killed)))
        await asyncio.to_thread(faults.restart, name)

        restarted = time.monotonic()
        rows = await asyncio.to_thread(faults.asset_rows, box["id"])
        while (
            any(row["status"] not in FINAL for row in rows) and time.monotonic() - restarted < SETTLE_TIMEOUT
        ):
            await asyncio.sleep(0.2)
            rows = await asyncio.to_thread(faults.asset_rows, box["id"])
        recovery = time.monotonic() - restarted
        if watcher is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(watcher, 30)  # cancelled after that: a socket may wait for nothing
            recovery = time.monotonic() - restarted
        outcome = Outcome(name, rows, api, recovery)
        with capsys.disabled():
            print(f"\n{outcome.line()}")

        assert outcome.failed == 0 and outcome.stuck == 0, (
            f"{outcome.line()}\n{rows}\n--- worker log ---\n{faults.log_tail('worker')}"
        )
        # Exactly once: one row and one Kie.ai task per asset, its two objects and nothing else under its prefix.
        # No other row: the request made while the service was down left none (a refused generate or upload).
        assert sorted(row["id"] for row in rows) == sorted(asset_ids)
        tasks = await sim_tasks(faults, tag)
        assert sorted(task["taskId"] for task in tasks) == sorted(row["provider_task_id"] for row in rows)
        for row in rows:
            assert row["file_key"] and row["thumbnail_key"], row
            keys = await asyncio.to_thread(faults.object_keys, f"assets/{row['id']}/")
            assert keys == sorted([row["file_key"], row["thumbnail_key"]]), (row, keys)

        if watch_socket:
            assert seen >= set(asset_ids), (
                f"the socket never saw COMPLETED for {sorted(set(asset_ids) - seen)}"
            )
    finally:
        if watcher is not None:
            watcher.cancel()

    # Last, so a red API answer does not hide what happened to the generations.
    status, content_type = api
    assert status == expect and content_type.startswith("application/json"), (
        f"while {name} was down the API answered {status} {content_type}, not {expect} JSON"
    )
    return outcome


def first_succeeded(tasks: list[dict[str, Any]]) -> bool:
    """Kie.ai has the first result: the others are about to be stored (all six are submitted by then)."""
    return len(tasks) == GENERATIONS and any(task["state"] == "success" for task in tasks)


def all_submitted(tasks: list[dict[str, Any]]) -> bool:
    return len(tasks) == GENERATIONS


async def list_assets(http: httpx.AsyncClient, headers: dict[str, str], box_id: int) -> httpx.Response:
    return await http.get(f"/api/boxes/{box_id}/assets/", headers=headers)


async def upload(http: httpx.AsyncClient, headers: dict[str, str], box_id: int) -> httpx.Response:
    return await http.post(
        f"/api/boxes/{box_id}/upload/",
        files={"file": ("shot.png", png_bytes(), "image/png")},
        headers=headers,
    )


async def generate(http: httpx.AsyncClient, headers: dict[str, str], box_id: int) -> httpx.Response:
    return await http.post(
        f"/api/boxes/{box_id}/generate/",
        json={"model": "google/nano-banana", "prompt": "while Temporal is down [sim:steps=1]"},
        headers=headers,
    )


async def test_a_postgres_outage_while_results_are_stored_costs_no_generation(
    faults: FaultStack, capsys: pytest.CaptureFixture[str]
) -> None:
    await run_fault(
        faults,
        capsys,
        "postgres",
        kill_when=first_succeeded,
        request=list_assets,
        expect=503,
        watch_socket=True,
    )


async def test_an_s3_outage_while_results_are_stored_costs_no_generation(
    faults: FaultStack, capsys: pytest.CaptureFixture[str]
) -> None:
    await run_fault(
        faults, capsys, "s3", kill_when=first_succeeded, request=upload, expect=503, watch_socket=True
    )


async def test_a_redis_outage_costs_no_generation_and_the_socket_sees_every_completion(
    faults: FaultStack, capsys: pytest.CaptureFixture[str]
) -> None:
    await run_fault(
        faults, capsys, "redis", kill_when=all_submitted, request=list_assets, expect=200, watch_socket=True
    )


async def test_a_temporal_outage_costs_no_generation(
    faults: FaultStack, capsys: pytest.CaptureFixture[str]
) -> None:
    await run_fault(
        faults, capsys, "temporal", kill_when=all_submitted, request=generate, expect=503, watch_socket=True
    )
