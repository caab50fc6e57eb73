"""Retention benchmark: purge 100 000 expired assets that sit among 20 000 protected ones.

Starts the embedded services (`bench.harness`: PostgreSQL, Redis, S3 (SeaweedFS), the Temporal dev server) and fills one project by COPY: `--boxes` boxes, `--expired` expired unprotected assets and `--protected` protected
ones, shuffled by id so every page mixes both. The protected ones cover every rule: favourites, one headliner per
box, assets younger than the retention period, RUNNING/PENDING assets, and source images of favourite videos
(the videos themselves are favourites, counted in the protected total).

S3: every asset row carries a file key and a thumbnail key, but only a sample has real objects
(`--real-objects` expired assets and a tenth as many protected ones, two objects each); uploading 240 000 objects
to SeaweedFS is the slow part of the set-up, not of the purge, and deleting a missing key is a no-op in S3. The
upload rate is printed so the cost of real objects for all rows can be extrapolated.

Then it runs RetentionWorkflow once on an in-process worker (real activities, real Temporal) and prints: the
purge's wall time, rows/s, pages, S3 delete requests, the worker process's peak RSS during the purge (sampled
every 20 ms), and the checks: every protected row and sampled object still there, every expired row and sampled
object gone, no queued deletion left. Prints, never asserts. Target: <= 60 s.

    PYTHONPATH=. .venv/bin/python bench/retention.py [--expired 100000] [--protected 20000] [--boxes 2400]
        [--page-size 1000] [--real-objects 2000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import random
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from bench.harness import PeakRss, app_env, embedded_services, settings_of

TARGET_SECONDS = 60.0
RETENTION_DAYS = 10


@dataclass
class Fill:
    expired_ids: list[int] = field(default_factory=list)
    protected_ids: list[int] = field(default_factory=list)
    running_ids: set[int] = field(default_factory=set)
    sampled_expired: list[int] = field(default_factory=list)
    sampled_protected: list[int] = field(default_factory=list)
    by_rule: dict[str, int] = field(default_factory=dict)


def plain_url(database_url: str) -> str:
    return database_url.replace("postgresql+psycopg://", "postgresql://", 1)


def file_key(asset_id: int) -> str:
    from core.storage import asset_file_key

    return asset_file_key(asset_id, "png")


def thumb_key(asset_id: int) -> str:
    from core.storage import asset_thumbnail_key

    return asset_thumbnail_key(asset_id)


def fill_database(database_url: str, args: argparse.Namespace, now: datetime) -> Fill:
    """Insert the user, project, boxes and assets with COPY; roles are shuffled across ids."""
    rng = random.Random(6)
    protected = args.protected
    # Split the protected share across the rules (sources and their favourite videos count twice).
    headliners = args.boxes
    sources = protected // 10
    videos = sources
    fresh = protected // 5
    running = protected // 10
    favourites = protected - headliners - sources - videos - fresh - running
    roles = (
        ["expired"] * args.expired
        + ["favourite"] * favourites
        + ["headliner"] * headliners
        + ["fresh"] * fresh
        + ["running"] * running
        + ["source"] * sources
    )
    rng.shuffle(roles)
    fill = Fill(
        by_rule={
            "favourite": favourites,
            "headliner": headliners,
            "younger than the retention period": fresh,
            "RUNNING/PENDING": running,
            "source image of a favourite video": sources,
            "favourite video": videos,
        }
    )
    old = now - timedelta(days=RETENTION_DAYS + 5)
    young = now - timedelta(days=RETENTION_DAYS - 3)
    with psycopg.connect(plain_url(database_url), autocommit=False) as conn, conn.cursor() as cur:
        cur.execute(
            "INSERT INTO user_account (email, password_hash, display_name) VALUES (%s, 'x', 'Bench') RETURNING id",
            (f"bench-{uuid.uuid4().hex[:8]}@example.com",),
        )
        user_id = cur.fetchone()[0]  # type: ignore[index]
        cur.execute(
            "INSERT INTO studio (name, created_by_id) VALUES ('Bench studio', %s) RETURNING id", (user_id,)
        )
        studio_id = cur.fetchone()[0]  # type: ignore[index]
        cur.execute(
            "INSERT INTO project (studio_id, created_by_id, name, description) "
            "VALUES (%s, %s, 'Retention bench', '') RETURNING id",
            (studio_id, user_id),
        )
        project_id = cur.fetchone()[0]  # type: ignore[index]
        with cur.copy("COPY box (project_id, position, title, notes) FROM STDIN") as copy:
            for position in range(1, args.boxes + 1):
                copy.write_row((project_id, position, f"Shot {position}", ""))
        cur.execute("SELECT id FROM box WHERE project_id = %s ORDER BY position", (project_id,))
        box_ids = [row[0] for row in cur.fetchall()]
        cur.execute("SELECT id FROM ai_model WHERE provider_model_id = 'google/nano-banana'")
        image_model = cur.fetchone()[0]  # type: ignore[index]
        cur.execute("SELECT id FROM ai_model WHERE provider_model_id = 'bytedance/seedance-1.5-pro'")
        video_model = cur.fetchone()[0]  # type: ignore[index]
        cur.execute("SELECT coalesce(max(id), 0) FROM asset")
        next_id = cur.fetchone()[0] + 1  # type: ignore[index]

        headliner_of: dict[int, int] = {}
        rows: list[tuple[Any, ...]] = []
        for index, role in enumerate(roles):
            asset_id = next_id
            next_id += 1
            box_id = box_ids[index % len(box_ids)]
            if role == "headliner":
                box_id = box_ids[len(headliner_of)]
                headliner_of[box_id] = asset_id
            status = "COMPLETED"
            if role == "running":
                status = "RUNNING" if asset_id % 2 else "PENDING"
            created = young if role == "fresh" else old
            keys = (None, None) if role == "running" else (file_key(asset_id), thumb_key(asset_id))
            rows.append(
                (
                    asset_id,
                    box_id,
                    "image",
                    status,
                    "bench prompt",
                    image_model,
                    None,
                    *keys,
                    role == "favourite",
                    created,
                )
            )
            if role == "running":
                fill.running_ids.add(asset_id)
            if role == "expired":
                fill.expired_ids.append(asset_id)
            else:
                fill.protected_ids.append(asset_id)
            if role == "source":
                video_id = next_id
                next_id += 1
                rows.append(
                    (
                        video_id,
                        box_id,
                        "video",
                        "COMPLETED",
                        "bench video",
                        video_model,
                        asset_id,
                        file_key(video_id),
                        thumb_key(video_id),
                        True,
                        old,
                    )
                )
                fill.protected_ids.append(video_id)
        columns = (
            "id, box_id, kind, status, prompt, model_id, source_asset_id, file_key, thumbnail_key, "
            "is_favorite, created_at"
        )
        with cur.copy(f"COPY asset ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cur.execute("SELECT setval(pg_get_serial_sequence('asset', 'id'), %s)", (next_id,))
        cur.executemany(
            "UPDATE box SET headliner_id = %s WHERE id = %s",
            [(asset_id, box_id) for box_id, asset_id in headliner_of.items()],
        )
        cur.execute("UPDATE system_config SET retention_days = %s WHERE id = 1", (RETENTION_DAYS,))
        conn.commit()
        cur.execute("ANALYZE")
    sample = random.Random(7)
    fill.sampled_expired = sample.sample(fill.expired_ids, min(args.real_objects, len(fill.expired_ids)))
    with_files = [i for i in fill.protected_ids if i not in fill.running_ids]
    fill.sampled_protected = sample.sample(with_files, min(max(1, args.real_objects // 10), len(with_files)))
    return fill


def upload_sample(storage: Any, fill: Fill, database_url: str) -> tuple[int, float]:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "orange").save(buffer, format="PNG")
    data = buffer.getvalue()
    with psycopg.connect(plain_url(database_url)) as conn:
        keys = [
            key
            for row in conn.execute(
                "SELECT file_key, thumbnail_key FROM asset WHERE id = ANY(%s)",
                (fill.sampled_expired + fill.sampled_protected,),
            )
            for key in row
            if key
        ]
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda key: storage.put_bytes(key, data, "image/png"), keys))
    return len(keys), time.perf_counter() - started


async def run_purge(
    env: dict[str, str], now: datetime, page_size: int
) -> tuple[Any, float, PeakRss, dict[str, Any]]:
    from temporalio.worker import Worker

    from activities.retention import RetentionActivities
    from core.contract import RetentionInput
    from core.db import create_engine, create_sessionmaker
    from core.storage import Storage
    from core.temporal import connect_temporal
    from workflows.retention import RetentionWorkflow

    settings = settings_of(env)
    engine = create_engine(settings)
    storage = Storage(settings)
    from core import retention

    stats = {"delete_requests": 0, "s3_seconds": 0.0, "db_seconds": 0.0}
    original_delete = storage._client.delete_objects
    original_rows = retention.purge_page_rows

    def timed_delete(**kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return original_delete(**kwargs)
        finally:
            stats["delete_requests"] += 1
            stats["s3_seconds"] += time.perf_counter() - started

    async def timed_rows(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return await original_rows(*args, **kwargs)
        finally:
            stats["db_seconds"] += time.perf_counter() - started

    storage._client.delete_objects = timed_delete
    retention.purge_page_rows = timed_rows
    activities = RetentionActivities(create_sessionmaker(engine), storage)
    client = await connect_temporal(settings)
    queue = f"retention-bench-{uuid.uuid4().hex[:6]}"
    try:
        async with Worker(
            client,
            task_queue=queue,
            workflows=[RetentionWorkflow],
            activities=[
                activities.plan_retention_run,
                activities.drain_pending_deletions,
                activities.purge_retention_page,
                activities.delete_purged_objects,
            ],
        ):
            with PeakRss(interval=0.02) as rss:
                started = time.perf_counter()
                result = await client.execute_workflow(
                    RetentionWorkflow.run,
                    RetentionInput(now=now, page_size=page_size),
                    id=f"retention-bench-{uuid.uuid4().hex[:6]}",
                    task_queue=queue,
                )
                elapsed = time.perf_counter() - started
    finally:
        await engine.dispose()
    return result, elapsed, rss, stats


def verify(database_url: str, storage: Any, fill: Fill) -> dict[str, Any]:
    with psycopg.connect(plain_url(database_url)) as conn:
        protected_rows = conn.execute(
            "SELECT count(*) FROM asset WHERE id = ANY(%s)", (fill.protected_ids,)
        ).fetchone()[0]  # type: ignore[index]
        expired_rows = conn.execute(
            "SELECT count(*) FROM asset WHERE id = ANY(%s)", (fill.expired_ids,)
        ).fetchone()[0]  # type: ignore[index]
        headliners = conn.execute("SELECT count(*) FROM box WHERE headliner_id IS NOT NULL").fetchone()[0]  # type: ignore[index]
        queued = conn.execute("SELECT count(*) FROM pending_object_deletion").fetchone()[0]  # type: ignore[index]
        sources_linked = conn.execute(
            "SELECT count(*) FROM asset WHERE kind = 'video' AND source_asset_id IS NOT NULL"
        ).fetchone()[0]  # type: ignore[index]
    protected_objects = sum(
        storage.exists(file_key(i)) and storage.exists(thumb_key(i)) for i in fill.sampled_protected
    )
    expired_objects = sum(
        storage.exists(file_key(i)) or storage.exists(thumb_key(i)) for i in fill.sampled_expired
    )
    return {
        "protected_rows": protected_rows,
        "expired_rows_left": expired_rows,
        "headliners": headliners,
        "videos_still_linked_to_source": sources_linked,
        "queued_deletions_left": queued,
        "protected_sampled_objects_present": protected_objects,
        "expired_sampled_objects_left": expired_objects,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--expired", type=int, default=100_000)
    parser.add_argument("--protected", type=int, default=20_000)
    parser.add_argument("--boxes", type=int, default=2_400)
    parser.add_argument("--page-size", type=int, default=1_000)
    parser.add_argument("--real-objects", type=int, default=2_000)
    parser.add_argument(
        "--keep", type=Path, help="use (and keep) this data directory instead of a temporary one"
    )
    args = parser.parse_args()

    from core.storage import Storage

    with embedded_services("retention", keep=args.keep) as stack:
        env = app_env(stack)
        storage = Storage(settings_of(env))
        now = datetime.now(UTC)

        started = time.perf_counter()
        fill = fill_database(env["DATABASE_URL"], args, now)
        fill_seconds = time.perf_counter() - started
        uploaded, upload_seconds = upload_sample(storage, fill, env["DATABASE_URL"])

        result, elapsed, rss, stats = asyncio.run(run_purge(env, now, args.page_size))
        delete_requests = stats["delete_requests"]
        checks = verify(env["DATABASE_URL"], storage, fill)

        total = len(fill.expired_ids) + len(fill.protected_ids)
        print()
        print("retention bench")
        print(
            f"  rows: {total} assets in {args.boxes} boxes: {len(fill.expired_ids)} expired and unprotected, "
            f"{len(fill.protected_ids)} protected"
        )
        for rule, count in fill.by_rule.items():
            print(f"    protected by {rule}: {count}")
        print(
            f"  set-up: COPY of all rows {fill_seconds:.1f} s; {uploaded} real S3 objects uploaded in "
            f"{upload_seconds:.1f} s ({uploaded / upload_seconds:.0f} objects/s; all "
            f"{2 * total} would take ~{2 * total / (uploaded / upload_seconds):.0f} s)"
        )
        print(
            f"  purge: {elapsed:.1f} s wall (target <= {TARGET_SECONDS:.0f} s), "
            f"{result.totals.assets_deleted / elapsed:.0f} assets/s, {result.totals.pages} pages of "
            f"{args.page_size}, {result.totals.assets_deleted} assets and {result.totals.objects_deleted} "
            f"S3 keys deleted in {delete_requests} DeleteObjects requests (<= 1000 keys each)"
        )
        print(
            f"  where the time goes: row pages (SQL, sequential) {stats['db_seconds']:.1f} s in total; "
            f"S3 DeleteObjects {stats['s3_seconds']:.1f} s of request time in total, overlapping the row pages "
            f"({result.totals.objects_deleted / max(stats['s3_seconds'], 1e-9):.0f} keys per request-second)"
        )
        print(
            f"  worker process RSS: baseline {rss.baseline / 2**20:.0f} MiB, peak during purge "
            f"{rss.peak / 2**20:.0f} MiB (+{(rss.peak - rss.baseline) / 2**20:.0f} MiB)"
        )
        print(
            f"  protected rows still present: {checks['protected_rows']} / {len(fill.protected_ids)} "
            f"(touched: {len(fill.protected_ids) - checks['protected_rows']}); boxes with a headliner: "
            f"{checks['headliners']} / {args.boxes}; favourite videos still linked to their source: "
            f"{checks['videos_still_linked_to_source']}"
        )
        print(
            f"  protected sampled objects present: {checks['protected_sampled_objects_present']} / "
            f"{len(fill.sampled_protected)} assets (file + thumbnail)"
        )
        print(
            f"  expired rows left: {checks['expired_rows_left']}; expired sampled objects left: "
            f"{checks['expired_sampled_objects_left']} / {len(fill.sampled_expired)}; queued deletions left: "
            f"{checks['queued_deletions_left']}"
        )


if __name__ == "__main__":
    main()
