"""WebSocket fan-out: N sockets on one project, publish → received latency against a bare Redis subscriber.

Starts its own PostgreSQL and Redis (from the dev wheels) and the API under Uvicorn in a subprocess, registers a
user, opens N sockets on one project from this process, then publishes E events through `core.events.EventBus`
(as a worker does). Each event carries its publish time; every socket and one bare Redis pub/sub subscriber (the
floor: Redis → Python, no API in between) record when they received it. Also measures the API process's RSS per
idle socket. Prints figures; asserts nothing.

    PYTHONPATH=. .venv/bin/python bench/ws_fanout.py [--sockets 200] [--events 1000] [--interval-ms 20]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psutil
from redis.asyncio import Redis
from websockets.asyncio.client import ClientConnection, connect

from core.events import EventBus, new_comment, project_channel
from devstack.services import create_database, free_port, port_open, start_postgres, start_redis, wait_until
from devstack.stack import migrate

ROOT = Path(__file__).resolve().parent.parent


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    if not ordered:
        return {"n": 0, "p50": float("nan"), "p95": float("nan"), "p99": float("nan"), "max": float("nan")}

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    return {"n": len(ordered), "p50": at(0.50), "p95": at(0.95), "p99": at(0.99), "max": ordered[-1] * 1000}


def row(name: str, stats: dict[str, float]) -> str:
    return (
        f"{name:<28} n={int(stats['n']):>7}  p50={stats['p50']:7.2f} ms  p95={stats['p95']:7.2f} ms  "
        f"p99={stats['p99']:7.2f} ms  max={stats['max']:8.2f} ms"
    )


async def settle_rss(proc: psutil.Process, seconds: float = 1.5) -> int:
    await asyncio.sleep(seconds)
    return int(proc.memory_info().rss)


async def run(args: argparse.Namespace) -> None:
    base = Path(tempfile.mkdtemp(prefix="ws-fanout-"))
    services = []
    api: subprocess.Popen[bytes] | None = None
    try:
        print(f"starting PostgreSQL and Redis under {base} ...", flush=True)
        pg = start_postgres(base / "pg", free_port(), base / "pg.log")
        services.append(pg)
        database_url = create_database(pg.url, "aiam_bench")
        migrate(database_url)
        redis_service = start_redis(base / "redis", free_port(), base / "redis.log", persist=False)
        services.append(redis_service)

        port = free_port()
        env = {
            **{k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")},
            "PYTHONPATH": str(ROOT),
            "ENVIRONMENT": "test",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_service.url,
            "JWT_SECRET": secrets.token_urlsafe(32),
            "TEMPORAL_ADDRESS": "127.0.0.1:1",
            "S3_ENDPOINT_URL": "http://127.0.0.1:1",
        }
        api = subprocess.Popen(  # noqa: ASYNC220 - started once, before anything is measured
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                "api.main:create_app",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            stdout=open(base / "api.log", "ab"),  # noqa: SIM115, ASYNC230 - the child owns it
            stderr=subprocess.STDOUT,
        )
        wait_until(lambda: port_open(port), "API", timeout=60, proc=api)
        api_proc = psutil.Process(api.pid)

        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            email = f"bench-{secrets.token_hex(6)}@example.com"
            body = {"email": email, "password": "correct horse battery", "display_name": "Bench"}
            assert (await http.post("/api/auth/register/", json=body)).status_code == 201
            login = await http.post("/api/auth/login/", json={"email": email, "password": body["password"]})
            headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
            project = (await http.post("/api/projects/", json={"name": "Bench"}, headers=headers)).json()
            box = (
                await http.post(
                    f"/api/projects/{project['id']}/boxes/", json={"title": "Shot"}, headers=headers
                )
            ).json()
        token = headers["Authorization"].removeprefix("Bearer ")
        url = f"ws://127.0.0.1:{port}/ws/projects/{project['id']}/?token={token}"

        # Warm up the code paths (imports, pools) so the RSS delta is about sockets, not first use.
        for _ in range(3):
            async with connect(url) as warm:
                await warm.recv()
        rss_before = await settle_rss(api_proc)

        sockets: list[ClientConnection] = []
        for start in range(0, args.sockets, 50):
            batch = await asyncio.gather(
                *(connect(url, max_queue=None) for _ in range(start, min(args.sockets, start + 50)))
            )
            sockets.extend(batch)
        for ws in sockets:
            assert json.loads(await ws.recv())["type"] == "snapshot"
        gc.collect()
        rss_after = await settle_rss(api_proc, 3.0)

        observer = Redis.from_url(redis_service.url)
        subscriptions = (await observer.pubsub_numsub(project_channel(project["id"])))[0][1]

        # The floor: a bare Redis subscriber in this process.
        bare = observer.pubsub()
        await bare.subscribe(project_channel(project["id"]))
        await bare.get_message(timeout=5)  # the subscribe confirmation

        socket_latencies: list[float] = []
        bare_latencies: list[float] = []
        per_socket_counts = [0] * len(sockets)

        async def consume(index: int, ws: ClientConnection) -> None:
            while per_socket_counts[index] < args.events:
                message = await ws.recv()
                now = time.time()
                event = json.loads(message)
                if event["type"] != "new_comment":
                    continue
                socket_latencies.append(now - event["ts"])
                per_socket_counts[index] += 1

        async def consume_bare() -> None:
            received = 0
            while received < args.events:
                message = await bare.get_message(timeout=10)
                now = time.time()
                if message is None or message["type"] != "message":
                    continue
                event = json.loads(message["data"])
                bare_latencies.append(now - event["ts"])
                received += 1

        bus = EventBus(redis_service.url)
        consumers = [asyncio.create_task(consume(i, ws)) for i, ws in enumerate(sockets)]
        consumers.append(asyncio.create_task(consume_bare()))
        cpu_before = api_proc.cpu_times()
        started = time.perf_counter()
        interval = args.interval_ms / 1000
        for n in range(args.events):
            await bus.publish(
                new_comment(
                    project_id=project["id"],
                    comment_id=n,
                    box_id=box["id"],
                    asset_id=None,
                    author_name="Bench",
                    text=f"event {n}",
                    created_at=datetime.now(UTC),
                    via_link=False,
                )
            )
            target = started + (n + 1) * interval
            await asyncio.sleep(max(0.0, target - time.perf_counter()))
        await asyncio.wait_for(asyncio.gather(*consumers), timeout=120)
        elapsed = time.perf_counter() - started
        cpu_after = api_proc.cpu_times()

        sock = percentiles(socket_latencies)
        floor = percentiles(bare_latencies)
        print()
        print(
            f"{args.sockets} sockets on one project, {args.events} events published every {args.interval_ms} ms "
            f"({args.sockets * args.events} deliveries in {elapsed:.1f} s)"
        )
        print(
            f"Redis subscriptions for the project (PUBSUB NUMSUB, incl. the bare one later): {subscriptions}"
        )
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"machine: {os.cpu_count()} CPUs, load average {load} (shared with other work)")
        print(row("WebSocket (publish→recv)", sock))
        print(row("bare Redis pub/sub (floor)", floor))
        print(
            f"ratio socket/floor: p50 x{sock['p50'] / floor['p50']:.1f}  p95 x{sock['p95'] / floor['p95']:.1f}  "
            f"(targets: p95 <= 50 ms and <= 3 x floor)"
        )
        api_cpu = (cpu_after.user + cpu_after.system) - (cpu_before.user + cpu_before.system)
        print(f"API process CPU during the run: {api_cpu:.1f} s ({100 * api_cpu / elapsed:.0f}% of one core)")
        delta = rss_after - rss_before
        print(
            f"API RSS: {rss_before / 2**20:.1f} MiB before, {rss_after / 2**20:.1f} MiB with {len(sockets)} idle "
            f"sockets → {delta / len(sockets) / 1024:.1f} KiB per idle socket"
        )
        for ws in sockets:
            await ws.close()
        await bare.aclose()
        await observer.aclose()
        await bus.disconnect()
    finally:
        if api is not None:
            api.terminate()
            try:
                api.wait(15)
            except subprocess.TimeoutExpired:
                api.kill()
        for service in reversed(services):
            service.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sockets", type=int, default=200)
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--interval-ms", type=float, default=20.0)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
