"""Every refused socket closes with 1008 and a reason, before any snapshot and without subscribing in Redis."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from core.models import SharedLink
from core.security import JWT_ALGORITHM
from core.settings import Settings
from tests.builders import make_project, register
from tests.realtime.conftest import LiveServer, closed_with, numsub, open_socket, token_of

POLICY_VIOLATION = 1008


async def assert_refused(
    live: LiveServer, redis: Redis, path: str, project_id: int, reason_part: str
) -> None:
    ws = await open_socket(live.ws_url(path))
    code, reason, messages = await closed_with(ws)
    assert (code, messages) == (POLICY_VIOLATION, []), (code, reason, messages)
    assert reason_part.lower() in reason.lower()
    assert live.relay.stats.redis_subscribes.get(project_id, 0) == 0
    assert live.relay.local_subscribers(project_id) == 0
    assert await numsub(redis, project_id) == 0


def expired_token(settings: Settings, user_id: int) -> str:
    past = int(time.time()) - 3600
    payload = {"sub": str(user_id), "iat": past - 60, "exp": past, "typ": "access"}
    return jwt.encode(payload, settings.jwt_secret.get_secret_value(), algorithm=JWT_ALGORITHM)


@pytest.mark.parametrize(
    ("case", "reason_part"),
    [
        ("no token", "missing token"),
        ("empty token", "missing token"),
        ("bad token", "not valid"),
        ("token signed with another secret", "not valid"),
        ("expired token", "expired"),
        ("someone else's project", "not found"),
        ("unknown project", "not found"),
        ("project id that is not a number", "not found"),
        ("malformed since", "since"),
    ],
)
async def test_owner_socket_refusals(
    case: str,
    reason_part: str,
    live: LiveServer,
    http: httpx.AsyncClient,
    redis: Redis,
    settings: Settings,
) -> None:
    headers = await register(http)
    project = await make_project(http, headers)
    me = (await http.get("/api/auth/me/", headers=headers)).json()
    stranger = await register(http)
    pid = project["id"]
    forged = jwt.encode(
        {"sub": str(me["id"]), "exp": int(time.time()) + 600, "typ": "access"},
        "x" * 32,
        algorithm=JWT_ALGORITHM,
    )
    path = {
        "no token": f"/ws/projects/{pid}/",
        "empty token": f"/ws/projects/{pid}/?token=",
        "bad token": f"/ws/projects/{pid}/?token=not-a-jwt",
        "token signed with another secret": f"/ws/projects/{pid}/?token={forged}",
        "expired token": f"/ws/projects/{pid}/?token={expired_token(settings, me['id'])}",
        "someone else's project": f"/ws/projects/{pid}/?token={token_of(stranger)}",
        "unknown project": f"/ws/projects/{pid + 1_000_000}/?token={token_of(headers)}",
        "project id that is not a number": f"/ws/projects/12abc/?token={token_of(headers)}",
        "malformed since": f"/ws/projects/{pid}/?token={token_of(headers)}&since=yesterday",
    }[case]
    watched = pid + 1_000_000 if case == "unknown project" else pid
    await assert_refused(live, redis, path, watched, reason_part)


@pytest.mark.parametrize(
    ("case", "reason_part"),
    [
        ("revoked link", "revoked"),
        ("expired link", "expired"),
        ("unknown link", "does not exist"),
        ("malformed token", "does not exist"),
        ("malformed since", "since"),
    ],
)
async def test_review_link_socket_refusals(
    case: str,
    reason_part: str,
    live: LiveServer,
    http: httpx.AsyncClient,
    redis: Redis,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    headers = await register(http)
    project = await make_project(http, headers)
    created = await http.post(f"/api/projects/{project['id']}/share-links/", json={}, headers=headers)
    assert created.status_code == 201, created.text
    link = created.json()
    token = link["token"]
    if case == "revoked link":
        assert (await http.delete(f"/api/share-links/{link['id']}/", headers=headers)).status_code == 204
    if case == "expired link":
        async with sessionmaker() as session:
            row = await session.get(SharedLink, link["id"])
            assert row is not None
            row.expires_at = datetime.now(UTC) - timedelta(minutes=1)
            session.add(row)
            await session.commit()
    path = {
        "revoked link": f"/ws/public/{token}/",
        "expired link": f"/ws/public/{token}/",
        "unknown link": f"/ws/public/{uuid.uuid4()}/",
        "malformed token": "/ws/public/not-a-uuid/",
        "malformed since": f"/ws/public/{token}/?since=1-2-3",
    }[case]
    await assert_refused(live, redis, path, project["id"], reason_part)
