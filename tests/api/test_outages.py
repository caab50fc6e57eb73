"""While one of our own services is down, the API answers 503 in its JSON error shape with a sentence, logs the
outage once (not once per request), and leaves nothing half-done behind; REST reads keep working."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psycopg
import pytest
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    EndpointConnectionError,
    ParamValidationError,
    ReadTimeoutError,
)
from fastapi import FastAPI
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, ProgrammingError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect
from temporalio.api.workflowservice.v1 import GetSystemInfoRequest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCStatusCode
from temporalio.worker import Worker

from api.main import create_app
from api.outages import OutageLog, database_down, s3_down
from core.contract import GENERATE_WORKFLOW, AssetStatus, GenerateAssetInput, GenerateAssetResult
from core.generation import NOT_STARTED_DISCARDED, NOT_STARTED_REFUSED
from core.models import Asset, User
from core.settings import Settings
from core.storage import Storage
from core.temporal import TEMPORAL_DOWN_STATUSES, TEMPORAL_UNAVAILABLE
from devstack.services import create_database, free_port, start_postgres
from devstack.stack import migrate
from tests.builders import (
    PASSWORD,
    app_client,
    connection_lost_at_commit,
    make_asset,
    make_box,
    make_project,
    png_bytes,
    register,
    unique_email,
)
from tests.pipeline.fixtures import SimulatorProcess, running_worker
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


async def test_a_socket_opened_while_the_database_is_down_is_told_to_reconnect_later(
    client: httpx.AsyncClient, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    headers = await register(client)
    project = await make_project(client, headers)
    token = headers["Authorization"].removeprefix("Bearer ")
    cut_off = settings.model_copy(
        update={"database_url": f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/aiam"}
    )
    caplog.set_level(logging.INFO)

    def open_sockets() -> list[tuple[int, str]]:
        closes = []
        with TestClient(create_app(cut_off)) as test_client:
            for _ in range(3):  # a client reconnecting in a loop
                with test_client.websocket_connect(f"/ws/projects/{project['id']}/?token={token}") as socket_:
                    with pytest.raises(WebSocketDisconnect) as closed:
                        socket_.receive_text()
                    closes.append((closed.value.code, closed.value.reason))
        return closes

    closes = await asyncio.to_thread(open_sockets)
    assert closes == [(1013, "The database is unavailable; reconnect shortly.")] * 3
    assert len(outage_warnings(caplog, "database")) == 1, caplog.text
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR], caplog.text


async def test_a_connection_lost_at_the_commit_answers_503(settings: Settings) -> None:
    """The session dependency commits after the route returned: a database lost right then is a 503 too."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            headers = await register(client)
            with connection_lost_at_commit(app.state.sessionmaker) as lose_connection:
                lose_connection()
                lost = await client.post("/api/projects/", json={"name": "Lost"}, headers=headers)
            listed = await client.get("/api/projects/", headers=headers)
    assert lost.status_code == 503, lost.text
    assert lost.json()["detail"] == "The database is unavailable; try again in a moment."
    assert listed.status_code == 200 and listed.json()["total"] == 0  # nothing was committed


def test_an_outage_is_logged_when_it_starts_summarised_once_a_minute_and_when_it_ends(
    caplog: pytest.LogCaptureFixture,
) -> None:

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


async def test_the_database_going_away_under_a_running_app_answers_503_until_it_is_back(
    settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()
    postgres = start_postgres(tmp_path / "pg", port, tmp_path / "pg.log")
    try:
        url = create_database(postgres.url, "aiam_outage")
        await asyncio.to_thread(migrate, url)
        caplog.set_level(logging.INFO)
        async with app_client(settings.model_copy(update={"database_url": url})) as client:
            headers = await register(client)
            project = await make_project(client, headers)
            # Durable before the kill (the test server runs with synchronous_commit=off).
            with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
                conn.execute("CHECKPOINT")
            os.killpg(postgres.process.pid, signal.SIGKILL)  # the postmaster and every backend, at once
            postgres.process.wait(10)
            down = [await client.get(f"/api/projects/{project['id']}/", headers=headers) for _ in range(5)]
            down.append(await client.post("/api/projects/", json={"name": "During"}, headers=headers))
            postgres = start_postgres(tmp_path / "pg", port, tmp_path / "pg.log")
            back = await client.get(f"/api/projects/{project['id']}/", headers=headers)
    finally:
        postgres.stop()
    for answer in down:
        assert answer.status_code == 503, answer.text
        assert answer.json()["detail"] == "The database is unavailable; try again in a moment."
    assert back.status_code == 200, back.text
    assert len(outage_warnings(caplog, "database")) == 1, caplog.text
    assert [r.getMessage() for r in caplog.records if "database is back after" in r.getMessage()], caplog.text
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR], caplog.text


