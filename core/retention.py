"""Retention: which assets the nightly run purges, purging them page by page, the preview, and the schedule.

An asset is purged when it is older than SystemConfig.retention_days and nothing protects it. Protected are:
favourites; a box's headliner; the video a live review link shows (`core.sharing.shown_videos_sql`, links live at
the run's clock); assets whose workflow still runs (PENDING/RUNNING); the source image of a video that is itself
protected; the input images of a running generation. Stuck PENDING/RUNNING rows are failed by `core.reconcile`.

Crash safety: a page's rows are deleted in one transaction that re-checks every protection rule under row locks
and, in the same transaction, queues the rows' S3 keys in `pending_object_deletion`. The objects are deleted after
the commit and the queue entries after that. A crash at any point leaves either untouched rows (retried by the
next run) or queued keys without rows (drained by the next run): never a visible row whose object is gone.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncConnection, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.client import Client

from core.contract import AssetKind, AssetStatus, PurgePageResult, QueuedRange
from core.db import session_scope
from core.models import SystemConfig
from core.settings import Settings
from core.sharing import shown_videos_sql
from core.storage import MAX_DELETE_BATCH, Storage
from core.temporal import upsert_retention_schedule

DEFAULT_RETENTION_DAYS = 10
DEFAULT_RETENTION_HOUR_UTC = 3
S3_PARALLEL_REQUESTS = 4
"""DeleteObjects requests one activity keeps in flight (each ≤ 1000 keys)."""

# The protection rules, written once and used by the candidate query, the delete re-check and the preview.
# Each is the condition under which the rule does *not* keep `a` (the asset under test); an asset is purged when
# it is older than `:cutoff` and every rule lets it go. `:now` is the run's clock (review links live at `:now`).
# Set-wide rules use NOT IN over small sets (headliners, videos on live review links, inputs of running jobs) so
# PostgreSQL hashes each set once per statement instead of probing it per candidate; their subqueries never yield
# NULL.
KeptReason = Literal[
    "favourite",
    "generating",
    "headliner",
    "shown_on_review_link",
    "source_of_kept_video",
    "input_of_running_generation",
]
_LIVE_LINK_BOXES = (
    "EXISTS (SELECT 1 FROM shared_link l WHERE l.project_id = sb.project_id"
    " AND (l.expires_at IS NULL OR l.expires_at > :now))"
)
_SHOWN_ON_LIVE_LINKS = f"SELECT shown.video_id FROM ({shown_videos_sql(_LIVE_LINK_BOXES)}) shown"  # noqa: S608
_RULES: dict[KeptReason, str] = {
    "favourite": "a.is_favorite = false",
    "generating": "a.status NOT IN ('PENDING', 'RUNNING')",
    "headliner": "a.id NOT IN (SELECT hb.headliner_id FROM box hb WHERE hb.headliner_id IS NOT NULL)",
    "shown_on_review_link": f"a.id NOT IN ({_SHOWN_ON_LIVE_LINKS})",
    "source_of_kept_video": f"""NOT EXISTS (
        SELECT 1 FROM asset v
        WHERE v.source_asset_id = a.id
          AND (
            v.is_favorite
            OR v.status IN ('PENDING', 'RUNNING')
            OR v.id IN (SELECT vb.headliner_id FROM box vb WHERE vb.headliner_id IS NOT NULL)
            OR v.id IN ({_SHOWN_ON_LIVE_LINKS})
          )
    )""",  # noqa: S608 (constant fragments only)
    "input_of_running_generation": """a.id NOT IN (
        SELECT (input.value)::integer
        FROM asset g CROSS JOIN LATERAL jsonb_array_elements_text(g.input_asset_ids) AS input(value)
        WHERE g.status IN ('PENDING', 'RUNNING') AND jsonb_typeof(g.input_asset_ids) = 'array'
    )""",
}
KEPT_REASONS: dict[KeptReason, str] = {
    "favourite": "It is a favourite.",
    "generating": "It is still being generated.",
    "headliner": "It is the headliner of a shot.",
    "shown_on_review_link": "A live review link shows it (the newest video animated from a headliner).",
    "source_of_kept_video": "A kept video was animated from it.",
    "input_of_running_generation": "A generation still running uses it as an input image.",
}
_PURGEABLE = "a.created_at < :cutoff AND " + "\n    AND ".join(f"({rule})" for rule in _RULES.values())


def _with_rules(template: str) -> sa.TextClause:
    """Splice the (constant) protection rules into a query; values always travel as bound parameters."""
    return sa.text(template.replace("{purgeable}", _PURGEABLE))


_LOCK_PAGE = _with_rules(
    """
    SELECT a.id FROM asset a
    WHERE a.id > :after_id AND {purgeable}
    ORDER BY a.id
    LIMIT :limit
    FOR UPDATE OF a SKIP LOCKED
    """
)


def delete_and_queue_sql(condition: str) -> str:
    """One statement that deletes the assets `a` matching `condition` and queues their S3 keys in
    pending_object_deletion, so the keys queued are exactly those of the rows deleted. One result row per queued
    key (`asset_id`, `status`, `pending_id`, `key`; the last two NULL for an asset without files)."""
    return f"""
    WITH doomed AS (
        DELETE FROM asset a
        WHERE {condition}
        RETURNING a.id, a.status, a.file_key, a.thumbnail_key
    ),
    queued AS (
        INSERT INTO pending_object_deletion (asset_id, key, created_at, updated_at)
        SELECT d.id, k.key, now(), now()
        FROM doomed d CROSS JOIN LATERAL unnest(ARRAY[d.file_key, d.thumbnail_key]) AS k(key)
        WHERE k.key IS NOT NULL AND k.key <> ''
        RETURNING id, asset_id, key
    )
    SELECT d.id AS asset_id, d.status AS status, q.id AS pending_id, q.key AS key
    FROM doomed d LEFT JOIN queued q ON q.asset_id = d.id
    """  # noqa: S608 (the condition is a constant fragment; values travel as bound parameters)


# Runs in a fresh snapshot after the rows are locked, so a protection committed meanwhile (a favourite, a new
# headliner, a video animated from the image) is seen and the row stays.
_DELETE_PAGE = _with_rules(delete_and_queue_sql("a.id = ANY(:ids) AND {purgeable}"))

_PREVIEW_SCOPE = "FROM asset a JOIN box b ON b.id = a.box_id WHERE b.project_id = :project_id AND {purgeable}"
_PREVIEW_COUNT = _with_rules("SELECT count(*) " + _PREVIEW_SCOPE)
# Old enough to go, and kept: per rule, how many such assets it keeps (an asset kept twice counts under both).
_PREVIEW_KEPT = sa.text(
    "SELECT "  # noqa: S608 (constant fragments only)
    + ", ".join(f"count(*) FILTER (WHERE NOT ({rule})) AS {reason}" for reason, rule in _RULES.items())
    + " FROM asset a JOIN box b ON b.id = a.box_id WHERE b.project_id = :project_id AND a.created_at < :cutoff"
)
_PREVIEW_PAGE = _with_rules(
    "SELECT a.id, a.box_id, b.position, a.kind, a.status, a.prompt, a.created_at, a.thumbnail_key "
    + _PREVIEW_SCOPE
    + " ORDER BY a.created_at, a.id LIMIT :limit OFFSET :offset"
)


# --- configuration and clock -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetentionConfig:
    retention_days: int
    retention_hour_utc: int


async def load_retention_config(session: AsyncSession) -> RetentionConfig:
    config = await session.get(SystemConfig, 1)
    if config is None:
        return RetentionConfig(DEFAULT_RETENTION_DAYS, DEFAULT_RETENTION_HOUR_UTC)
    hour = config.retention_hour_utc if 0 <= config.retention_hour_utc <= 23 else DEFAULT_RETENTION_HOUR_UTC
    return RetentionConfig(max(1, config.retention_days), hour)


def retention_cutoff(now: datetime, retention_days: int) -> datetime:
    return _aware(now) - timedelta(days=retention_days)


def next_run_at(now: datetime, hour_utc: int) -> datetime:
    """The first daily run (at `hour_utc`:00 UTC) strictly after `now`."""
    now = _aware(now).astimezone(UTC)
    candidate = now.replace(hour=hour_utc, minute=0, second=0, microsecond=0)
    return candidate if candidate > now else candidate + timedelta(days=1)


def first_run_at_or_after(moment: datetime, hour_utc: int) -> datetime:
    """The daily run that purges an asset expiring at `moment` (it must be older than the cutoff at run time)."""
    return next_run_at(moment, hour_utc)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


# --- purging ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PendingObject:
    pending_id: int
    key: str


@dataclass(frozen=True)
class DeletedRows:
    asset_ids: list[int]
    pending: list[PendingObject]
    last_id: int | None
    done: bool


async def delete_purgeable_rows(
    connection: AsyncConnection, *, cutoff: datetime, now: datetime, after_id: int, limit: int
) -> DeletedRows:
    """Lock the next page of candidates (id > after_id), delete those still purgeable, queue their S3 keys.

    Runs inside the caller's transaction; nothing is visible to others until it commits.
    """
    locked = (
        (
            await connection.execute(
                _LOCK_PAGE, {"after_id": after_id, "cutoff": cutoff, "now": now, "limit": limit}
            )
        )
        .scalars()
        .all()
    )
    if not locked:
        return DeletedRows([], [], None, True)
    rows = (await connection.execute(_DELETE_PAGE, {"ids": list(locked), "cutoff": cutoff, "now": now})).all()
    asset_ids = sorted({row.asset_id for row in rows})
    pending = [PendingObject(row.pending_id, row.key) for row in rows if row.pending_id is not None]
    return DeletedRows(asset_ids, pending, max(locked), len(locked) < limit)


async def delete_pending_objects(
    sessionmaker: async_sessionmaker[AsyncSession], storage: Storage, pending: list[PendingObject]
) -> int:
    """Delete the objects from S3 (≤ 1000 keys per request, a few requests at once), then their queue entries.

    Safe to repeat: deleting a missing key succeeds, and a queue entry goes only after its object is gone.
    """
    batches = [
        pending[start : start + MAX_DELETE_BATCH] for start in range(0, len(pending), MAX_DELETE_BATCH)
    ]
    gate = asyncio.Semaphore(S3_PARALLEL_REQUESTS)

    async def delete_batch(batch: list[PendingObject]) -> None:
        async with gate:
            await asyncio.to_thread(storage.delete_keys, [item.key for item in batch])

    await asyncio.gather(*(delete_batch(batch) for batch in batches))
    if pending:
        async with session_scope(sessionmaker) as session:
            connection = await session.connection()
            await connection.execute(
                sa.text("DELETE FROM pending_object_deletion WHERE id = ANY(:ids)"),
                {"ids": [item.pending_id for item in pending]},
            )
    return len(pending)


async def purge_page_rows(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    cutoff: datetime,
    now: datetime,
    after_id: int,
    limit: int,
) -> PurgePageResult:
    """One page's rows, deleted and their keys queued in one transaction (the objects go in a later step)."""
    async with session_scope(sessionmaker) as session:
        deleted = await delete_purgeable_rows(
            await session.connection(), cutoff=cutoff, now=now, after_id=after_id, limit=limit
        )
    return PurgePageResult(
        assets_deleted=len(deleted.asset_ids),
        queued=(
            QueuedRange(
                first_id=min(item.pending_id for item in deleted.pending),
                last_id=max(item.pending_id for item in deleted.pending),
            )
            if deleted.pending
            else None
        ),
        last_id=deleted.last_id,
        done=deleted.done,
    )


