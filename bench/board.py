"""Board benchmark: the two listings the board page calls, against real services, next to a bare endpoint.

Starts the embedded services (`bench.harness`), serves the real app as committed with Uvicorn in a subprocess, and
fills a project of 100 boxes x 20 COMPLETED assets (each box with a headliner) by SQL. Then, over 200 requests each
at a fixed concurrency:

- `GET /api/projects/{id}/boxes/?limit=100` and `GET /api/boxes/{id}/assets/?limit=20`: p50/p95/max, requests/s,
  and the server's CPU time per request;
- SQL statements per request (a `before_cursor_execute` listener on the app's engine), for that project and for
  one of 10 boxes x 2 assets, to show the count does not grow with the data;
- the same latency and rate for a bare FastAPI endpoint returning the same JSON bytes from memory, served the
  same way (Uvicorn in a subprocess), and the ratio;
- what a presigned URL costs (46 % of the board page is URLs).

Prints, never asserts. Targets: p95 <= 50 ms, >= 50 % of the bare endpoint's requests/s.

    PYTHONPATH=. .venv/bin/python bench/board.py [--requests 200] [--concurrency 8] [--keep DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.harness import (
    Server,
    app_env,
    create_project,
    embedded_services,
    machine,
    make_owner,
    percentile,
    serve,
    server,
    settings_of,
    timing_line,
)
from core.settings import Settings

TARGET_P95_MS = 50.0
TARGET_RPS_SHARE = 0.5
SQL_COUNT_PATH = "/__bench/sql-statements/"


def presigning(settings: Settings) -> str:
    """Against the real S3: a presigned URL downloads the object, a tampered one is refused; the cost per URL."""
    from core.storage import Storage

    storage = Storage(settings)
    storage.put_bytes("bench/presign check.txt", b"presigned", "text/plain")
    url = storage.presigned_get_url("bench/presign check.txt", 900)
    good = httpx.get(url)
    bad = httpx.get(url.replace("X-Amz-Expires=900", "X-Amz-Expires=901"))
    assert good.status_code == 200 and good.content == b"presigned", (good.status_code, good.text[:200])
    assert bad.status_code == 403, bad.status_code
    started = time.perf_counter()
    for index in range(1000):
        storage.presigned_get_url(f"assets/{index}/original.png", 900)
    per_url_us = (time.perf_counter() - started) * 1000
    return (
        f"presigned URLs: S3 accepts them (200) and refuses a tampered one (403); {per_url_us:.0f} us per URL"
    )


# --- servers (run in subprocesses: `python -m bench.board serve-app|serve-bare PORT`) ------------------------


def serve_app(port: int) -> None:
    """The real app from the environment's settings, plus a route that reports the SQL statements run so far."""
    from contextlib import asynccontextmanager

    from sqlalchemy import event

    from api.main import create_app

    app = create_app(Settings())
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
    serve(app, port)


def serve_bare(port: int, body_file: str) -> None:
    """A bare FastAPI app: one route answering the captured JSON bytes from memory."""
    from fastapi import FastAPI, Response

    body = Path(body_file).read_bytes()
    app = FastAPI()

    @app.get("/bare/")
    async def bare() -> Response:
        return Response(content=body, media_type="application/json")

    serve(app, port)


def board_server(log_dir: Path, env: dict[str, str], *args: str) -> contextlib.AbstractContextManager[Server]:
    """`python -m bench.board <args[0]> PORT <args[1:]>` as a server process."""
    return server(
        args[0],
        lambda port: [sys.executable, "-m", "bench.board", args[0], str(port), *args[1:]],
        env,
        log_dir,
        ready_path=SQL_COUNT_PATH if args[0] == "serve-app" else "/bare/",
    )


# --- data ----------------------------------------------------------------------------------------------------


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
                "INSERT INTO box (project_id, position, code, title, notes) "
                "SELECT %s, g, 'SH' || lpad((g * 10)::text, greatest(3, length((g * 10)::text)), '0'), "
                "'Shot ' || g, 'Notes for shot ' || g "
                "FROM generate_series(1, %s) AS g RETURNING id",
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


# --- measurement ---------------------------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    latencies: list[float]  # seconds
    seconds: float
    statuses: set[int]
    cpu_ms_per_request: float

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.seconds

    def line(self) -> str:
        return (
            f"{timing_line(self.name, self.latencies, width=24)}  {self.rps:6.1f} req/s  "
            f"server CPU {self.cpu_ms_per_request:6.2f} ms/req  status {sorted(self.statuses)}"
        )


async def load(
    name: str, target: Server, paths: list[str], headers: dict[str, str], requests: int, concurrency: int
) -> Result:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=target.url, headers=headers, limits=limits, timeout=60) as http:
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
                latencies.append(time.perf_counter() - started)
                statuses.add(response.status_code)

        cpu_before = target.cpu_seconds()
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        seconds = time.perf_counter() - started
        cpu_ms = (target.cpu_seconds() - cpu_before) * 1000 / len(latencies)
    return Result(name, latencies, seconds, statuses, cpu_ms)


