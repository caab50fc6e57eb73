"""Board benchmark: the two listings the board page calls, against real services, next to a bare endpoint.

Starts embedded PostgreSQL, Redis, S3 and the Temporal dev server in a temporary directory, migrates, serves the
real app with Uvicorn in a subprocess, and fills a project of 100 boxes x 20 COMPLETED assets (each box with a
headliner) by SQL. Then, over 200 requests each at a fixed concurrency:

- `GET /api/projects/{id}/boxes/?limit=100` and `GET /api/boxes/{id}/assets/?limit=20`: p50/p95/max, requests/s;
- SQL statements per request (a `before_cursor_execute` listener on the app's engine), for that project and for
  one of 10 boxes x 2 assets, to show the count does not grow with the data;
- the same latency and rate for a bare FastAPI endpoint returning the same JSON bytes from memory, served the
  same way (Uvicorn in a subprocess), and the ratio.

Variants (`--variants`, each in its own server): `current` (the code as committed), `botocore-presign` (current
but presigning through botocore, as before `core.storage.QueryPresigner`), `presign-window` (a proposal not built
in: URLs signed per ttl/3 window and memoised). Every variant must answer the same pages, URLs aside.

Prints, never asserts. Targets: p95 <= 50 ms, >= 50 % of the bare endpoint's requests/s.

    PYTHONPATH=. .venv/bin/python bench/board.py [--requests 200] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import asyncio
import calendar
import contextlib
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TARGET_P95_MS = 50.0
TARGET_RPS_SHARE = 0.5
SERVER_PIDS: dict[str, int] = {}  # base URL -> server process, to read its CPU time
VARIANTS = ("current", "botocore-presign", "presign-window")
SQL_COUNT_PATH = "/__bench/sql-statements/"
PASSWORD = "bench password 123"


# --- variants: what presigning cost before (botocore), and a proposal not built in (signing windows) -----------
#
# Built in since this bench prototyped them (so "current" includes them): `core.storage.QueryPresigner` (SigV4
# query presigning without botocore's per-call machinery, same URLs) and the one-statement pages of
# `core.boxes.list_boxes` / `core.assets.list_box_assets` (the total as `count(*) OVER ()`, the headliner and model
# joined). Boxes listing 6 -> 3 statements, assets listing 5 -> 3.


def install_botocore_presign() -> None:
    """Variant `botocore-presign`: presign through botocore as before, to show what QueryPresigner saves."""
    from core.storage import Storage

    def presigned_get_url(self: Storage, key: str, ttl_seconds: int | None = None) -> str:
        url: str = self._client.generate_presigned_url(
            "get_object",
            Params={"Bucket": self.bucket, "Key": key},
            ExpiresIn=ttl_seconds or self.presign_ttl,
        )
        return url

    Storage.presigned_get_url = presigned_get_url  # type: ignore[method-assign]


class WindowedPresigner:
    """Proposal (not built in): sign at the start of the current window of `window_seconds`, so everyone gets the
    same URL during the window (browsers keep images cached across board reloads), and memoise. A URL is then
    valid for at least ttl - window seconds instead of ttl."""

    def __init__(self, presigner: Any, window_seconds: int) -> None:
        self.presigner, self.window_seconds = presigner, window_seconds
        self._cache: dict[tuple[str, int], str] = {}
        self._cache_window = -1.0

    def presigned_get_url(self, key: str, ttl_seconds: int) -> str:
        now = time.time()
        now -= now % self.window_seconds
        if self._cache_window != now:
            self._cache, self._cache_window = {}, now
        url = self._cache.get((key, ttl_seconds))
        if url is None:
            url = self.presigner.presign_get(key, ttl_seconds, now=now)
            if len(self._cache) < 100_000:
                self._cache[(key, ttl_seconds)] = url
        return url


def install_presign_window(window_seconds: int) -> None:
    """Variant `presign-window`: route `Storage.presigned_get_url` through WindowedPresigner."""
    from core.storage import Storage

    windowed: dict[int, WindowedPresigner] = {}

    def presigned_get_url(self: Storage, key: str, ttl_seconds: int | None = None) -> str:
        presigner = windowed.setdefault(id(self), WindowedPresigner(self.presigner, window_seconds))
        return presigner.presigned_get_url(key, ttl_seconds or self.presign_ttl)

    Storage.presigned_get_url = presigned_get_url  # type: ignore[method-assign]


def check_presigner(env: dict[str, str]) -> str:
    """Against the real S3: QueryPresigner's URL downloads the object, a tampered one is refused, and it is exactly
    botocore's URL for the same second (tests/core/test_storage.py asserts the same)."""
    from core.settings import Settings
    from core.storage import Storage

    settings = Settings(**{k.lower(): v for k, v in env.items()})  # type: ignore[arg-type]
    storage = Storage(settings)
    storage.put_bytes("bench/presign check.txt", b"presigned", "text/plain")
    fast = storage.presigned_get_url("bench/presign check.txt", 900)
    good = httpx.get(fast)
    bad = httpx.get(fast.replace("X-Amz-Expires=900", "X-Amz-Expires=901"))
    assert good.status_code == 200 and good.content == b"presigned", (good.status_code, good.text[:200])
    assert bad.status_code == 403, bad.status_code
    windowed = WindowedPresigner(storage.presigner, 300)
    first = windowed.presigned_get_url("bench/presign check.txt", 900)
    assert windowed.presigned_get_url("bench/presign check.txt", 900) == first
    assert httpx.get(first).status_code == 200

    def botocore_url(key: str) -> str:
        url: str = storage._client.generate_presigned_url(
            "get_object", Params={"Bucket": storage.bucket, "Key": key}, ExpiresIn=900
        )
        return url

    same_second = botocore_url("bench/presign check.txt")
    stamp = same_second.split("X-Amz-Date=")[1][:16]
    ours = storage.presigner.presign_get(
        "bench/presign check.txt", 900, now=calendar.timegm(time.strptime(stamp, "%Y%m%dT%H%M%SZ"))
    )
    started = time.perf_counter()
    for index in range(1000):
        storage.presigned_get_url(f"assets/{index}/original.png", 900)
    fast_us = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    for index in range(200):
        botocore_url(f"assets/{index}/original.png")
    boto_us = (time.perf_counter() - started) / 200 * 1e6
    return (
        "QueryPresigner: S3 accepts its URLs (200, windowed too) and refuses a tampered one (403); "
        f"same URL as botocore: {ours == same_second}; {fast_us:.0f} us per URL vs botocore {boto_us:.0f} us"
    )


