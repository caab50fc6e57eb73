"""A delete whose workflow cancel cannot reach Temporal still deletes the S3 objects after the commit.

`finish_deletion` cancels the running generations first, then deletes the queued objects. Whatever way Temporal is
away (the connect refused, the cancel refused, the cancel never answered), the cancel gives up within
TEMPORAL_RPC_TIMEOUT_SECONDS and the objects go anyway: the workflow stops by itself once it finds its asset gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from api.main import create_app
from core.contract import AssetStatus
from core.settings import Settings
from core.storage import Storage
from core.temporal import TemporalClientHolder
from devstack.services import free_port
from tests.api.test_outages import TemporalGate
from tests.builders import make_asset, make_box, make_project, register
from tests.retention.helpers import objects_exist, pending_keys, row_exists

BOUND = 60  # seconds: generous; the point is that the follow-up ends at all, not how fast
WAYS = ["connect_refused", "connect_unanswered", "cancel_refused", "cancel_unanswered"]


@contextlib.asynccontextmanager
async def temporal_away(settings: Settings, way: str) -> AsyncIterator[httpx.AsyncClient]:
    """An app whose lazy Temporal connection fails to connect, or connected and then lost the server."""
    quick = settings.model_copy(update={"temporal_rpc_timeout_seconds": 1.0})
    gate = TemporalGate(settings.temporal_address)
    await gate.open()
    try:
        app = create_app(quick)
        async with app.router.lifespan_context(app):
            if way == "connect_refused":
                holder = TemporalClientHolder(
                    quick.model_copy(update={"temporal_address": f"127.0.0.1:{free_port()}"})
                )
            elif way == "connect_unanswered":
                gate.cut(silent=True)  # accepts the connection, never answers
                holder = TemporalClientHolder(quick.model_copy(update={"temporal_address": gate.address}))
            else:
                holder = TemporalClientHolder(quick.model_copy(update={"temporal_address": gate.address}))
                await holder.get()  # connected for real, through the gate
                gate.cut(silent=way == "cancel_unanswered")
            app.state.temporal = holder
            # The follow-up runs as a background task; the in-process transport returns once it has ended.
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                yield client
    finally:
        gate.close()


@pytest.mark.parametrize("way", WAYS)
async def test_a_delete_whose_cancel_fails_still_deletes_the_objects(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    storage: Storage,
    way: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    async with temporal_away(settings, way) as client:
        headers = await register(client)
        project = await make_project(client, headers)
        box = await make_box(client, headers, project["id"])
        running = await make_asset(sessionmaker, box["id"], status=AssetStatus.RUNNING)
        done = await make_asset(sessionmaker, box["id"], storage=storage)
        assert objects_exist(storage, done) == [True, True]

        async with asyncio.timeout(BOUND):
            deleted = await client.delete(f"/api/boxes/{box['id']}/", headers=headers)

    assert deleted.status_code == 204, deleted.text
    assert not await row_exists(sessionmaker, running.id)
    assert objects_exist(storage, done) == [False, False]
    assert await pending_keys(sessionmaker, [done.id]) == []
    cancel_failures = [
        r for r in caplog.records if str(running.id) in r.getMessage() and "cancel" in r.getMessage()
    ]
    assert len(cancel_failures) == 1, [r.getMessage() for r in caplog.records]