async def delete_queued_objects(
    sessionmaker: async_sessionmaker[AsyncSession], storage: Storage, queued: QueuedRange
) -> int:
    """Delete the S3 objects of these queue entries (those still queued: a repeat finds fewer or none)."""
    async with sessionmaker() as session:
        connection = await session.connection()
        rows = (
            await connection.execute(
                sa.text(
                    "SELECT id, key FROM pending_object_deletion WHERE id BETWEEN :first AND :last ORDER BY id"
                ),
                {"first": queued.first_id, "last": queued.last_id},
            )
        ).all()
    return await delete_pending_objects(sessionmaker, storage, [PendingObject(r.id, r.key) for r in rows])


async def drain_pending_deletions(
    sessionmaker: async_sessionmaker[AsyncSession], storage: Storage, *, batch: int = 4 * MAX_DELETE_BATCH
) -> int:
    """Finish what an interrupted run left: objects whose rows are already gone."""
    total = 0
    after_id = 0
    while True:
        async with sessionmaker() as session:
            connection = await session.connection()
            rows = (
                await connection.execute(
                    sa.text(
                        "SELECT id, key FROM pending_object_deletion WHERE id > :after ORDER BY id LIMIT :limit"
                    ),
                    {"after": after_id, "limit": batch},
                )
            ).all()
        if not rows:
            return total
        total += await delete_pending_objects(
            sessionmaker, storage, [PendingObject(r.id, r.key) for r in rows]
        )
        after_id = rows[-1].id