# --- servers (run in subprocesses: `python bench/board.py serve-app|serve-bare PORT`) -----------------------


def serve_app(port: int, variant: str = "current") -> None:
    """The real app from the environment's settings, plus a route that reports the SQL statements run so far."""
    from contextlib import asynccontextmanager

    import uvicorn
    from sqlalchemy import event

    from api.main import create_app
    from core.settings import Settings

    settings = Settings()
    if variant == "botocore-presign":
        install_botocore_presign()
    elif variant == "presign-window":
        install_presign_window(settings.s3_presign_ttl_seconds // 3)
    app = create_app(settings)
    statements = {"count": 0}
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(application: Any) -> AsyncIterator[None]:
        async with inner(application):

            def count(*_: Any) -> None:
                statements["count"] += 1

            event.listen(application.state.engine.sync_engine, "before_cursor_execute", count)
            yield

    app.router.lifespan_context = lifespan

    async def sql_statements() -> dict[str, int]:
        return statements

    app.add_api_route(SQL_COUNT_PATH, sql_statements, include_in_schema=False)
    app.router.routes.insert(0, app.router.routes.pop())  # ahead of any catch-all mount (the SPA)

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def serve_bare(port: int, body_file: str) -> None:
    """A bare FastAPI app: one route answering the captured JSON bytes from memory."""
    import uvicorn
    from fastapi import FastAPI, Response

    body = Path(body_file).read_bytes()
    app = FastAPI()

    @app.get("/bare/")
    async def bare() -> Response:
        return Response(content=body, media_type="application/json")

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


@contextlib.contextmanager
def server(args: list[str], env: dict[str, str], log: Path) -> Iterator[str]:
    from devstack.services import free_port, port_open, wait_until

    port = free_port()
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), *args[:1], str(port), *args[1:]],
            env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_until(lambda: port_open(port), f"server {args[0]}", timeout=60, proc=proc)
        url = f"http://127.0.0.1:{port}"
        SERVER_PIDS[url] = proc.pid
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