# --- S3 and Redis --------------------------------------------------------------------------------------------


async def test_an_s3_outage_answers_503_json_on_upload_and_export_and_is_logged_once(
    client: httpx.AsyncClient,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    storage: Storage,
    caplog: pytest.LogCaptureFixture,
) -> None:
    headers = await register(client)
    project = await make_project(client, headers)
    box = await make_box(client, headers, project["id"])
    await make_asset(sessionmaker, box["id"], storage=storage)  # a thumbnail the export must download
    caplog.set_level(logging.INFO)
    cut_off = settings.model_copy(update={"s3_endpoint_url": f"http://127.0.0.1:{free_port()}"})
    async with app_client(cut_off) as down:
        answers = [
            await down.post(
                f"/api/boxes/{box['id']}/upload/",
                files={"file": ("image", png_bytes(), "image/png")},
                headers=headers,
            )
            for _ in range(3)
        ]
        exported = await down.get(f"/api/projects/{project['id']}/export/?scope=all", headers=headers)
        listed = await down.get(f"/api/boxes/{box['id']}/assets/", headers=headers)
    for answer in answers:
        assert answer.status_code == 503, answer.text
        assert answer.json() == {
            "detail": "The file store (S3) is unavailable; try again in a moment.",
            "code": "upstream_unavailable",
        }
    assert exported.status_code == 503, exported.text[:300]
    assert exported.json() == {
        "detail": "The file store (S3) is unreachable; try the export again.",
        "code": "upstream_unavailable",
    }
    assert listed.status_code == 200 and listed.json()["total"] == 1  # reads only presign: no S3 call
    assert len(outage_warnings(caplog, "S3")) == 1, caplog.text
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR], caplog.text


async def test_a_redis_outage_never_fails_a_rest_request(settings: Settings) -> None:
    cut_off = settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{free_port()}/0"})
    async with app_client(cut_off) as client:
        headers = await register(client)
        project = await make_project(client, headers)
        box = await make_box(client, headers, project["id"])
        uploaded = await client.post(  # publishes the new asset
            f"/api/boxes/{box['id']}/upload/",
            files={"file": ("image", png_bytes(), "image/png")},
            headers=headers,
        )
        assert uploaded.status_code == 201, uploaded.text
        headlined = await client.patch(  # publishes the headliner change
            f"/api/boxes/{box['id']}/", json={"headliner_id": uploaded.json()["id"]}, headers=headers
        )
        assert headlined.status_code == 200, headlined.text
        commented = await client.post(  # publishes the comment
            f"/api/boxes/{box['id']}/comments/", json={"text": "Nice"}, headers=headers
        )
        assert commented.status_code == 201, commented.text
        health = (await client.get("/api/health/")).json()
    assert health["checks"]["redis"]["ok"] is False


def pg_error(cls: type[psycopg.Error]) -> DBAPIError:
    return OperationalError("SELECT 1", {}, cls("from the server"))


