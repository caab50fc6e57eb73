"""Database connections are not held across waits: smart edits waiting for a slow LLM leave the pool to other
requests, and a pool exhausted anyway answers 503 "the server is busy" (not an outage, not a 500)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import httpx
from fastapi import FastAPI

from core.settings import Settings
from tests.builders import PASSWORD, register, unique_email
from tests.pipeline.fixtures import SimulatorProcess
from tests.smart_edit.conftest import running_worker, smart_edit_settings_for
from tests.smart_edit.test_smart_edit import unique

BUSY = "The server is busy: every database connection is in use; try again in a few seconds."


@contextlib.asynccontextmanager
async def app_and_client(settings: Settings) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    from api.main import create_app

    application = create_app(settings)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield application, http


async def wait_for_waiting_chats(simulator: SimulatorProcess, marker: str, count: int) -> None:
    """Until `count` chat requests mentioning `marker` wait for their answer at the same time (at most about 30 s)."""
    most = 0
    async with httpx.AsyncClient() as http:
        for _ in range(600):
            chats = (await http.get(f"{simulator.url}/_sim/chats", timeout=10)).json()
            waiting = sum(marker in chat["text"] and not chat["answered"] for chat in chats)
            if waiting >= count:
                return
            most = max(most, waiting)
            await asyncio.sleep(0.05)
    raise AssertionError(f"at most {most} of {count} smart edits waited for the LLM at the same time")


async def test_smart_edits_waiting_for_the_llm_leave_the_pool_to_other_requests(settings, chat_simulator):
    base = smart_edit_settings_for(
        settings, chat_simulator, kie_timeout_seconds=30.0, smart_edit_attempt_timeout_seconds=30.0
    )
    # Two connections for six edits: all six wait for the LLM (8 s each) at once only if none keeps a connection
    # meanwhile. The pool timeout is long so that edits queueing for a connection on their way in (the user row's
    # lock, the balance read) cannot be refused on a slow machine; a connection held across the wait fails the
    # wait below instead (checked by taking a connection again after `release_connection`: at most 2 waited).
    small_pool = base.model_copy(
        update={"database_pool_size": 2, "database_max_overflow": 0, "database_pool_timeout_seconds": 60.0}
    )
    marker = unique("a lighthouse at dusk")
    async with running_worker(base), app_and_client(small_pool) as (_, http):
        headers = await register(http)

        async def smart_edit(number: int) -> httpx.Response:
            return await http.post(
                "/api/smart-edit/",
                json={"prompt": f"{marker} {number}", "instruction": "add rain [sim:slow=8]"},
                headers=headers,
            )

        edits = [asyncio.create_task(smart_edit(number)) for number in range(6)]
        await wait_for_waiting_chats(chat_simulator, marker, 6)  # all six wait for the (slow) LLM at once
        listing = await http.get("/api/projects/", headers=headers)
        answers = await asyncio.gather(*edits)

    assert listing.status_code == 200, listing.text
    assert [answer.status_code for answer in answers] == [200] * 6, [a.text for a in answers]


async def test_an_exhausted_pool_answers_503_with_a_sentence(settings):
    one = settings.model_copy(
        update={"database_pool_size": 1, "database_max_overflow": 0, "database_pool_timeout_seconds": 0.5}
    )
    async with app_and_client(one) as (application, http):
        email = unique_email()
        await register(http, email=email)
        async with application.state.engine.connect() as held:  # the only connection, busy elsewhere
            await held.exec_driver_sql("SELECT 1")
            answer = await http.post("/api/auth/login/", json={"email": email, "password": PASSWORD})
        after = await http.post("/api/auth/login/", json={"email": email, "password": PASSWORD})
        database_reported_down = application.state.outages.database.down

    assert answer.status_code == 503, answer.text
    assert answer.json()["detail"] == BUSY
    assert answer.json()["code"] == "server_busy"
    assert answer.headers["Retry-After"] == "5"
    assert after.status_code == 200, after.text
    assert not database_reported_down  # busy is not an outage of PostgreSQL
