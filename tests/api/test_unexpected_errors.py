"""A bug never answers Starlette's plain-text 500: it is the one ErrorBody with a sentence and no internals, and its
traceback is logged once. A ServiceUnavailable of no known service is still a 503."""

from __future__ import annotations

import logging

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.exc import ProgrammingError
from temporalio.service import RPCError, RPCStatusCode

from api.errors import install_error_handlers
from api.outages import Outages
from core.errors import ServiceUnavailable

SECRET = "password=hunter2 at /srv/app/core/secret.py"


def make_app() -> FastAPI:
    app = FastAPI()
    app.state.outages = Outages()
    install_error_handlers(app)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError(SECRET)

    @app.get("/wrong-statement")
    async def wrong_statement() -> (
        None
    ):  # what the database handler leaves alone (not an outage) and re-raises
        raise ProgrammingError("SELECT secret_column FROM nowhere", {}, Exception(SECRET))

    @app.get("/temporal-refuses")
    async def temporal_refuses() -> None:  # a call Temporal refused as wrong: ours to fix, not an outage
        raise RPCError(SECRET, RPCStatusCode.INVALID_ARGUMENT, b"")

    @app.get("/temporal-away")
    async def temporal_away() -> None:
        raise RPCError("tcp connect error", RPCStatusCode.UNAVAILABLE, b"")

    @app.get("/some-service-down")
    async def some_service_down() -> None:
        raise ServiceUnavailable("A service we need is unavailable; try again in a moment.")

    return app


async def get(path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=make_app())  # raises whatever the app lets through
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        return await client.get(path)


@pytest.mark.parametrize(
    ("path", "raised"),
    [("/boom", RuntimeError), ("/wrong-statement", ProgrammingError), ("/temporal-refuses", RPCError)],
)
async def test_an_unexpected_exception_answers_a_json_500_and_logs_its_traceback_once(
    caplog: pytest.LogCaptureFixture, path: str, raised: type[Exception]
) -> None:
    caplog.set_level(logging.INFO)
    answer = await get(path)
    assert answer.status_code == 500
    assert answer.json() == {
        "detail": "Something went wrong on our side; it has been logged.",
        "code": "internal_error",
    }
    assert "hunter2" not in answer.text and "secret.py" not in answer.text
    tracebacks = [r for r in caplog.records if r.exc_info and isinstance(r.exc_info[1], raised)]
    assert len(tracebacks) == 1, caplog.text
    assert SECRET in caplog.text  # the log keeps what the body leaves out


async def test_the_base_service_unavailable_answers_503(caplog: pytest.LogCaptureFixture) -> None:
    answer = await get("/some-service-down")
    assert answer.status_code == 503
    assert answer.json() == {
        "detail": "A service we need is unavailable; try again in a moment.",
        "code": "upstream_unavailable",
    }


async def test_temporal_away_answers_503() -> None:
    answer = await get("/temporal-away")
    assert answer.status_code == 503
    assert answer.json()["code"] == "upstream_unavailable"
