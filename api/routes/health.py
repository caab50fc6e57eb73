"""Health: one line per dependency (the worker included), so an operator sees at once which one is down, and the
age of the oldest generation still waiting for a worker."""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import text

from api.deps import EngineDep, OutagesDep, RedisDep, SettingsDep, StorageDep, TemporalConnectionDep
from api.outages import OutageLog
from core.contract import task_queue
from core.temporal import check_health, last_worker_poll

router = APIRouter(prefix="/api/health", tags=["health"])
logger = logging.getLogger("api.health")

CHECK_TIMEOUT = 3.0

# One indexed query (ix_asset_status): PENDING rows are few. A PENDING row is not updated until a worker picks it
# up, so updated_at is when it became PENDING (created, or retried).
OLDEST_PENDING_SQL = text(
    "SELECT EXTRACT(EPOCH FROM clock_timestamp() - min(updated_at)) FROM asset WHERE status = 'PENDING'"
)


# The report is public (a load balancer or uptime probe calls it without a token): a failed check says which
# dependency failed in our words; the exception (hosts, ports, driver messages) goes to the log only.
CHECK_NAMES = {
    "database": "The database",
    "redis": "Redis",
    "temporal": "Temporal",
    "s3": "The file store (S3)",
    "worker": "The worker check",
}


class CheckFailed(Exception):
    """A check's own sentence (no exception type in front of it, nothing internal in it)."""


async def _timed(
    name: str, check: Callable[[], Awaitable[None]], outage: OutageLog | None = None
) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        await asyncio.wait_for(check(), CHECK_TIMEOUT)
    except CheckFailed as exc:
        return {"ok": False, "error": str(exc)[:300]}
    except Exception as exc:
        logger.warning("health check %s failed: %s: %s", name, type(exc).__name__, str(exc)[:500])
        return {"ok": False, "error": f"{CHECK_NAMES[name]} did not answer; the API log has the detail."}
    if outage is not None:
        outage.recovered()
    return {"ok": True, "latency_ms": round((time.perf_counter() - started) * 1000, 1)}


class HealthCheckPublic(BaseModel):
    ok: bool
    latency_ms: float | None = None
    error: str | None = None


class HealthPublic(BaseModel):
    status: Literal["ok", "degraded"]
    environment: str
    kie: Literal["simulated", "kie.ai"]
    checks: dict[str, HealthCheckPublic] = Field(
        description="database, redis, temporal, s3 and worker (a worker polled the generation task queue "
        "within WORKER_SEEN_WITHIN_SECONDS)"
    )
    oldest_pending_seconds: float | None = Field(
        description="How long the oldest PENDING asset has waited for a worker; null when none waits "
        "(or the database is down)"
    )


def worker_seen_error(queue: str, last_seen: datetime | None, now: datetime, within: int) -> str | None:
    """Why the worker counts as down, or None when a poller was seen on the queue within `within` seconds."""
    if last_seen is None:
        return f"no worker has ever polled the task queue '{queue}'"
    age = (now - last_seen).total_seconds()
    if age > within:
        return f"no worker has polled the task queue '{queue}' for {age:.0f} s"
    return None


@router.get(
    "/",
    response_model=None,
    responses={
        200: {"model": HealthPublic, "description": "Every dependency answers and a worker polls"},
        503: {
            "model": HealthPublic,
            "description": "At least one dependency is down or no worker polls (see `checks`)",
        },
    },
)
async def health(
    settings: SettingsDep,
    engine: EngineDep,
    redis_client: RedisDep,
    temporal_connection: TemporalConnectionDep,
    storage: StorageDep,
    outages: OutagesDep,
) -> JSONResponse:
    oldest_pending: list[float | None] = [None]

    async def database() -> None:
        async with engine.connect() as conn:
            age = (await conn.execute(OLDEST_PENDING_SQL)).scalar()
        oldest_pending[0] = None if age is None else round(float(age), 3)

    async def redis() -> None:
        await redis_client.ping()

    async def temporal() -> None:
        await check_health(await temporal_connection.get())

    async def s3() -> None:
        await asyncio.to_thread(storage.ping)

    async def worker() -> None:
        # Pollers of the workflow task queue, as `temporal task-queue describe` lists them; a worker's long poll
        # is renewed at least every ~60 s, so a poller not seen for longer than that has gone.
        queue = task_queue(settings)
        last_poll = await last_worker_poll(await temporal_connection.get(), settings)
        error = worker_seen_error(queue, last_poll, datetime.now(UTC), settings.worker_seen_within_seconds)
        if error is not None:
            raise CheckFailed(error)

    results = await asyncio.gather(
        _timed("database", database, outages.database),
        _timed("redis", redis),
        _timed("temporal", temporal, outages.temporal),
        _timed("s3", s3, outages.s3),
        _timed("worker", worker),
    )
    checks = dict(zip(["database", "redis", "temporal", "s3", "worker"], results, strict=True))
    healthy = all(c["ok"] for c in checks.values())
    body = {
        "status": "ok" if healthy else "degraded",
        "environment": settings.environment.value,
        "kie": "simulated" if settings.simulated_kie else "kie.ai",
        "checks": checks,
        "oldest_pending_seconds": oldest_pending[0],
    }
    return JSONResponse(body, status_code=200 if healthy else 503)
