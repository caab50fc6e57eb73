"""Socket caps per user and per review link, and a deactivated user's sockets closed at the next ping."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import pytest_asyncio
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession
from websockets.asyncio.client import ClientConnection

from core.models import User
from core.settings import Settings
from tests.builders import make_project, register
from tests.realtime.conftest import (
    LiveServer,
    closed_with,
    next_json,
    open_socket,
    start_live_server,
    token_of,
)

TOO_MANY_SOCKETS = 4429
POLICY_VIOLATION = 1008
PER_USER = 3
PER_LINK = 2


@pytest.fixture(scope="module")
def capped(settings: Settings) -> Iterator[LiveServer]:
    server = start_live_server(
        settings.model_copy(update={"max_sockets_per_user": PER_USER, "max_sockets_per_link": PER_LINK}),
        ping_interval=0.5,
    )
    yield server
    server.stop()


@pytest_asyncio.fixture(loop_scope="session")
async def capped_http(capped: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=capped.http_url, timeout=15) as client:
        yield client


async def open_streaming(url: str) -> ClientConnection:
    ws = await open_socket(url)
    assert (await next_json(ws))["type"] == "snapshot"
    return ws


async def still_open(ws: ClientConnection) -> bool:
    """True when the socket still answers: a protocol ping comes back."""
    pong = await ws.ping()
    await pong
    return True


async def test_the_socket_over_the_user_cap_is_refused_and_a_closed_one_frees_a_slot(
    capped: LiveServer, capped_http: httpx.AsyncClient
) -> None:
    headers = await register(capped_http)
    first = await make_project(capped_http, headers)
    second = await make_project(capped_http, headers)
    token = token_of(headers)
    # The cap counts the user's sockets across all their projects.
    urls = [f"/ws/projects/{first['id']}/?token={token}", f"/ws/projects/{second['id']}/?token={token}"]
    sockets = [await open_streaming(capped.ws_url(urls[i % 2])) for i in range(PER_USER)]

    refused = await open_socket(capped.ws_url(urls[0]))
    code, reason, messages = await asyncio.wait_for(closed_with(refused), 10)
    assert (code, messages) == (TOO_MANY_SOCKETS, [])
    assert (
        reason
        == f"Too many live connections for your account ({PER_USER} open); close another tab, then reload."
    )
    for ws in sockets:
        assert await still_open(ws)

    # Someone else is not affected by this user's sockets.
    other = await register(capped_http)
    theirs = await make_project(capped_http, other)
    stranger = await open_streaming(capped.ws_url(f"/ws/projects/{theirs['id']}/?token={token_of(other)}"))

    await sockets.pop().close()
    # The slot is released when the server notices the close; the next socket may race it, so retry briefly.
    for _ in range(50):
        ws = await open_socket(capped.ws_url(urls[1]))
        message = await next_json_or_close(ws)
        if message is not None:
            sockets.append(ws)
            break
    else:
        pytest.fail("closing a socket never freed its slot")
    for ws in [*sockets, stranger]:
        await ws.close()


async def next_json_or_close(ws: ClientConnection) -> dict[str, object] | None:
    from websockets.exceptions import ConnectionClosed

    try:
        return await next_json(ws)
    except ConnectionClosed as exc:
        assert exc.rcvd is not None and exc.rcvd.code == TOO_MANY_SOCKETS
        return None


async def test_the_socket_over_the_review_link_cap_is_refused(
    capped: LiveServer, capped_http: httpx.AsyncClient
) -> None:
    headers = await register(capped_http)
    project = await make_project(capped_http, headers)
    created = await capped_http.post(f"/api/projects/{project['id']}/share-links/", json={}, headers=headers)
    assert created.status_code == 201, created.text
    path = f"/ws/public/{created.json()['token']}/"
    guests = [await open_streaming(capped.ws_url(path)) for _ in range(PER_LINK)]

    refused = await open_socket(capped.ws_url(path))
    code, reason, messages = await asyncio.wait_for(closed_with(refused), 10)
    assert (code, messages) == (TOO_MANY_SOCKETS, [])
    assert reason == f"Too many live connections to this review link ({PER_LINK} open); reload later."
    for ws in guests:
        assert await still_open(ws)
    # The owner's own sockets count against the user cap, not the link's.
    owner = await open_streaming(capped.ws_url(f"/ws/projects/{project['id']}/?token={token_of(headers)}"))
    for ws in [*guests, owner]:
        await ws.close()


async def test_a_deactivated_users_socket_closes_at_the_next_ping(
    capped: LiveServer,
    capped_http: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    headers = await register(capped_http)
    project = await make_project(capped_http, headers)
    me = (await capped_http.get("/api/auth/me/", headers=headers)).json()
    ticket = (
        await capped_http.post(
            "/api/auth/socket-ticket/", json={"project_id": project["id"]}, headers=headers
        )
    ).json()["ticket"]
    by_ticket = await open_streaming(capped.ws_url(f"/ws/projects/{project['id']}/?ticket={ticket}"))
    by_token = await open_streaming(capped.ws_url(f"/ws/projects/{project['id']}/?token={token_of(headers)}"))

    async with sessionmaker() as session:
        await session.exec(sa.update(User).where(col(User.id) == me["id"]).values(is_active=False))  # type: ignore[call-overload]
        await session.commit()

    for ws in (by_ticket, by_token):
        code, reason, _ = await asyncio.wait_for(closed_with(ws), 10)
        assert (code, reason) == (
            POLICY_VIOLATION,
            "Your account has been deactivated; ask an administrator.",
        )
