"""WebSocket fan-out: N sockets on one project, publish → received latency against a bare Redis subscriber.

Starts PostgreSQL and Redis (`bench.harness`: no Temporal, no S3) and the API under Uvicorn in a subprocess,
registers a user, opens N sockets on one project from this process, then publishes E events through `core.events.EventBus`
(as a worker does). Each event carries its publish time; every socket and one bare Redis pub/sub subscriber (the
floor: Redis → Python, no API in between) record when they received it. Also measures the API process's RSS per
idle socket. Prints figures; asserts nothing.

    PYTHONPATH=. .venv/bin/python bench/ws_fanout.py [--sockets 200] [--events 1000] [--interval-ms 20]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import gc
import json
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psutil
from redis.asyncio import Redis
from websockets.asyncio.client import connect

from bench.harness import (
    Server,
    api_server,
    app_env,
    create_box,
    create_project,
    embedded_services,
    machine,
    make_owner,
    percentile,
    timing_line,
)
from core.events import EventBus, new_comment, project_channel


class RawSocket(asyncio.Protocol):
    """A minimal WebSocket client (handshake, unmasked server frames, pong): cheap enough that 200 of them in one
    Python process measure the server rather than the client library."""

    def __init__(self, host: str, path: str, on_text: Callable[[bytes, float], None]) -> None:
        self.request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
        self.on_text = on_text
        self.buffer = bytearray()
        self.upgraded = False
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        now = time.time()
        self.buffer += data
        if not self.upgraded:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            if not self.buffer.startswith(b"HTTP/1.1 101"):
                self.opened.set_exception(RuntimeError(bytes(self.buffer[:200]).decode(errors="replace")))
                return
            del self.buffer[: end + 4]
            self.upgraded = True
            self.opened.set_result(None)
        buffer = self.buffer
        while len(buffer) >= 2:
            opcode, length, offset = buffer[0] & 0x0F, buffer[1] & 0x7F, 2
            if length == 126:
                if len(buffer) < 4:
                    return
                length, offset = int.from_bytes(buffer[2:4]), 4
            elif length == 127:
                if len(buffer) < 10:
                    return
                length, offset = int.from_bytes(buffer[2:10]), 10
            if len(buffer) < offset + length:
                return
            payload = bytes(buffer[offset : offset + length])
            del buffer[: offset + length]
            if opcode == 1:
                self.on_text(payload, now)
            elif opcode == 9 and self.transport is not None:  # ping -> masked pong
                mask = os.urandom(4)
                masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
                self.transport.write(bytes([0x8A, 0x80 | len(payload)]) + mask + masked)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.write(bytes([0x88, 0x82]) + b"\0\0\0\0" + (1000).to_bytes(2))
            self.transport.close()


def run_queue_wait(pid: int) -> float:
    """Seconds the process's threads spent runnable but waiting for a CPU (Linux schedstat), or NaN."""
    total = 0
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            total += int((task / "schedstat").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        return float("nan")
    return total / 1e9


async def settle_rss(proc: psutil.Process, seconds: float = 1.5) -> int:
    await asyncio.sleep(seconds)
    return int(proc.memory_info().rss)


async def run(args: argparse.Namespace) -> None:
    with embedded_services("ws-fanout", temporal=False, s3=False) as stack:
        # One user holds every socket of the bench: lift the per-user cap (20 by default) above their number.
        env = app_env(stack, MAX_SOCKETS_PER_USER=str(args.sockets + 10))
        with api_server(env, stack.data_dir / "logs", "--ws", args.ws) as api:
            await fan_out(args, api, stack.env["REDIS_URL"])


async def fan_out(args: argparse.Namespace, api: Server, redis_url: str) -> None:
    """Open the sockets, publish, and print the figures."""
    api_proc = psutil.Process(api.pid)
    async with httpx.AsyncClient(base_url=api.url, timeout=30) as http:
        headers = await make_owner(http)
        project_id = await create_project(http, headers)
        box_id = await create_box(http, headers, project_id)
    token = headers["Authorization"].removeprefix("Bearer ")
    path = f"/ws/projects/{project_id}/?token={token}"
    url = f"ws://127.0.0.1:{api.port}{path}"

    # Warm up the code paths (imports, pools) so the RSS delta is about sockets, not first use.
    for _ in range(3):
        async with connect(url) as warm:
            await warm.recv()
    rss_before = await settle_rss(api_proc)

    socket_latencies: list[float] = []
    per_socket_counts = [0] * args.sockets
    snapshots = 0
    all_snapshots = asyncio.Event()
    all_received = asyncio.get_running_loop().create_future()

    def receiver(index: int) -> Callable[[bytes, float], None]:
        def on_text(payload: bytes, now: float) -> None:
            nonlocal snapshots
            event = json.loads(payload)
            if event["type"] == "snapshot":
                snapshots += 1
                if snapshots == args.sockets:
                    all_snapshots.set()
            elif event["type"] == "new_comment":
                socket_latencies.append(now - event["ts"])
                per_socket_counts[index] += 1
                if len(socket_latencies) == args.sockets * args.events and not all_received.done():
                    all_received.set_result(None)

        return on_text

    loop = asyncio.get_running_loop()
    sockets: list[RawSocket] = []
    for index in range(args.sockets):
        _, client = await loop.create_connection(
            lambda i=index: RawSocket(f"127.0.0.1:{api.port}", path, receiver(i)),  # type: ignore[misc]
            "127.0.0.1",
            api.port,
        )
        await client.opened
        sockets.append(client)
    await asyncio.wait_for(all_snapshots.wait(), 60)
    gc.collect()
    rss_after = await settle_rss(api_proc, 3.0)

    observer = Redis.from_url(redis_url)
    subscriptions = (await observer.pubsub_numsub(project_channel(project_id)))[0][1]

    # The floor: a bare Redis subscriber in this process.
    bare = observer.pubsub()
    await bare.subscribe(project_channel(project_id))
    await bare.get_message(timeout=5)  # the subscribe confirmation

    bare_latencies: list[float] = []

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

    bus = EventBus(redis_url)
    consumers = [asyncio.ensure_future(all_received), asyncio.create_task(consume_bare())]
    cpu_before = api.cpu_seconds()
    waits_before = run_queue_wait(api.pid), run_queue_wait(os.getpid())
    own_cpu_before = psutil.Process().cpu_times()
    started = time.perf_counter()
    interval = args.interval_ms / 1000
    for n in range(args.events):
        await bus.publish(
            new_comment(
                project_id=project_id,
                comment_id=n,
                box_id=box_id,
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
    cpu_after = api.cpu_seconds()
    waits_after = run_queue_wait(api.pid), run_queue_wait(os.getpid())
    own_cpu_after = psutil.Process().cpu_times()

    print()
    print(
        f"{args.sockets} sockets on one project, {args.events} events published every {args.interval_ms} ms "
        f"({args.sockets * args.events} deliveries in {elapsed:.1f} s)"
    )
    print(f"Redis subscriptions for the project (PUBSUB NUMSUB, incl. the bare one later): {subscriptions}")
    print(f"machine: {machine()} (shared with other work)")
    print(timing_line("WebSocket (publish→recv)", socket_latencies, width=28))
    print(timing_line("bare Redis pub/sub (floor)", bare_latencies, width=28))
    ratios = [
        f"{name} x{percentile(socket_latencies, share) / percentile(bare_latencies, share):.1f}"
        for name, share in (("p50", 0.5), ("p95", 0.95))
    ]
    print(f"ratio socket/floor: {'  '.join(ratios)}  (targets: p95 <= 50 ms and <= 3 x floor)")
    api_cpu = cpu_after - cpu_before
    print(
        f"API process CPU during the run: {api_cpu:.1f} s ({100 * api_cpu / elapsed:.0f}% of one core, "
        f"{1e6 * api_cpu / max(1, len(socket_latencies)):.1f} us per delivery; uvicorn --ws {args.ws})"
    )
    own_cpu = (own_cpu_after.user + own_cpu_after.system) - (own_cpu_before.user + own_cpu_before.system)
    print(
        f"waiting for a CPU while runnable: API {waits_after[0] - waits_before[0]:.1f} s, "
        f"this client process {waits_after[1] - waits_before[1]:.1f} s (its CPU: {own_cpu:.1f} s) "
        f"of {elapsed:.1f} s"
    )
    delta = rss_after - rss_before
    print(
        f"API RSS: {rss_before / 2**20:.1f} MiB before, {rss_after / 2**20:.1f} MiB with {len(sockets)} idle "
        f"sockets → {delta / len(sockets) / 1024:.1f} KiB per idle socket"
    )
    for client in sockets:
        client.close()
    await bare.aclose()  # type: ignore[no-untyped-call]
    await observer.aclose()
    await bus.disconnect()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sockets", type=int, default=200)
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--interval-ms", type=float, default=20.0)
    parser.add_argument("--ws", default="auto", help="uvicorn's WebSocket implementation")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
