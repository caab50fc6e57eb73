"""An owner socket opens with a single-use ticket from `POST /api/auth/socket-ticket/`, so no access token has to
travel in the URL; `?token=` keeps working."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from redis.asyncio import Redis

from core.settings import Settings
from devstack.services import free_port, start_redis
from tests.builders import make_project, register
from tests.realtime.conftest import (
    LiveServer,
    closed_with,
    next_json,
    open_socket,
    start_live_server,
    token_of,
)

POLICY_VIOLATION = 1008
TRY_AGAIN_LATER = 1013


async def ticket_for(http: httpx.AsyncClient, headers: dict[str, str], project_id: int) -> str:
    answer = await http.post("/api/auth/socket-ticket/", json={"project_id": project_id}, headers=headers)
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["expires_in"] == 30
    ticket: str = body["ticket"]
    return ticket


async def test_a_ticket_opens_the_owner_socket_once(live: LiveServer, http: httpx.AsyncClient) -> None:
    headers = await register(http)
    project = await make_project(http, headers)
    ticket = await ticket_for(http, headers, project["id"])
    assert token_of(headers) not in ticket

    ws = await open_socket(live.ws_url(f"/ws/projects/{project['id']}/?ticket={ticket}"))
    snapshot = await next_json(ws)
    assert snapshot["type"] == "snapshot"
    assert snapshot["data"]["project_id"] == project["id"]

    again = await open_socket(live.ws_url(f"/ws/projects/{project['id']}/?ticket={ticket}"))
    code, reason, messages = await closed_with(again)
    assert (code, messages) == (POLICY_VIOLATION, [])
    assert reason == "The socket ticket is unknown, used or expired; ask for a new one."
    await ws.close()


async def test_the_access_token_in_the_query_string_still_works(
    live: LiveServer, http: httpx.AsyncClient
) -> None:
    headers = await register(http)
    project = await make_project(http, headers)
    ws = await open_socket(live.ws_url(f"/ws/projects/{project['id']}/?token={token_of(headers)}"))
    assert (await next_json(ws))["type"] == "snapshot"
    await ws.close()


@pytest.mark.parametrize("case", ["unknown", "expired", "other project", "too long"])
async def test_refused_tickets(case: str, live: LiveServer, http: httpx.AsyncClient, redis: Redis) -> None:
    headers = await register(http)
    project = await make_project(http, headers)
    other = await make_project(http, headers)
    ticket = await ticket_for(http, headers, other["id"] if case == "other project" else project["id"])
    if case == "unknown":
        ticket = ticket[::-1]
    if case == "expired":
        # What Redis does when the TTL runs out, without waiting for it.
        assert await redis.delete(f"socket-ticket:{ticket}") == 1
    if case == "too long":
        ticket = ticket * 3
    ws = await open_socket(live.ws_url(f"/ws/projects/{project['id']}/?ticket={ticket}"))
    code, reason, messages = await closed_with(ws)
    assert (code, messages) == (POLICY_VIOLATION, [])
    expected = {
        "other project": "The socket ticket is for another project; ask for a new one.",
    }.get(case, "The socket ticket is unknown, used or expired; ask for a new one.")
    assert reason == expected


async def test_a_ticket_expires_after_its_ttl(
    live: LiveServer, http: httpx.AsyncClient, redis: Redis
) -> None:
    headers = await register(http)
    project = await make_project(http, headers)
    ticket = await ticket_for(http, headers, project["id"])
    ttl = await redis.ttl(f"socket-ticket:{ticket}")
    assert 0 < ttl <= 30


async def test_tickets_are_only_for_your_own_projects(http: httpx.AsyncClient) -> None:
    owner = await register(http)
    stranger = await register(http)
    project = await make_project(http, owner)
    refused = await http.post(
        "/api/auth/socket-ticket/", json={"project_id": project["id"]}, headers=stranger
    )
    assert refused.status_code == 404
    assert refused.json()["detail"] == "Project not found."
    anonymous = await http.post("/api/auth/socket-ticket/", json={"project_id": project["id"]})
    assert anonymous.status_code == 401


async def test_without_redis_a_ticket_answers_503_and_a_ticket_socket_try_again(
    settings: Settings, tmp_path: Path
) -> None:
    # Our own Redis (stopping the session's would break every other test) and our own API server using it.
    redis_service = start_redis(tmp_path / "redis", free_port(), tmp_path / "redis.log")
    server = start_live_server(settings.model_copy(update={"redis_url": redis_service.url}))
    try:
        async with httpx.AsyncClient(base_url=server.http_url, timeout=15) as http:
            headers = await register(http)
            project = await make_project(http, headers)
            ticket = await ticket_for(http, headers, project["id"])
            redis_service.stop()
            answer = await http.post(
                "/api/auth/socket-ticket/", json={"project_id": project["id"]}, headers=headers
            )
            assert answer.status_code == 503, answer.text
            assert answer.json() == {
                "detail": "Live events are unavailable (Redis); try again in a moment.",
                "code": "upstream_unavailable",
            }
        ws = await open_socket(server.ws_url(f"/ws/projects/{project['id']}/?ticket={ticket}"))
        code, reason, messages = await closed_with(ws)
        assert (code, reason, messages) == (
            TRY_AGAIN_LATER,
            "Live events are unavailable; reconnect shortly.",
            [],
        )
    finally:
        server.stop()
        redis_service.stop()
