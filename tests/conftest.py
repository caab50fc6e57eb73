"""Session-wide real services (PostgreSQL, Redis, Temporal dev server, S3) started from the wheels, and the app.

Each test owns its data: builders create a fresh user (unique email) and everything under it.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from core.settings import Settings
from core.storage import Storage
from devstack.stack import Stack, migrate, start_stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    base = tmp_path_factory.mktemp("stack")
    # Tests never reuse a developer's services: start fresh ones on free ports whatever the environment says.
    running = start_stack(base, fixed_ports=False, database_name="aiam_test", bucket="aiam-test", environ={})
    migrate(running.env["DATABASE_URL"])
    yield running
    running.stop()


@pytest.fixture(scope="session")
def settings_env(stack: Stack) -> dict[str, str]:
    """The environment a process of ours (API, worker, simulator) needs to reach the test services."""
    return {
        **stack.env,
        "ENVIRONMENT": "test",
        "JWT_SECRET": secrets.token_urlsafe(32),
        "TEMPORAL_TASK_QUEUE": "aiam-test",
        # Nothing a test starts may reach the real Kie.ai (or spend a developer's credits): tests that generate
        # point at their own simulator; anything else fails fast on this closed port.
        "KIE_BASE_URL": "http://127.0.0.1:9",
        # The worker's reconciler schedule must not fire in the middle of the session and fail other tests'
        # deliberately stale rows; tests run the reconciler themselves, with an injected clock.
        "RECONCILE_INTERVAL_SECONDS": "86400",
        # Every test logs in and generates from 127.0.0.1: the suite's app gets generous rate limits; the limit
        # tests build apps of their own with low ones (tests/api/test_rate_limits.py).
        "RATE_LIMIT_LOGIN_PER_ACCOUNT": "10000/minute",
        "RATE_LIMIT_LOGIN_PER_ADDRESS": "10000/minute",
        "RATE_LIMIT_REGISTER_PER_ADDRESS": "10000/minute",
        "RATE_LIMIT_GENERATE_PER_USER": "10000/minute",
        "RATE_LIMIT_SMART_EDIT_PER_USER": "10000/minute",
    }


@pytest.fixture(scope="session")
def settings(settings_env: dict[str, str]) -> Settings:
    os.environ.update(settings_env)
    from core.settings import get_settings

    get_settings.cache_clear()
    # Not the developer's `.env` (it may hold a real KIE_API_KEY): only what the test services need.
    return Settings(_env_file=None, **{key.lower(): value for key, value in settings_env.items()})  # type: ignore[arg-type,call-arg]


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    from api.main import create_app

    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest_asyncio.fixture(loop_scope="session")
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture(scope="session")
def sessionmaker(app: FastAPI) -> async_sessionmaker[AsyncSession]:
    maker: async_sessionmaker[AsyncSession] = app.state.sessionmaker
    return maker


@pytest.fixture(scope="session")
def storage(app: FastAPI) -> Storage:
    store: Storage = app.state.storage
    return store
