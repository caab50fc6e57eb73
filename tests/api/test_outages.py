"""While one of our own services is down, the API answers 503 in its JSON error shape with a sentence, logs the
outage once (not once per request), and leaves nothing half-done behind; REST reads keep working."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Worker

from api.main import create_app
from core.models import Asset, AssetStatus
from core.settings import Settings
from core.storage import Storage
from devstack.services import free_port
from tests.builders import PASSWORD, app_client, make_asset, make_box, make_project, register, unique_email
from worker import registry

BOUND = 60  # seconds: generous; the point is that a call returns at all, not how fast


def outage_warnings(caplog: pytest.LogCaptureFixture, service: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.getMessage().startswith(f"{service} is unavailable")]


# --- PostgreSQL ----------------------------------------------------------------------------------------------


async def test_a_database_outage_answers_503_json_and_is_logged_once(
    client: httpx.AsyncClient, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    email = unique_email()
    await client.post(
        "/api/auth/register/", json={"email": email, "password": PASSWORD, "display_name": "Dee"}
    )
    headers = await register(client)  # a valid token: the cut-off app shares the JWT secret
    cut_off = settings.model_copy(
        update={"database_url": f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/aiam"}
    )
    caplog.set_level(logging.INFO)
    async with app_client(cut_off) as down:
        calls = [
            down.get("/api/projects/", headers=headers),  # a list (get_current_user fails first)
            down.post("/api/projects/", json={"name": "Spot"}, headers=headers),  # a create
            down.post("/api/auth/login/", json={"email": email, "password": PASSWORD}),  # no user yet
            down.get("/api/auth/me/", headers=headers),  # only get_current_user
        ]
        answers = [await call for call in calls] + [
            await down.get("/api/projects/", headers=headers) for _ in range(10)
        ]
    for answer in answers:
        assert answer.status_code == 503, answer.text
        assert answer.json() == {
            "detail": "The database is unavailable; try again in a moment.",
            "code": "upstream_unavailable",
        }
    assert len(outage_warnings(caplog, "database")) == 1, caplog.text
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR], caplog.text


def test_an_outage_is_logged_when_it_starts_summarised_once_a_minute_and_when_it_ends(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from api.outages import OutageLog

    now = [1000.0]
    log = OutageLog("database", clock=lambda: now[0])
    caplog.set_level(logging.INFO, logger="api.outages")
    log.recovered()  # nothing was down: says nothing
    log.failed(ConnectionRefusedError("connection refused"))
    for _ in range(5):
        now[0] += 10
        log.failed(ConnectionRefusedError("connection refused"))
    now[0] += 15  # 65 s after the first failure
    log.failed(ConnectionRefusedError("connection refused"))
    now[0] += 5
    log.failed(ConnectionRefusedError("connection refused"))
    now[0] += 2
    log.recovered()
    log.recovered()
    messages = [r.getMessage() for r in caplog.records]
    assert messages == [
        "database is unavailable (answering 503 until it is back): ConnectionRefusedError: connection refused",
        "database still unavailable: 6 requests answered 503",
        "database is back after 72 s (8 requests answered 503)",
    ]


@contextlib.contextmanager
def private_postgres(tmp_path: Any) -> Iterator[Any]:
    from devstack.services import start_postgres

    service = start_postgres(tmp_path / "pg", free_port())
    try:
        yield service
    finally:
        service.stop()


# --- Health: the worker and the backlog ----------------------------------------------------------------------


def queue_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"temporal_task_queue": f"health-{uuid.uuid4().hex[:8]}"})


async def test_health_is_503_when_no_worker_polls_the_task_queue(settings: Settings) -> None:
    lonely = queue_settings(settings)
    async with app_client(lonely) as client:
        response = await client.get("/api/health/")
    assert response.status_code == 503, response.text
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["worker"]["ok"] is False
    assert body["checks"]["worker"]["error"] == (
        f"no worker has ever polled the task queue '{lonely.temporal_task_queue}'"
    )
    assert all(body["checks"][name]["ok"] for name in ("database", "redis", "temporal", "s3"))


async def test_health_counts_a_worker_polling_the_task_queue(settings: Settings) -> None:
    polled = queue_settings(settings)
    temporal = await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=pydantic_data_converter,
    )
    async with (
        Worker(temporal, task_queue=polled.temporal_task_queue, workflows=registry.workflows()),
        app_client(polled) as client,
    ):
        for _ in range(50):  # the first poll reaches the server a moment after the worker starts
            response = await client.get("/api/health/")
            if response.status_code == 200:
                break
            await asyncio.sleep(0.1)
    assert response.status_code == 200, response.text
    assert response.json()["checks"]["worker"]["ok"] is True


async def test_health_reports_the_age_of_the_oldest_pending_asset(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    headers = await register(client)
    project = await make_project(client, headers)
    box = await make_box(client, headers, project["id"])
    a_minute_ago = datetime.now(UTC) - timedelta(seconds=60)
    await make_asset(sessionmaker, box["id"], status=AssetStatus.PENDING, updated_at=a_minute_ago)
    body = (await client.get("/api/health/")).json()
    assert body["oldest_pending_seconds"] is not None and body["oldest_pending_seconds"] >= 60


# --- Temporal ------------------------------------------------------------------------------------------------


class FixedClient:
    def __init__(self, client: Client) -> None:
        self.client = client

    async def get(self) -> Client:
        return self.client


@contextlib.asynccontextmanager
async def temporal_gone(
    settings: Settings, *, silent: bool
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """An app whose Temporal client was connected, then the server went away: the port now refuses connections,
    or (`silent`) accepts them and never answers (the RPC can only time out)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        if silent:
            listener.listen(16)  # the kernel completes the handshakes; nobody ever reads
        address = f"127.0.0.1:{listener.getsockname()[1]}"
        app = create_app(settings.model_copy(update={"temporal_rpc_timeout_seconds": 1.0}))
        async with app.router.lifespan_context(app):
            lost = await Client.connect(
                address,
                namespace=settings.temporal_namespace,
                data_converter=pydantic_data_converter,
                lazy=True,
            )
            app.state.temporal = FixedClient(lost)
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                yield app, client