# --- data ----------------------------------------------------------------------------------------------------


async def make_owner(base_url: str) -> dict[str, str]:
    email = f"bench-{secrets.token_hex(6)}@example.com"
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        registered = await http.post(
            "/api/auth/register/", json={"email": email, "password": PASSWORD, "display_name": "Bench"}
        )
        registered.raise_for_status()
        login = await http.post("/api/auth/login/", json={"email": email, "password": PASSWORD})
        login.raise_for_status()
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


async def make_project(base_url: str, headers: dict[str, str], name: str) -> int:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        response = await http.post("/api/projects/", json={"name": name}, headers=headers)
        response.raise_for_status()
        return int(response.json()["id"])


def fill_project(database_url: str, project_id: int, boxes: int, assets_per_box: int) -> list[int]:
    """Boxes and COMPLETED image assets by SQL (file and thumbnail keys set, so URLs are presigned); return box ids."""
    import psycopg

    url = database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        model_id = cur.execute(
            "SELECT id FROM ai_model WHERE provider_model_id = 'google/nano-banana'"
        ).fetchone()
        assert model_id is not None, "the seeded catalogue is missing"
        box_ids = [
            row[0]
            for row in cur.execute(
                "INSERT INTO box (project_id, position, title, notes) "
                "SELECT %s, g, 'Shot ' || g, 'Notes for shot ' || g FROM generate_series(1, %s) AS g RETURNING id",
                (project_id, boxes),
            ).fetchall()
        ]
        cur.execute(
            "INSERT INTO asset (box_id, kind, status, prompt, model_id, params, input_asset_ids, mime_type, "
            "size_bytes, width, height, cost_credits, is_favorite) "
            "SELECT b, 'image', 'COMPLETED', 'A red fox at dawn, variant ' || n, %s, "
            '\'{"aspect_ratio": "16:9", "output_format": "png"}\'::jsonb, \'[]\'::jsonb, \'image/png\', '
            "1048576, 1344, 768, 4.0, n = 1 "
            "FROM unnest(%s::int[]) AS b, generate_series(1, %s) AS n",
            (model_id[0], box_ids, assets_per_box),
        )
        cur.execute(
            "UPDATE asset SET file_key = 'assets/' || id || '/original.png', "
            "thumbnail_key = 'assets/' || id || '/thumbnail.jpg' WHERE box_id = ANY(%s)",
            (box_ids,),
        )
        cur.execute(
            "UPDATE box SET headliner_id = first.id FROM "
            "(SELECT box_id, min(id) AS id FROM asset WHERE box_id = ANY(%s) GROUP BY box_id) AS first "
            "WHERE box.id = first.box_id",
            (box_ids,),
        )
        cur.execute("ANALYZE box; ANALYZE asset")
        conn.commit()
    return box_ids


# --- measurement ---------------------------------------------------------------------------------------------


def without_urls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: without_urls(v) for k, v in value.items() if k not in ("file_url", "thumbnail_url")}
    if isinstance(value, list):
        return [without_urls(v) for v in value]
    return value


@dataclass
class Result:
    name: str
    latencies_ms: list[float]
    seconds: float
    statuses: set[int]
    cpu_ms_per_request: float

    @property
    def rps(self) -> float:
        return len(self.latencies_ms) / self.seconds

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]

    def line(self) -> str:
        return (
            f"{self.name:<44} p50 {self.percentile(0.5):7.1f} ms   p95 {self.percentile(0.95):7.1f} ms   "
            f"max {max(self.latencies_ms):7.1f} ms   {self.rps:6.1f} req/s   "
            f"server CPU {self.cpu_ms_per_request:6.2f} ms/req   status {sorted(self.statuses)}"
        )