async def statements_per_request(base_url: str, path: str, headers: dict[str, str], repeat: int = 5) -> float:
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=30) as http:
        (await http.get(path)).raise_for_status()
        before = (await http.get(SQL_COUNT_PATH)).json()["count"]
        for _ in range(repeat):
            (await http.get(path)).raise_for_status()
        after = (await http.get(SQL_COUNT_PATH)).json()["count"]
    return float(after - before) / repeat


async def run(requests: int, concurrency: int, keep: Path | None) -> None:
    with embedded_services("board", keep=keep) as stack:
        env = app_env(stack)
        logs = stack.data_dir / "logs"
        with board_server(logs, env, "serve-app") as app:
            async with httpx.AsyncClient(base_url=app.url, timeout=30) as http:
                headers = await make_owner(http)
                big = await create_project(http, headers, "Board 100x20")
                small = await create_project(http, headers, "Board 10x2")
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
            async with httpx.AsyncClient(base_url=app.url, headers=headers, timeout=30) as http:
                board = await http.get(board_path)
                board.raise_for_status()
                one_box = await http.get(asset_paths[0])
                one_box.raise_for_status()
            page = board.json()
            assert page["total"] == 100 and len(page["items"]) == 100
            assert all(item["headliner"]["status"] == "COMPLETED" for item in page["items"])
            assert all(item["headliner"]["thumbnail_url"] for item in page["items"])
            assert one_box.json()["total"] == 20 and len(one_box.json()["items"]) == 20
            sql = {
                name: await statements_per_request(app.url, path, headers) for name, path in sql_paths.items()
            }
            print("measuring the app …", flush=True)
            app_board = await load("boxes ?limit=100", app, [board_path], headers, requests, concurrency)
            app_assets = await load("assets ?limit=20", app, asset_paths, headers, requests, concurrency)
        presign = presigning(settings_of(env))

        board_file, assets_file = stack.data_dir / "board.json", stack.data_dir / "assets.json"
        board_file.write_bytes(board.content)
        assets_file.write_bytes(one_box.content)
        print(
            f"board page {len(board.content) / 1024:.0f} KiB, assets page {len(one_box.content) / 1024:.0f} KiB; "
            "measuring the bare endpoint …",
            flush=True,
        )
        with board_server(logs, {}, "serve-bare", str(board_file)) as bare:
            bare_board = await load("bare, same board JSON", bare, ["/bare/"], {}, requests, concurrency)
        with board_server(logs, {}, "serve-bare", str(assets_file)) as bare:
            bare_assets = await load("bare, same assets JSON", bare, ["/bare/"], {}, requests, concurrency)

    print()
    print(
        f"{requests} requests each, concurrency {concurrency}, Uvicorn (1 process) in a subprocess, {machine()}"
    )
    for result in (app_board, bare_board, app_assets, bare_assets):
        print(result.line())
    print()
    print(
        "SQL statements per request (the same for 100 x 20 and 10 x 2 = no N+1): "
        f"boxes: {sql['boxes 100x20']:.0f} (100 x 20) / {sql['boxes 10x2']:.0f} (10 x 2);"
        f"  assets: {sql['assets 100x20']:.0f} (box of 20) / {sql['assets 10x2']:.0f} (box of 2)"
    )
    print(presign)
    print()
    print(
        f"Targets (printed, not asserted): p95 <= {TARGET_P95_MS:.0f} ms, >= {TARGET_RPS_SHARE:.0%} of bare req/s"
    )
    summary: dict[str, Any] = {"sql_statements_per_request": sql}
    for result, bare_result in ((app_board, bare_board), (app_assets, bare_assets)):
        p95 = percentile(result.latencies, 0.95) * 1000
        share = result.rps / bare_result.rps
        print(
            f"  {result.name:<24} p95 {p95:7.1f} ms {'met' if p95 <= TARGET_P95_MS else 'MISSED':<6}  "
            f"{share:6.1%} of bare {'met' if share >= TARGET_RPS_SHARE else 'MISSED'}  "
            f"(by server CPU per request, which load on the machine does not skew: "
            f"{bare_result.cpu_ms_per_request / result.cpu_ms_per_request:6.1%})"
        )
        summary[result.name] = {
            "p50_ms": round(percentile(result.latencies, 0.5) * 1000, 1),
            "p95_ms": round(p95, 1),
            "max_ms": round(max(result.latencies) * 1000, 1),
            "rps": round(result.rps, 1),
            "bare_rps": round(bare_result.rps, 1),
            "server_cpu_ms_per_request": round(result.cpu_ms_per_request, 2),
            "bare_server_cpu_ms_per_request": round(bare_result.cpu_ms_per_request, 2),
            "share_of_bare": round(share, 3),
        }
    print(json.dumps(summary))


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "serve-app":
        serve_app(int(sys.argv[2]))
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
    args = parser.parse_args()
    asyncio.run(run(args.requests, args.concurrency, args.keep))


if __name__ == "__main__":
    main()
