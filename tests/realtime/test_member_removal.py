"""A member removed from a studio (or leaving it) loses its live project sockets at once: those on the studio's
projects close with 1008 and a sentence, their other sockets stay, whichever API process serves them (the
removal is announced through Redis to every process's relay). Should that announcement be missed, the next ping
re-checks membership; a member merely demoted keeps reading."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import delete
from sqlmodel.ext.asyncio.session import AsyncSession

from core.models import Membership
from core.realtime import NO_LONGER_MEMBER
from core.settings import Settings
from tests.api.test_studios import add_member, make_studio, me, members_url
from tests.builders import make_project, register
from tests.realtime.conftest import LiveServer, closed_with, next_json, open_socket, start_live_server

POLICY_VIOLATION = 1008
Headers = dict[str, str]


@pytest.fixture(scope="module")
def servers(settings: Settings) -> Iterator[tuple[LiveServer, LiveServer]]:
    """Two API processes' worth of apps: one pings its sockets rarely (a close within seconds is the removal's
    own), the other often."""
    slow = start_live_server(settings, ping_interval=120)
    fast = start_live_server(settings, ping_interval=0.5)
    yield slow, fast
    slow.stop()
    fast.stop()


@pytest_asyncio.fixture(loop_scope="session")
async def http(servers: tuple[LiveServer, LiveServer]) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=servers[0].http_url, timeout=15) as client:
        yield client


async def project_socket(server: LiveServer, client: httpx.AsyncClient, headers: Headers, project_id: int):  # type: ignore[no-untyped-def]
    ticket = await client.post("/api/auth/socket-ticket/", json={"project_id": project_id}, headers=headers)
    assert ticket.status_code == 201, ticket.text
    ws = await open_socket(server.ws_url(f"/ws/projects/{project_id}/?ticket={ticket.json()['ticket']}"))
    assert (await next_json(ws))["type"] == "snapshot"
    return ws


async def still_open(ws) -> bool:  # type: ignore[no-untyped-def]
    await asyncio.wait_for(await ws.ping(), 5)
    return True


async def test_a_removed_members_sockets_on_the_studios_projects_close_at_once(
    servers: tuple[LiveServer, LiveServer], http: httpx.AsyncClient
) -> None:
    slow, _ = servers
    owner = await register(http)
    studio = await make_studio(http, owner)
    editor, editor_id = await add_member(http, owner, studio["id"], "editor")
    viewer, _ = await add_member(http, owner, studio["id"], "viewer")
    shared = await make_project(http, owner, studio_id=studio["id"])
    own = await make_project(http, editor)  # in the editor's personal studio

    doomed = await project_socket(slow, http, editor, shared["id"])
    kept = await project_socket(slow, http, editor, own["id"])
    colleague = await project_socket(slow, http, viewer, shared["id"])

    assert (await http.delete(members_url(studio["id"], editor_id), headers=owner)).status_code == 204

    code, reason, _ = await asyncio.wait_for(closed_with(doomed), 10)
    assert (code, reason) == (POLICY_VIOLATION, NO_LONGER_MEMBER)
    assert await still_open(kept)
    assert await still_open(colleague)
    # Nor may they open a new one.
    ticket = await http.post("/api/auth/socket-ticket/", json={"project_id": shared["id"]}, headers=editor)
    assert ticket.status_code == 404
    for ws in (kept, colleague):
        await ws.close()


async def test_leaving_through_another_process_closes_the_socket_at_once_and_a_demotion_closes_none(
    servers: tuple[LiveServer, LiveServer], http: httpx.AsyncClient
) -> None:
    slow, fast = servers
    owner = await register(http)
    studio = await make_studio(http, owner)
    leaver, leaver_id = await add_member(http, owner, studio["id"], "editor")
    demoted, demoted_id = await add_member(http, owner, studio["id"], "editor")
    project = await make_project(http, owner, studio_id=studio["id"])

    # On the process that pings rarely: a close within seconds is the removal's own.
    elsewhere = await project_socket(slow, http, leaver, project["id"])
    reader = await project_socket(slow, http, demoted, project["id"])

    # Through the other process (its relay does not hold the socket): it asks every relay to close it.
    async with httpx.AsyncClient(base_url=fast.http_url, timeout=15) as other:
        left = await other.delete(members_url(studio["id"], leaver_id), headers=leaver)
    assert left.status_code == 204
    code, reason, _ = await asyncio.wait_for(closed_with(elsewhere), 10)
    assert (code, reason) == (POLICY_VIOLATION, NO_LONGER_MEMBER)

    demotion = await http.patch(members_url(studio["id"], demoted_id), json={"role": "viewer"}, headers=owner)
    assert demotion.status_code == 200
    assert await still_open(reader)
    await reader.close()


async def test_a_membership_gone_without_an_announcement_closes_the_socket_at_its_next_ping(
    servers: tuple[LiveServer, LiveServer],
    http: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    _, fast = servers
    owner = await register(http)
    studio = await make_studio(http, owner)
    member, member_id = await add_member(http, owner, studio["id"], "editor")
    project = await make_project(http, owner, studio_id=studio["id"])
    ws = await project_socket(fast, http, member, project["id"])
    assert (await me(http, member))["id"] == member_id

    # As if the announcement were lost (Redis down at that moment): only the ping's membership check is left.
    async with sessionmaker() as session:
        await session.exec(
            delete(Membership).where(Membership.studio_id == studio["id"], Membership.user_id == member_id)
        )
        await session.commit()

    code, reason, _ = await asyncio.wait_for(closed_with(ws), 10)
    assert (code, reason) == (POLICY_VIOLATION, NO_LONGER_MEMBER)
