"""Password checks wait for the argon2 threads without holding a database connection, and only so many wait:
past PASSWORD_HASH_MAX_WAITING the next is told the server is busy (503 with Retry-After), not queued forever.

The argon2 threads are made busy on cue (a job that waits for a gate in each of them), so "while the hash waits"
is a state the test sees, not a moment it guesses."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
from fastapi import FastAPI

from core import security
from core.settings import Settings
from tests.api.test_rate_limits import random_address
from tests.api.test_registration import signup


@contextlib.contextmanager
def busy_hashing_threads() -> Iterator[threading.Event]:
    """Every argon2 thread blocked until the yielded gate opens (or the block ends)."""
    gate = threading.Event()
    started = threading.Barrier(security.HASHING_THREADS + 1)

    def hold() -> None:
        started.wait()
        gate.wait()

    jobs = [security._hashing_pool.submit(hold) for _ in range(security.HASHING_THREADS)]
    started.wait()
    try:
        yield gate
    finally:
        gate.set()
        for job in jobs:
            job.result()


@contextlib.asynccontextmanager
async def api(settings: Settings, **overrides: Any) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    from api.main import create_app

    app = create_app(settings.model_copy(update=overrides))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=(random_address(), 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield app, client


async def until(condition: Any) -> None:
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the condition never held")


def queued_hashes() -> int:
    """Hashes submitted to the (busy) argon2 threads and waiting for one."""
    return security._hashing_pool._work_queue.qsize()


def checked_out(app: FastAPI) -> int:
    return int(app.state.engine.sync_engine.pool.checkedout())


async def test_a_registration_waiting_for_its_hash_holds_no_database_connection(settings: Settings) -> None:
    async with api(settings) as (app, client):
        with busy_hashing_threads() as gate:
            registering = asyncio.create_task(client.post("/api/auth/register/", json=signup()))
            await until(lambda: queued_hashes() == 1)
            held_while_waiting = checked_out(app)
            gate.set()
            answer = await registering
    assert answer.status_code == 201, answer.text
    assert held_while_waiting == 0


async def test_past_the_waiting_bound_a_password_check_is_told_the_server_is_busy(settings: Settings) -> None:
    async with api(settings, password_hash_max_waiting=2, rate_limit_register_per_address="100/hour") as (
        _,
        client,
    ):
        with busy_hashing_threads() as gate:
            bound = security.HASHING_THREADS + 2
            waiting = [
                asyncio.create_task(client.post("/api/auth/register/", json=signup())) for _ in range(bound)
            ]
            await until(lambda: queued_hashes() == bound)
            login = asyncio.create_task(
                client.post("/api/auth/login/", json={"email": "a@example.com", "password": "x" * 8})
            )
            await until(lambda: login.done() or queued_hashes() > bound)
            answered_at_once = login.done()
            gate.set()
            answers = await asyncio.gather(*waiting)
            refused = await login
    assert answered_at_once  # not queued behind the others
    assert refused.status_code == 503, refused.text
    assert refused.json()["code"] == "server_busy"
    assert refused.json()["detail"] == (
        "The server is busy: too many password checks are waiting; try again in a few seconds."
    )
    assert refused.headers["Retry-After"] == "5"
    assert [a.status_code for a in answers] == [201] * bound


def test_the_hashing_pool_is_sized_by_the_usable_cores_and_capped() -> None:
    assert 1 <= security.HASHING_THREADS <= security.MAX_HASHING_THREADS
    assert min(security.usable_cores(), security.MAX_HASHING_THREADS) == security.HASHING_THREADS
    assert security._hashing_pool._max_workers == security.HASHING_THREADS
