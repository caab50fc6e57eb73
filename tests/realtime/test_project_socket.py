"""A project's owner watches generations finish live: snapshot first, then events from other processes."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import httpx
import jwt
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from core.contract import AssetStatus
from core.events import asset_status_changed, new_comment
from core.security import JWT_ALGORITHM
from core.settings import Settings
from tests.builders import make_asset, make_box, make_project, register
from tests.realtime.conftest import (
    LiveServer,
    closed_with,
    next_json,
    numsub,
    open_socket,
    publish_from_another_process,
    token_of,
)


async def test_snapshot_then_events_published_by_a_worker_process(
    live: LiveServer,
    http: httpx.AsyncClient,
    redis: Redis,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings_env: dict[str, str],
) -> None:
    headers = await register(http)
    project = await make_project(http, headers)
    box = await make_box(http, headers, project["id"])
    running = await make_asset(sessionmaker, box["id"], status=AssetStatus.RUNNING)
    pending = await make_asset(sessionmaker, box["id"], status=AssetStatus.PENDING)
    await make_asset(sessionmaker, box["id"], status=AssetStatus.COMPLETED)
    await make_asset(sessionmaker, box["id"], status=AssetStatus.FAILED)

    url = live.ws_url(f"/ws/projects/{project['id']}/?token={token_of(headers)}")
    sockets = [await open_socket(url) for _ in range(3)]
    snapshots = [await next_json(ws) for ws in sockets]
    for snapshot in snapshots:
        assert snapshot["type"] == "snapshot"
        assert snapshot["data"]["project_id"] == project["id"]
        assert snapshot["data"]["assets"] == [
            {"asset_id": running.id, "box_id": box["id"], "kind": "image", "status": "RUNNING"},
            {"asset_id": pending.id, "box_id": box["id"], "kind": "image", "status": "PENDING"},
        ]
        assert snapshot["data"]["resume"] is None

    # Three sockets, one Redis subscription for the project in this API process.
    assert await numsub(redis, project["id"]) == 1
    assert live.relay.stats.redis_subscribes[project["id"]] == 1
    assert live.relay.local_subscribers(project["id"]) == 3

    done = asset_status_changed(
        project_id=project["id"],
        asset_id=running.id,  # type: ignore[arg-type]
        box_id=box["id"],
        kind="image",
        status="COMPLETED",
        thumbnail_url="http://s3/thumb.jpg",
        file_url="http://s3/file.png",
    )
    ids = publish_from_another_process(settings_env, [done.model_dump(mode="json")])

    for ws in sockets:
        event = await next_json(ws)
        assert event["type"] == "asset_status_changed"
        assert event["id"] == ids[0]
        assert event["project_id"] == project["id"]
        assert event["data"] == {
            "asset_id": running.id,
            "box_id": box["id"],
            "kind": "image",
            "status": "COMPLETED",
            "error_message": None,
            "thumbnail_url": "http://s3/thumb.jpg",
            "file_url": "http://s3/file.png",
        }
        assert set(event) == {"type", "project_id", "data", "ts", "id"}

    for ws in sockets:
        await ws.close()
    for _ in range(100):
        if await numsub(redis, project["id"]) == 0:
            break
        await asyncio.sleep(0.05)
    assert await numsub(redis, project["id"]) == 0
    assert live.relay.local_subscribers(project["id"]) == 0


async def test_events_of_other_projects_do_not_arrive(
    live: LiveServer, http: httpx.AsyncClient, settings_env: dict[str, str]
) -> None:
    headers = await register(http)
    mine = await make_project(http, headers)
    other = await make_project(http, headers, name="Other")
    box = await make_box(http, headers, mine["id"])
    ws = await open_socket(live.ws_url(f"/ws/projects/{mine['id']}/?token={token_of(headers)}"))
    assert (await next_json(ws))["type"] == "snapshot"

    def comment(project_id: int, text: str) -> dict[str, object]:
        return new_comment(
            project_id=project_id,
            comment_id=1,
            box_id=box["id"],
            asset_id=None,
            author_name="Ann",
            text=text,
            created_at=datetime.now(UTC),
            via_link=False,
        ).model_dump(mode="json")

    ids = publish_from_another_process(
        settings_env, [comment(other["id"], "elsewhere"), comment(mine["id"], "here")]
    )
    event = await next_json(ws)
    assert (event["id"], event["data"]["text"]) == (ids[1], "here")
    await ws.close()


async def test_idle_sockets_get_pings(live: LiveServer, http: httpx.AsyncClient) -> None:
    headers = await register(http)
    project = await make_project(http, headers)
    ws = await open_socket(live.ws_url(f"/ws/projects/{project['id']}/?token={token_of(headers)}"))
    assert (await next_json(ws))["type"] == "snapshot"
    ping = await next_json(ws, skip_pings=False)  # the live server pings every second
    assert ping["type"] == "ping"
    assert isinstance(ping["ts"], float)
    await ws.close()


async def test_server_closes_when_the_access_token_expires(
    live: LiveServer, http: httpx.AsyncClient, settings: Settings
) -> None:
    headers = await register(http)
    project = await make_project(http, headers)
    me = (await http.get("/api/auth/me/", headers=headers)).json()
    secret = settings.jwt_secret.get_secret_value()
    now = int(time.time())
    token = jwt.encode(
        {"sub": str(me["id"]), "iat": now, "exp": now + 2, "typ": "access"}, secret, algorithm=JWT_ALGORITHM
    )
    ws = await open_socket(live.ws_url(f"/ws/projects/{project['id']}/?token={token}"))
    code, reason, messages = await closed_with(ws)
    assert messages[0]["type"] == "snapshot"
    assert code == 1008
    assert "expired" in reason