async def load(
    name: str, base_url: str, paths: list[str], headers: dict[str, str], requests: int, concurrency: int
) -> Result:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base_url, headers=headers, limits=limits, timeout=60) as http:
        for path in paths[: concurrency * 2]:  # warm-up: connections, caches, first-use imports
            (await http.get(path)).raise_for_status()
        latencies: list[float] = []
        statuses: set[int] = set()
        next_index = 0

        async def worker() -> None:
            nonlocal next_index
            while next_index < requests:
                path = paths[next_index % len(paths)]
                next_index += 1
                started = time.perf_counter()
                response = await http.get(path)
                latencies.append((time.perf_counter() - started) * 1000)
                statuses.add(response.status_code)

        process = psutil.Process(SERVER_PIDS[base_url])
        cpu_before = sum(process.cpu_times()[:2])
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        seconds = time.perf_counter() - started
        cpu_ms = (sum(process.cpu_times()[:2]) - cpu_before) * 1000 / len(latencies)
    return Result(name, latencies, seconds, statuses, cpu_ms)


async def statements_per_request(base_url: str, path: str, headers: dict[str, str], repeat: int = 5) -> float:
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=30) as http:
        (await http.get(path)).raise_for_status()
        before = (await http.get(SQL_COUNT_PATH)).json()["count"]
        for _ in range(repeat):
            (await http.get(path)).raise_for_status()
        after = (await http.get(SQL_COUNT_PATH)).json()["count"]
    return float(after - before) / repeat


