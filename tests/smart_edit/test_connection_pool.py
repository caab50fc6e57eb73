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


async def test_smart_edits_waiting_for_the_llm_leave_the_pool_to_other_requests(settings, chat_simulator):
    base = smart_edit_settings_for(settings, chat_simulator, kie_timeout_seconds=10.0)
    small_pool = base.model_copy(
        update={"database_pool_size": 2, "database_max_overflow": 0, "database_pool_timeout_seconds": 1.0}
    )
    async with running_worker(base), app_and_client(small_pool) as (_, http):
        headers = await register(http)

        async def smart_edit() -> httpx.Response:
            return await http.post(
                "/api/smart-edit/",
                json={"prompt": unique("a lighthouse at dusk"), "instruction": "add rain [sim:slow=3]"},
                headers=headers,
            )

        edits = [asyncio.create_task(smart_edit()) for _ in range(6)]
        await asyncio.sleep(1.0)  # every smart edit is now waiting for the (slow) LLM
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