async def box_assets(sessionmaker: async_sessionmaker[AsyncSession], box_id: int) -> list[Asset]:
    async with sessionmaker() as session:
        return list((await session.exec(select(Asset).where(Asset.box_id == box_id))).all())


@pytest.mark.parametrize("silent", [False, True], ids=["refused", "silent"])
async def test_generate_and_animate_without_temporal_leave_no_row(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], storage: Storage, silent: bool
) -> None:
    async with temporal_gone(settings, silent=silent) as (_, client):
        headers = await register(client)
        project = await make_project(client, headers)
        box = await make_box(client, headers, project["id"])
        image = await make_asset(sessionmaker, box["id"], storage=storage)
        async with asyncio.timeout(BOUND):
            generated = await client.post(
                f"/api/boxes/{box['id']}/generate/",
                json={"model": "google/nano-banana", "prompt": "a lighthouse at night", "count": 2},
                headers=headers,
            )
            animated = await client.post(
                f"/api/assets/{image.id}/animate/", json={"prompt": "waves roll in"}, headers=headers
            )
    for answer in (generated, animated):
        assert answer.status_code == 503, answer.text
        body = answer.json()
        assert body["code"] == "upstream_unavailable"
        assert "nothing was started" in body["detail"], body
        assert body["details"]["started_asset_ids"] == []
    assert [a.id for a in await box_assets(sessionmaker, box["id"])] == [image.id]  # no new row


async def test_retry_without_temporal_leaves_the_asset_failed(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    async with temporal_gone(settings, silent=False) as (_, client):
        headers = await register(client)
        project = await make_project(client, headers)
        box = await make_box(client, headers, project["id"])
        failed = await make_asset(
            sessionmaker, box["id"], status=AssetStatus.FAILED, error_message="Kie.ai was busy."
        )
        async with asyncio.timeout(BOUND):
            answer = await client.post(f"/api/assets/{failed.id}/retry/", headers=headers)
        assert answer.status_code == 503, answer.text
        assert answer.json()["code"] == "upstream_unavailable"
        assert "was not retried" in answer.json()["detail"]
        reread = (await client.get(f"/api/assets/{failed.id}/", headers=headers)).json()
    assert reread["status"] == "FAILED"
    assert "could not be started" in reread["error_message"]


async def test_smart_edit_without_temporal_is_503(settings: Settings) -> None:
    async with temporal_gone(settings, silent=True) as (_, client):
        headers = await register(client)
        project = await make_project(client, headers)
        box = await make_box(client, headers, project["id"])
        async with asyncio.timeout(BOUND):
            answer = await client.post(
                "/api/smart-edit/",
                json={"prompt": "a cat", "instruction": "make it a dog", "box_id": box["id"]},
                headers=headers,
            )
        assert answer.status_code == 503, answer.text
        assert answer.json()["code"] == "upstream_unavailable"
        history = await client.get(f"/api/boxes/{box['id']}/smart-edits/", headers=headers)
    assert history.json()["total"] == 0


async def test_generation_without_temporal_is_503_and_reads_still_work(settings: Settings) -> None:
    cut_off = settings.model_copy(update={"temporal_address": f"127.0.0.1:{free_port()}"})
    async with app_client(cut_off) as client:
        headers = await register(client)
        project = await make_project(client, headers)
        box = await make_box(client, headers, project["id"])
        async with asyncio.timeout(BOUND):
            response = await client.post(
                f"/api/boxes/{box['id']}/generate/",
                json={"model": "google/nano-banana", "prompt": "a lighthouse at night"},
                headers=headers,
            )
        assert response.status_code == 503, response.text
        assert "unavailable" in response.json()["detail"] or "unreachable" in response.json()["detail"]
        listed = await client.get(f"/api/boxes/{box['id']}/assets/", headers=headers)
        assert listed.status_code == 200
        assert listed.json()["total"] == 0  # nothing half-written
        health = await client.get("/api/health/")
        assert health.status_code == 503
        assert health.json()["checks"]["temporal"]["ok"] is False
        assert health.json()["checks"]["database"]["ok"] is True