# --- preview ---------------------------------------------------------------------------------------------------


class RetentionPreviewItemPublic(BaseModel):
    asset_id: int
    box_id: int
    box_position: int
    kind: AssetKind
    status: AssetStatus
    prompt: str
    created_at: datetime
    expires_at: datetime = Field(description="created_at + retention days")
    purge_at: datetime = Field(description="The scheduled run that deletes the asset unless it is kept")
    thumbnail_url: str | None


class RetentionKeptPublic(BaseModel):
    reason: KeptReason
    description: str
    count: int = Field(description="Assets old enough to be purged that this rule keeps")


class RetentionPreviewPublic(BaseModel):
    retention_days: int
    next_run_at: datetime
    items: list[RetentionPreviewItemPublic]
    kept: list[RetentionKeptPublic] = Field(
        description="Why the other assets old enough (in this scope) are kept, per rule; an asset kept by two "
        "rules counts under both"
    )
    total: int
    limit: int
    offset: int


async def preview_project(
    session: AsyncSession,
    storage: Storage,
    project_id: int,
    *,
    now: datetime,
    upcoming: bool,
    limit: int,
    offset: int,
) -> RetentionPreviewPublic:
    """What the next run would delete in this project (or, with `upcoming`, every unprotected asset and when)."""
    config = await load_retention_config(session)
    run_at = next_run_at(now, config.retention_hour_utc)
    cutoff = (
        retention_cutoff(run_at, config.retention_days) if not upcoming else datetime.max.replace(tzinfo=UTC)
    )
    # Review links are judged at the next run: one that expires before it no longer keeps anything then.
    params: dict[str, Any] = {
        "project_id": project_id,
        "cutoff": cutoff,
        "now": run_at,
        "limit": limit,
        "offset": offset,
    }
    connection = await session.connection()
    total = (await connection.execute(_PREVIEW_COUNT, params)).scalar_one()
    rows = (await connection.execute(_PREVIEW_PAGE, params)).all()
    kept = (await connection.execute(_PREVIEW_KEPT, params)).one()._mapping
    items = []
    for row in rows:
        expires_at = row.created_at + timedelta(days=config.retention_days)
        items.append(
            RetentionPreviewItemPublic(
                asset_id=row.id,
                box_id=row.box_id,
                box_position=row.position,
                kind=AssetKind(row.kind),
                status=AssetStatus(row.status),
                prompt=row.prompt,
                created_at=row.created_at,
                expires_at=expires_at,
                purge_at=max(run_at, first_run_at_or_after(expires_at, config.retention_hour_utc)),
                thumbnail_url=storage.presigned_get_url(row.thumbnail_key) if row.thumbnail_key else None,
            )
        )
    return RetentionPreviewPublic(
        retention_days=config.retention_days,
        next_run_at=run_at,
        items=items,
        kept=[
            RetentionKeptPublic(reason=reason, description=description, count=kept[reason])
            for reason, description in KEPT_REASONS.items()
        ],
        total=total,
        limit=limit,
        offset=offset,
    )


# --- Temporal: the schedule ------------------------------------------------------------------------------------


async def sync_retention_schedule(
    sessionmaker: async_sessionmaker[AsyncSession], client: Client, settings: Settings
) -> int:
    """Create or update the schedule at SystemConfig's hour; answer that hour. The worker runs this at start."""
    async with sessionmaker() as session:
        config = await load_retention_config(session)
    await upsert_retention_schedule(client, settings, config.retention_hour_utc)
    return config.retention_hour_utc