@pytest.mark.parametrize(
    ("error", "down"),
    [
        (OperationalError("connect", {}, psycopg.OperationalError("connection refused")), True),
        (pg_error(psycopg.errors.AdminShutdown), True),  # 57P01: the server is shutting down
        (pg_error(psycopg.errors.TooManyConnections), True),  # 53300
        (PoolTimeoutError("QueuePool limit reached"), False),  # busy, not down: a 503 of its own
        (InterfaceError("SELECT 1", {}, psycopg.InterfaceError("closed"), connection_invalidated=True), True),
        (pg_error(psycopg.errors.QueryCanceled), False),  # 57014: a statement timeout is about the statement
        (pg_error(psycopg.errors.LockNotAvailable), False),
        (InterfaceError("SELECT 1", {}, psycopg.InterfaceError("the cursor is closed")), False),  # a bug
        (ProgrammingError("SELEC 1", {}, psycopg.errors.SyntaxError("syntax error")), False),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else str(value),
)
def test_only_an_unreachable_database_counts_as_an_outage(error: Exception, down: bool) -> None:
    assert database_down(error) is down


def client_error(status: int) -> ClientError:
    return ClientError(
        {"Error": {"Code": str(status)}, "ResponseMetadata": {"HTTPStatusCode": status}}, "GetObject"
    )


@pytest.mark.parametrize(
    ("error", "down"),
    [
        (EndpointConnectionError(endpoint_url="http://127.0.0.1:9"), True),
        (ConnectionClosedError(endpoint_url="http://127.0.0.1:9"), True),
        (ReadTimeoutError(endpoint_url="http://127.0.0.1:9"), True),
        (client_error(503), True),
        (client_error(404), False),
        (client_error(403), False),  # wrong credentials: a configuration bug, not an outage
        (ParamValidationError(report="Bucket must be a string"), False),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else str(value),
)
def test_only_an_unreachable_or_failing_s3_counts_as_an_outage(error: Exception, down: bool) -> None:
    assert s3_down(error) is down


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


class TemporalGate:
    """A TCP relay in front of the real Temporal server: the API's client connects through it for real, then `cut`
    takes the server away: the port refuses connections, or (`silent`) accepts them and never answers."""

    def __init__(self, target: str) -> None:
        host, port = target.rsplit(":", 1)
        self._target = (host, int(port))
        self._holding = False
        self._open: list[asyncio.StreamWriter] = []
        self._server: asyncio.Server | None = None
        self.address = ""

    async def open(self) -> None:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        self.address = f"127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._open.append(writer)
        if self._holding:  # the silent server: the handshake completed, nobody ever reads
            return
        upstream_reader, upstream = await asyncio.open_connection(*self._target)
        self._open.append(upstream)

        async def pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, ConnectionError):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.close()

        await asyncio.gather(pump(reader, upstream), pump(upstream_reader, writer))

    def cut(self, *, silent: bool) -> None:
        assert self._server is not None
        if silent:
            self._holding = True
        else:
            self._server.close()
        for writer in self._open:
            writer.transport.abort()
        self._open.clear()

    def close(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._open:
            writer.transport.abort()


@contextlib.asynccontextmanager
async def temporal_gone(
    settings: Settings, *, silent: bool
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """An app whose Temporal client was connected, then the server went away: the port now refuses connections,
    or (`silent`) accepts them and never answers (the RPC can only time out)."""
    gate = TemporalGate(settings.temporal_address)
    await gate.open()
    try:
        app = create_app(settings.model_copy(update={"temporal_rpc_timeout_seconds": 1.0}))
        async with app.router.lifespan_context(app):
            connected = await Client.connect(
                gate.address, namespace=settings.temporal_namespace, data_converter=pydantic_data_converter
            )
            await connected.workflow_service.get_system_info(GetSystemInfoRequest())
            gate.cut(silent=silent)
            app.state.temporal = FixedClient(connected)
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                yield app, client
    finally:
        gate.close()


async def asset_events(app: FastAPI, project_id: int) -> list[tuple[int, str, str | None]]:
    """(asset id, status, error message) of every asset event the project's viewers were sent, oldest first."""
    replay = await app.state.relay.replay(project_id, "0-0")
    data = [e.payload()["data"] for e in replay.events if e.type == "asset_status_changed"]
    return [(d["asset_id"], d["status"], d["error_message"]) for d in data]


async def box_assets(sessionmaker: async_sessionmaker[AsyncSession], box_id: int) -> list[Asset]:
    async with sessionmaker() as session:
        return list((await session.exec(select(Asset).where(Asset.box_id == box_id))).all())


@pytest.mark.parametrize("silent", [False, True], ids=["refused", "silent"])
async def test_generate_and_animate_without_temporal_leave_no_row(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    storage: Storage,
    silent: bool,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    async with temporal_gone(settings, silent=silent) as (app, client):
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
        sent = await asset_events(app, project["id"])
    for answer in (generated, animated):
        assert answer.status_code == 503, answer.text
        body = answer.json()
        assert body["code"] == "upstream_unavailable"
        assert "nothing was started" in body["detail"], body
        assert body["details"]["started_asset_ids"] == []
    assert [a.id for a in await box_assets(sessionmaker, box["id"])] == [image.id]  # no new row
    # Announced PENDING before the start (a worker's RUNNING can never precede it), then taken off the viewers'
    # screens: a final status makes the SPA reload the box's assets, and the row is gone.
    discarded = (
        generated.json()["details"]["discarded_asset_ids"] + animated.json()["details"]["discarded_asset_ids"]
    )
    assert len(discarded) == 3
    for asset_id in discarded:
        mine = [(status, message) for i, status, message in sent if i == asset_id]
        assert [status for status, _ in mine] == ["PENDING", "FAILED"], sent
        assert mine[1][1] == NOT_STARTED_DISCARDED
    assert len(outage_warnings(caplog, "Temporal")) == 1, caplog.text
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR], caplog.text


async def run_generation_workflow(
    settings: Settings, kie_simulator: SimulatorProcess, asset_id: int, box_id: int, project_id: int
) -> GenerateAssetResult:
    """Run asset `asset_id`'s generation workflow to its end on a worker of its own (as a start the API counted as
    failed would, had it reached Temporal after all)."""
    worker_settings = settings.model_copy(
        update={
            "temporal_task_queue": f"late-start-{uuid.uuid4().hex[:8]}",
            "kie_base_url": kie_simulator.url,
            "kie_api_key": None,
            "kie_simulator_key": kie_simulator.api_key,
        }
    )
    async with running_worker(worker_settings) as deps, asyncio.timeout(BOUND):
        result: GenerateAssetResult = await deps.temporal.execute_workflow(
            GENERATE_WORKFLOW,
            GenerateAssetInput(
                asset_id=asset_id, box_id=box_id, project_id=project_id, kind="image", deadline_seconds=60
            ),
            id=f"asset-{asset_id}",
            task_queue=worker_settings.temporal_task_queue,
            result_type=GenerateAssetResult,
        )
    return result


async def test_a_workflow_started_for_a_discarded_row_ends_without_calling_kie(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    kie_simulator: SimulatorProcess,
    client: httpx.AsyncClient,
) -> None:
    """A start that timed out in the API may still have reached Temporal after the row was deleted: that
    workflow must end (DELETED) without submitting anything to Kie.ai."""
    headers = await register(client)
    project = await make_project(client, headers)
    box = await make_box(client, headers, project["id"])
    prompt = f"discarded {uuid.uuid4().hex}"
    asset = await make_asset(sessionmaker, box["id"], status=AssetStatus.PENDING, prompt=prompt)
    async with sessionmaker() as session:  # what _start_all does to a row whose start it counts as refused
        await session.delete(await session.get(Asset, asset.id))
        await session.commit()
    tasks_before = len(kie_simulator.tasks())
    assert asset.id is not None
    result = await run_generation_workflow(settings, kie_simulator, asset.id, box["id"], project["id"])
    assert result.status == "DELETED"
    assert kie_simulator.tasks(prompt_contains=prompt) == []
    assert len(kie_simulator.tasks()) == tasks_before


async def test_a_workflow_started_for_a_retry_the_api_gave_up_on_ends_without_calling_kie(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    kie_simulator: SimulatorProcess,
    client: httpx.AsyncClient,
) -> None:
    """A retry whose start timed out in the API puts the row back to FAILED, yet the start may have reached
    Temporal: that run must stop before Kie.ai (it would pay for a result nobody records) and leave the row as is."""
    headers = await register(client)
    project = await make_project(client, headers)
    box = await make_box(client, headers, project["id"])
    prompt = f"given up {uuid.uuid4().hex}"
    asset = await make_asset(
        sessionmaker, box["id"], status=AssetStatus.FAILED, prompt=prompt, error_message="Kie.ai was busy."
    )
    tasks_before = len(kie_simulator.tasks())
    assert asset.id is not None
    result = await run_generation_workflow(settings, kie_simulator, asset.id, box["id"], project["id"])
    assert result.status == "SKIPPED"
    assert kie_simulator.tasks(prompt_contains=prompt) == []
    assert len(kie_simulator.tasks()) == tasks_before
    async with sessionmaker() as session:
        reread = await session.get(Asset, asset.id)
        assert reread is not None
        assert reread.status is AssetStatus.FAILED
        assert reread.error_message == "Kie.ai was busy."


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
        feed = (await client.get(f"/api/projects/{project['id']}/activity/", headers=headers)).json()
    assert reread["status"] == "FAILED"
    assert "could not be started" in reread["error_message"]
    # The feed shows the failure the shot view shows.
    assert [(item["kind"], item["asset_id"]) for item in feed["items"]] == [("failed", failed.id)]


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


async def test_running_retention_now_without_temporal_is_503(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    async with temporal_gone(settings, silent=True) as (_, client):
        headers = await register(client)
        me = (await client.get("/api/auth/me/", headers=headers)).json()
        async with sessionmaker() as session:
            user = await session.get(User, me["id"])
            assert user is not None
            user.is_superuser = True
            session.add(user)
            await session.commit()
        async with asyncio.timeout(BOUND):
            answer = await client.post("/api/admin/retention/run/", headers=headers)
    assert answer.status_code == 503, answer.text
    assert answer.json() == {"detail": TEMPORAL_UNAVAILABLE, "code": "upstream_unavailable"}


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


async def test_a_temporal_misconfiguration_is_a_logged_500_not_an_outage(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A namespace the server does not have (NOT_FOUND), like search attributes it lacks (INVALID_ARGUMENT), is a
    mistake of ours, not an outage: a 500 with its traceback, no outage warning, and the new rows are kept as FAILED
    with a sentence (they can be retried once the configuration is fixed) instead of being deleted."""
    caplog.set_level(logging.INFO)
    wrong = settings.model_copy(update={"temporal_namespace": f"no-such-namespace-{uuid.uuid4().hex[:8]}"})
    async with app_client(wrong) as client:
        headers = await register(client)
        project = await make_project(client, headers)
        box = await make_box(client, headers, project["id"])
        async with asyncio.timeout(BOUND):
            answer = await client.post(
                f"/api/boxes/{box['id']}/generate/",
                json={"model": "google/nano-banana", "prompt": "a lighthouse at night", "count": 2},
                headers=headers,
            )
        feed = (await client.get(f"/api/projects/{project['id']}/activity/", headers=headers)).json()
    assert answer.status_code == 500, answer.text
    assert answer.json()["code"] == "internal_error"
    rows = await box_assets(sessionmaker, box["id"])
    assert len(rows) == 2
    assert {(row.status, row.error_message) for row in rows} == {(AssetStatus.FAILED, NOT_STARTED_REFUSED)}
    assert sorted((item["kind"], item["asset_id"]) for item in feed["items"]) == [
        ("failed", row.id) for row in sorted(rows, key=lambda row: row.id)
    ]
    assert not outage_warnings(caplog, "Temporal"), caplog.text
    assert len([r for r in caplog.records if r.exc_info]) == 1, caplog.text


def test_temporal_is_down_only_when_it_cannot_answer() -> None:
    assert RPCStatusCode.UNAVAILABLE in TEMPORAL_DOWN_STATUSES
    assert RPCStatusCode.DEADLINE_EXCEEDED in TEMPORAL_DOWN_STATUSES
    for wrong in (RPCStatusCode.INVALID_ARGUMENT, RPCStatusCode.NOT_FOUND, RPCStatusCode.PERMISSION_DENIED):
        assert wrong not in TEMPORAL_DOWN_STATUSES
