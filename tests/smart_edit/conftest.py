"""Smart edit against the Kie.ai simulator: its own simulator process, API app and worker (real registry)."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from core.settings import Settings
from devstack.services import free_port
from tests.pipeline.fixtures import SimulatorProcess, running_worker, start_simulator, stop_process
from worker.deps import WorkerDeps


@pytest.fixture(scope="session")
def chat_simulator() -> Iterator[SimulatorProcess]:
    simulator = start_simulator(free_port(), hmac_key=secrets.token_urlsafe(24))
    yield simulator
    stop_process(simulator.process)


def smart_edit_settings_for(settings: Settings, simulator: SimulatorProcess, **overrides: object) -> Settings:
    return settings.model_copy(
        update={
            "temporal_task_queue": f"smart-edit-{uuid.uuid4().hex[:8]}",
            "kie_base_url": simulator.url,
            "kie_api_key": None,
            "kie_simulator_key": simulator.api_key,
            "kie_timeout_seconds": 2.0,
            "smart_edit_timeout_seconds": 30.0,
            "smart_edit_attempt_timeout_seconds": 5.0,
            **overrides,
        }
    )


@pytest.fixture(scope="session")
def smart_edit_settings(settings: Settings, chat_simulator: SimulatorProcess) -> Settings:
    return smart_edit_settings_for(settings, chat_simulator)


@asynccontextmanager
async def running_app(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The API app with these settings, reached in-process (the simulator never calls it back for chat)."""
    from api.main import create_app

    application: FastAPI = create_app(settings)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def smart_edit_worker(smart_edit_settings: Settings) -> AsyncIterator[WorkerDeps]:
    async with running_worker(smart_edit_settings) as deps:
        yield deps


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def se_client(
    smart_edit_settings: Settings, smart_edit_worker: WorkerDeps
) -> AsyncIterator[httpx.AsyncClient]:
    async with running_app(smart_edit_settings) as http:
        yield http
