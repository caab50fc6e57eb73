"""Generation pipeline figures (printed, not asserted), on fresh embedded services and the instant simulator.

    PYTHONPATH=. .venv/bin/python -m bench.pipeline [--sequential 200] [--burst 500]

1. POST /generate/ → `asset_status_changed` COMPLETED on the project's Redis channel, one generation at a time:
   p50/p95, next to the floor: a bare workflow with the same number of no-op activities on the same worker.
2. A burst of N generations at once: how many COMPLETED, lost or duplicated, and generations per second.
The API (uvicorn on a real port, so the simulator's callbacks reach it) and the worker run in this process; the
simulator (`--instant`) runs as a subprocess.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import secrets
import statistics
import time
import uuid
from typing import Any

import httpx
from redis.asyncio import Redis
from sqlmodel import col, func, select

from bench.floor import BenchFloorWorkflow, bench_noop
from bench.harness import (
    InProcessServer,
    Server,
    app_env,
    create_box,
    create_project,
    embedded_services,
    make_owner,
    running_worker,
    settings_of,
    simulator,
    timing_line,
)
from core.contract import AssetStatus
from core.events import project_channel
from core.models import Asset, User
from core.settings import Settings

ACTIVITIES_PER_GENERATION = 9
"""mark running, publish, plan, submit, record task, fetch, ingest, complete, publish."""


class Completions:
    """Listens on the project channel and remembers when each asset reached a final status (and how often)."""

    def __init__(self, redis_url: str, project_id: int) -> None:
        self.redis = Redis.from_url(redis_url)
        self.channel = project_channel(project_id)
        self.done: dict[int, float] = {}
        self.counts: dict[int, int] = {}
        self.failed: dict[int, str] = {}
        self.changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.pubsub = self.redis.pubsub()
        await self.pubsub.subscribe(self.channel)
        self._task = asyncio.create_task(self._listen())

    async def _listen(self) -> None:
        async for message in self.pubsub.listen():
            if message["type"] != "message":
                continue
            event = json.loads(message["data"])
            data = event.get("data", {})
            if event.get("type") == "asset_status_changed" and data.get("status") in ("COMPLETED", "FAILED"):
                asset_id = int(data["asset_id"])
                self.done.setdefault(asset_id, time.perf_counter())
                self.counts[asset_id] = self.counts.get(asset_id, 0) + 1
                if data["status"] == "FAILED":
                    self.failed[asset_id] = data.get("error_message") or ""
                self.changed.set()

    async def wait_for(self, asset_ids: list[int], within: float) -> None:
        deadline = time.perf_counter() + within
        while not all(i in self.done for i in asset_ids):
            self.changed.clear()
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), timeout=min(remaining, 1.0))

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
        await self.pubsub.unsubscribe()
        await self.redis.aclose()


async def generate(http: httpx.AsyncClient, headers: dict[str, str], box_id: int, prompt: str) -> int:
    response = await http.post(
        f"/api/boxes/{box_id}/generate/",
        json={"model": "google/nano-banana", "prompt": prompt},
        headers=headers,
    )
    response.raise_for_status()
    return int(response.json()["asset_id"])


async def run(args: argparse.Namespace, env: dict[str, str], sim: Server) -> None:
    from api.main import create_app

    api = InProcessServer()
    settings = settings_of({**env, "PUBLIC_BASE_URL": api.url})
    async with (
        api.serving(create_app(settings)),
        running_worker(
            settings,
            workflows=[BenchFloorWorkflow],
            activities=[bench_noop],
            max_concurrent_activities=200,
            max_concurrent_workflow_tasks=200,
        ) as deps,
        httpx.AsyncClient(base_url=api.url, timeout=60, limits=httpx.Limits(max_connections=50)) as http,
    ):
        headers = await make_owner(http)
        await lift_spend_limits(deps, http, headers)
        project_id = await create_project(http, headers)
        box_id = await create_box(http, headers, project_id)
        completions = Completions(settings.redis_url, project_id)
        await completions.start()
        try:
            await bench_sequential(args, http, headers, box_id, completions, deps, settings)
            if args.burst:
                burst_box_id = await create_box(http, headers, project_id)
                await bench_burst(args, http, headers, burst_box_id, completions, deps, sim)
        finally:
            await completions.stop()


async def run_floor(deps: Any, settings: Settings) -> None:
    """The floor: a bare workflow running as many no-op activities as a generation runs, on the same worker."""
    await deps.temporal.execute_workflow(
        BenchFloorWorkflow.run,
        ACTIVITIES_PER_GENERATION,
        id=f"bench-floor-{uuid.uuid4().hex[:8]}",
        task_queue=settings.temporal_task_queue,
    )


async def bench_sequential(
    args: argparse.Namespace,
    http: httpx.AsyncClient,
    headers: dict[str, str],
    box_id: int,
    completions: Completions,
    deps: Any,
    settings: Settings,
) -> None:
    for i in range(args.warmup):
        asset_id = await generate(http, headers, box_id, f"warm-up {i}")
        await completions.wait_for([asset_id], 60)
        await run_floor(deps, settings)
    pipeline: list[float] = []
    for i in range(args.sequential):
        started = time.perf_counter()
        asset_id = await generate(http, headers, box_id, f"sequential generation {i}")
        await completions.wait_for([asset_id], 60)
        if asset_id not in completions.done or asset_id in completions.failed:
            print(f"  generation {i} (asset {asset_id}) did not complete: {completions.failed.get(asset_id)}")
            continue
        pipeline.append(completions.done[asset_id] - started)
    floor: list[float] = []
    for _ in range(args.sequential):
        started = time.perf_counter()
        await run_floor(deps, settings)
        floor.append(time.perf_counter() - started)
    print("\n== POST → COMPLETED, one at a time (simulator instant) ==")
    print(timing_line("generation (POST → COMPLETED event)", pipeline))
    print(timing_line(f"floor ({ACTIVITIES_PER_GENERATION} no-op activities)", floor))
    ratio = statistics.median(pipeline) / statistics.median(floor)
    print(f"{'p50 ratio generation / floor':<34} {ratio:.2f}x  (target: p50 ≤ 300 ms and ≤ 1.5x the floor)")


async def lift_spend_limits(deps: Any, http: httpx.AsyncClient, headers: dict[str, str]) -> None:
    """The bench measures the pipeline, not the spend limits: its user may run and spend without bounds."""
    user_id = (await http.get("/api/auth/me/", headers=headers)).json()["id"]
    async with deps.sessionmaker() as session:
        user = await session.get(User, user_id)
        assert user is not None
        user.daily_credit_budget, user.max_running_generations = 1e12, 1_000_000
        session.add(user)
        await session.commit()


async def bench_burst(
    args: argparse.Namespace,
    http: httpx.AsyncClient,
    headers: dict[str, str],
    box_id: int,
    completions: Completions,
    deps: Any,
    sim: Server,
) -> None:
    marker = f"burst-{uuid.uuid4().hex[:6]}"
    semaphore = asyncio.Semaphore(50)

    async def one(i: int) -> int:
        async with semaphore:
            return await generate(http, headers, box_id, f"{marker} generation {i}")

    started = time.perf_counter()
    ids = await asyncio.gather(*(one(i) for i in range(args.burst)))
    accepted = time.perf_counter()
    await completions.wait_for(ids, args.burst_timeout)
    finished = [completions.done[i] for i in ids if i in completions.done]
    async with deps.sessionmaker() as session:
        rows = (
            await session.exec(
                select(Asset.status, func.count()).where(Asset.box_id == box_id).group_by(Asset.status)
            )
        ).all()
        with_file = (
            await session.exec(
                select(func.count()).where(Asset.box_id == box_id, col(Asset.file_key).is_not(None))
            )
        ).one()
    statuses = {str(status.value if isinstance(status, AssetStatus) else status): n for status, n in rows}
    tasks = (await http.get(f"{sim.url}/_sim/tasks")).json()
    kie_tasks = sum(1 for t in tasks if marker in (t.get("prompt") or ""))
    keys = 0
    for asset_id in ids:
        listed = deps.storage._client.list_objects_v2(
            Bucket=deps.storage.bucket, Prefix=f"assets/{asset_id}/original"
        )
        keys += listed.get("KeyCount", 0)
    duplicated_events = sum(1 for i in ids if completions.counts.get(i, 0) > 1)
    span = (max(finished) - started) if finished else float("nan")
    print(f"\n== burst of {args.burst} generations ==")
    print(f"accepted (202) in {accepted - started:.1f} s; all final after {span:.1f} s")
    print(f"asset rows by status: {statuses}  (rows: {sum(statuses.values())}, expected {args.burst})")
    print(
        f"COMPLETED events: {len(finished)}; lost: {args.burst - len(finished)}; failed: {len(completions.failed)}"
    )
    print(
        f"Kie.ai tasks: {kie_tasks}; S3 originals: {keys}; rows with a file: {with_file}; "
        f"assets with more than one final event: {duplicated_events}"
    )
    print(f"sustained: {len(finished) / span:.1f} generations/s")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.pipeline", description=__doc__)
    parser.add_argument("--sequential", type=int, default=200)
    parser.add_argument("--burst", type=int, default=500)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--burst-timeout", type=float, default=600)
    args = parser.parse_args()
    with embedded_services("pipeline") as stack:
        hmac_key = secrets.token_urlsafe(24)
        with simulator(stack.data_dir / "logs", hmac_key) as sim:
            env = app_env(stack, KIE_BASE_URL=sim.url, KIE_WEBHOOK_HMAC_KEY=hmac_key)
            asyncio.run(run(args, env, sim))


if __name__ == "__main__":
    main()
