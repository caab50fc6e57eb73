"""Health: one line per dependency, so an operator sees at once which one is down."""

import asyncio
import time
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from redis.asyncio import Redis
from sqlalchemy import text

router = APIRouter(prefix="/api/health", tags=["health"])

CHECK_TIMEOUT = 3.0


async def _timed(check: Any) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        await asyncio.wait_for(check(), CHECK_TIMEOUT)
    except Exception as exc:
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    return {"ok": True, "latency_ms": round((time.perf_counter() - started) * 1000, 1)}


class DependencyCheck(BaseModel):
    ok: bool
    latency_ms: float | None = None
    error: str | None = None


class HealthReport(BaseModel):
    status: Literal["ok", "degraded"]
    environment: str
    kie: Literal["simulated", "kie.ai"]
    checks: dict[str, DependencyCheck]


@router.get(
    "/",
    response_model=None,
    responses={
        200: {"model": HealthReport, "description": "Every dependency answers"},
        503: {"model": HealthReport, "description": "At least one dependency is down (see `checks`)"},
    },
)
async def health(request: Request) -> JSONResponse:
    state = request.app.state
    settings = state.settings

    async def database() -> None:
        async with state.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def redis() -> None:
        client = Redis.from_url(settings.redis_url, socket_connect_timeout=2)
        try:
            await client.ping()
        finally:
            await client.aclose()

    async def temporal() -> None:
        client = await state.temporal.get()
        await client.service_client.check_health()

    async def s3() -> None:
        await asyncio.to_thread(state.storage.ping)

    names = ["database", "redis", "temporal", "s3"]
    results = await asyncio.gather(*(_timed(c) for c in (database, redis, temporal, s3)))
    checks = dict(zip(names, results, strict=True))
    healthy = all(c["ok"] for c in checks.values())
    body = {
        "status": "ok" if healthy else "degraded",
        "environment": settings.environment.value,
        "kie": "simulated" if settings.simulated_kie else "kie.ai",
        "checks": checks,
    }
    return JSONResponse(body, status_code=200 if healthy else 503)