async def run(requests: int, concurrency: int, keep: Path | None, variants: list[str]) -> None:
    from devstack.stack import migrate, start_stack

    base = keep or Path(tempfile.mkdtemp(prefix="aiam-bench-board-"))
    print(f"starting PostgreSQL, Redis, S3 and Temporal under {base} …", flush=True)
    started = time.perf_counter()
    stack = start_stack(base, fixed_ports=False, database_name="aiam_bench", bucket="aiam-bench", environ={})
    try:
        migrate(stack.env["DATABASE_URL"])
        env = {
            **stack.env,
            "ENVIRONMENT": "test",
            "JWT_SECRET": secrets.token_urlsafe(32),
            "TEMPORAL_TASK_QUEUE": "aiam-bench",
        }
        print(f"services ready and migrated in {time.perf_counter() - started:.1f} s", flush=True)
        with server(["serve-app"], env, base / "app.log") as app_url:
            headers = await make_owner(app_url)
            big = await make_project(app_url, headers, "Board 100x20")
            small = await make_project(app_url, headers, "Board 10x2")
        big_boxes = fill_project(stack.env["DATABASE_URL"], big, 100, 20)
        small_boxes = fill_project(stack.env["DATABASE_URL"], small, 10, 2)
        board_path = f"/api/projects/{big}/boxes/?limit=100"
        asset_paths = [f"/api/boxes/{box}/assets/?limit=20" for box in big_boxes]
        sql_paths = {
            "boxes 100x20": board_path,
            "boxes 10x2": f"/api/projects/{small}/boxes/?limit=100",
            "assets 100x20": asset_paths[0],
            "assets 10x2": f"/api/boxes/{small_boxes[0]}/assets/?limit=20",
        }
        presign_check = check_presigner(env)

        results: dict[str, tuple[Result, Result]] = {}
        reference_pages: tuple[Any, Any] | None = None
        sql: dict[str, dict[str, float]] = {}
        for variant in variants:
            with server(["serve-app", variant], env, base / f"app-{variant}.log") as app_url:
                async with httpx.AsyncClient(base_url=app_url, headers=headers, timeout=30) as http:
                    board = await http.get(board_path)
                    board.raise_for_status()
                    one_box = await http.get(asset_paths[0])
                    one_box.raise_for_status()
                page = board.json()
                assert page["total"] == 100 and len(page["items"]) == 100
                assert all(item["headliner"]["status"] == "COMPLETED" for item in page["items"])
                assert all(item["headliner"]["thumbnail_url"] for item in page["items"])
                assert one_box.json()["total"] == 20 and len(one_box.json()["items"]) == 20
                # Every variant answers the same pages (presigned URLs aside: they carry a timestamp).
                pages = (without_urls(page), without_urls(one_box.json()))
                reference_pages = reference_pages or pages
                assert pages == reference_pages, f"{variant} answers different pages than {variants[0]}"
                sql[variant] = {
                    name: await statements_per_request(app_url, path, headers)
                    for name, path in sql_paths.items()
                }
                print(f"measuring the app ({variant}) …", flush=True)
                results[variant] = (
                    await load(
                        f"boxes ?limit=100 ({variant})", app_url, [board_path], headers, requests, concurrency
                    ),
                    await load(
                        f"assets ?limit=20 ({variant})", app_url, asset_paths, headers, requests, concurrency
                    ),
                )

        board_file, assets_file = base / "board.json", base / "assets.json"
        board_file.write_bytes(board.content)
        assets_file.write_bytes(one_box.content)
        print(
            f"board page {len(board.content) / 1024:.0f} KiB, assets page {len(one_box.content) / 1024:.0f} KiB; "
            "measuring the bare endpoint …",
            flush=True,
        )
        with server(["serve-bare", str(board_file)], {}, base / "bare.log") as bare_url:
            bare_board = await load("bare, same board JSON", bare_url, ["/bare/"], {}, requests, concurrency)
        with server(["serve-bare", str(assets_file)], {}, base / "bare.log") as bare_url:
            bare_assets = await load(
                "bare, same assets JSON", bare_url, ["/bare/"], {}, requests, concurrency
            )
    finally:
        stack.stop()
        if keep is None:
            shutil.rmtree(base, ignore_errors=True)

    print()
    print(
        f"{requests} requests each, concurrency {concurrency}, Uvicorn (1 process) in a subprocess, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}"
    )
    for variant in variants:
        print(results[variant][0].line())
    print(bare_board.line())
    for variant in variants:
        print(results[variant][1].line())
    print(bare_assets.line())
    print()
    print("SQL statements per request (the same for 100 x 20 and 10 x 2 = no N+1):")
    for variant in variants:
        counts = sql[variant]
        print(
            f"  {variant:<16} boxes: {counts['boxes 100x20']:.0f} (100 x 20) / {counts['boxes 10x2']:.0f} (10 x 2);"
            f"  assets: {counts['assets 100x20']:.0f} (box of 20) / {counts['assets 10x2']:.0f} (box of 2)"
        )
    if presign_check:
        print()
        print(presign_check)
    print()
    print(
        f"Targets (printed, not asserted): p95 <= {TARGET_P95_MS:.0f} ms, >= {TARGET_RPS_SHARE:.0%} of bare req/s"
    )
    summary: dict[str, Any] = {"sql_statements_per_request": sql}
    for variant in variants:
        for result, bare in zip(results[variant], (bare_board, bare_assets), strict=True):
            p95, share = result.percentile(0.95), result.rps / bare.rps
            print(
                f"  {result.name:<34} p95 {p95:7.1f} ms {'met' if p95 <= TARGET_P95_MS else 'MISSED':<6}  "
                f"{share:6.1%} of bare {'met' if share >= TARGET_RPS_SHARE else 'MISSED'}  "
                f"(by server CPU per request, which load on the machine does not skew: "
                f"{bare.cpu_ms_per_request / result.cpu_ms_per_request:6.1%})"
            )
            summary[result.name] = {
                "p50_ms": round(result.percentile(0.5), 1),
                "p95_ms": round(p95, 1),
                "max_ms": round(max(result.latencies_ms), 1),
                "rps": round(result.rps, 1),
                "bare_rps": round(bare.rps, 1),
                "server_cpu_ms_per_request": round(result.cpu_ms_per_request, 2),
                "bare_server_cpu_ms_per_request": round(bare.cpu_ms_per_request, 2),
                "share_of_bare": round(share, 3),
            }
    print(json.dumps(summary))


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "serve-app":
        serve_app(int(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else "current")
        return
    if len(sys.argv) > 3 and sys.argv[1] == "serve-bare":
        serve_bare(int(sys.argv[2]), sys.argv[3])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument(
        "--keep", type=Path, help="use (and keep) this data directory instead of a temporary one"
    )
    parser.add_argument(
        "--variants",
        default=",".join(VARIANTS),
        help="app variants: current (as committed: QueryPresigner and one-statement pages built in), "
        "botocore-presign (current, but URLs presigned by botocore as before QueryPresigner), "
        "presign-window (proposal, not built in: current with URLs signed per ttl/3 window and memoised)",
    )
    args = parser.parse_args()
    variants = [v for v in args.variants.split(",") if v]
    assert variants and set(variants) <= set(VARIANTS), f"variants: {', '.join(VARIANTS)}"
    asyncio.run(run(args.requests, args.concurrency, args.keep, variants))


if __name__ == "__main__":
    main()
