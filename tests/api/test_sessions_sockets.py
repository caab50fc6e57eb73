"""A live socket ends with the credential that opened it: logging out everywhere closes the user's open sockets
(opened with a session's ticket or a bearer token) at their next ping, as a deactivated account's are; logging
out of one browser closes that browser's sockets only."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import pytest_asyncio

from core.realtime import SESSION_EXPIRED
from core.settings import Settings
from tests.api.test_sessions import CSRF, log_in, sign_up
from tests.realtime.conftest import LiveServer, closed_with, next_json, open_socket, start_live_server

POLICY_VIOLATION = 1008


@pytest.fixture(scope="module")
def server(settings: Settings) -> Iterator[LiveServer]:
    live = start_live_server(settings, ping_interval=0.5)
    yield live
    live.stop()


@pytest_asyncio.fixture(loop_scope="session")
async def tab(server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.http_url, timeout=15) as client:
        yield client


async def open_project_socket(server: LiveServer, client: httpx.AsyncClient, project_id: int, **kwargs):  # type: ignore[no-untyped-def]
    ticket = await client.post("/api/auth/socket-ticket/", json={"project_id": project_id}, **kwargs)
    assert ticket.status_code == 201, ticket.text
    ws = await open_socket(server.ws_url(f"/ws/projects/{project_id}/?ticket={ticket.json()['ticket']}"))
    assert (await next_json(ws))["type"] == "snapshot"
    return ws


async def still_open(ws) -> bool:  # type: ignore[no-untyped-def]
    await asyncio.wait_for(await ws.ping(), 5)
    return True


async def test_logout_everywhere_closes_open_sockets_and_logout_closes_this_browsers(
    server: LiveServer, tab: httpx.AsyncClient
) -> None:
    credentials = await sign_up(tab)
    await log_in(tab, credentials)
    project = (await tab.post("/api/projects/", json={"name": "Live"}, headers=CSRF)).json()
    login = await tab.post("/api/auth/login/", json=credentials)
    token = login.json()["access_token"]
    async with httpx.AsyncClient(base_url=server.http_url, timeout=15) as other_browser:
        await log_in(other_browser, credentials)
        # Logging out of one browser closes its sockets, not the others'.
        doomed = await open_project_socket(server, other_browser, project["id"], headers=CSRF)
        by_session = await open_project_socket(server, tab, project["id"], headers=CSRF)
        assert (await other_browser.delete("/api/auth/session/", headers=CSRF)).status_code == 204
        code, reason, _ = await asyncio.wait_for(closed_with(doomed), 10)
        assert (code, reason) == (POLICY_VIOLATION, SESSION_EXPIRED)
        assert await still_open(by_session)

    by_token = await open_socket(server.ws_url(f"/ws/projects/{project['id']}/?token={token}"))
    assert (await next_json(by_token))["type"] == "snapshot"
    by_bearer_ticket = await open_project_socket(
        server, tab, project["id"], headers={"Authorization": f"Bearer {token}"}
    )
    assert (await tab.post("/api/auth/logout-everywhere/", headers=CSRF)).status_code == 204
    for ws in (by_session, by_token, by_bearer_ticket):
        code, reason, _ = await asyncio.wait_for(closed_with(ws), 10)
        assert (code, reason) == (POLICY_VIOLATION, SESSION_EXPIRED)
    # The revoked token cannot open a new one either.
    refused = await open_socket(server.ws_url(f"/ws/projects/{project['id']}/?token={token}"))
    code, reason, messages = await asyncio.wait_for(closed_with(refused), 10)
    assert (code, reason, messages) == (POLICY_VIOLATION, SESSION_EXPIRED, [])
