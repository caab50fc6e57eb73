"""Who did what: a studio's members act on one project, and the project's feed (and the objects themselves) say who
did what and when; the same lines reach owner sockets live and never a review link's socket."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.contract import AssetKind
from core.events import project_channel
from core.models import ActivityItem, StudioRole
from core.settings import Settings
from tests.builders import add_member, make_asset, make_box, make_project, register
from tests.realtime.conftest import (
    LiveServer,
    closed_with,
    next_json,
    open_socket,
    start_live_server,
    token_of,
)


async def me(client: httpx.AsyncClient, headers: dict[str, str]) -> int:
    user_id: int = (await client.get("/api/auth/me/", headers=headers)).json()["id"]
    return user_id


async def join(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    project: dict[str, Any],
    headers: dict[str, str],
    role: StudioRole,
) -> int:
    """Make the user behind `headers` a member of the project's studio (the invite flow is tested elsewhere)."""
    user_id = await me(client, headers)
    await add_member(sessionmaker, project["studio_id"], user_id, role)
    return user_id


async def feed(client: httpx.AsyncClient, headers: dict[str, str], project_id: int, **params: Any) -> dict:
    response = await client.get(f"/api/projects/{project_id}/activity/", params=params, headers=headers)
    assert response.status_code == 200, response.text
    page: dict = response.json()
    return page


async def test_the_feed_says_who_did_what_newest_first(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], storage: Any
) -> None:
    ana = await register(client, display_name="Ana")
    project = await make_project(client, ana)
    opening = await make_box(client, ana, project["id"], code="SH010", title="Opening")
    chase = await make_box(client, ana, project["id"], code="SH020", title="")
    ben = await register(client, display_name="Ben")
    ben_id = await join(client, sessionmaker, project, ben, StudioRole.EDITOR)
    vic = await register(client, display_name="Vic")
    vic_id = await join(client, sessionmaker, project, vic, StudioRole.VIEWER)
    frame = await make_asset(sessionmaker, opening["id"], storage=storage, requested_by_id=ben_id)
    spare = await make_asset(sessionmaker, opening["id"], kind=AssetKind.VIDEO, requested_by_id=None)
    await make_asset(sessionmaker, chase["id"])
    await make_asset(sessionmaker, chase["id"])
    assert (await feed(client, vic, project["id"]))["items"] == []

    # Ben picks the headliner: the board says who and when, and whose the picture is.
    assert (
        await client.patch(f"/api/boxes/{opening['id']}/", json={"headliner_id": frame.id}, headers=ben)
    ).status_code == 200
    board = (await client.get(f"/api/projects/{project['id']}/boxes/", headers=vic)).json()["items"]
    assert board[0]["headliner_set_by_name"] == "Ben" and board[0]["headliner_set_at"] is not None
    assert board[0]["headliner"]["requested_by_name"] == "Ben"
    assert board[1]["headliner_set_by_name"] is None and board[1]["headliner_set_at"] is None
    assets = (await client.get(f"/api/boxes/{opening['id']}/assets/", headers=vic)).json()["items"]
    assert {a["id"]: a["requested_by_name"] for a in assets} == {frame.id: "Ben", spare.id: None}
    read = (await client.get(f"/api/assets/{frame.id}/", headers=vic)).json()
    assert read["requested_by_name"] == "Ben"

    # A viewer comments; a favourite is not an activity; the owner shares, a guest comments, the owner revokes.
    commented = await client.post(
        f"/api/boxes/{opening['id']}/comments/", json={"text": "Warmer light? " * 30}, headers=vic
    )
    assert commented.status_code == 201 and commented.json()["author_user_id"] == vic_id
    favourite = await client.patch(f"/api/assets/{frame.id}/", json={"is_favorite": True}, headers=ben)
    assert favourite.status_code == 200 and favourite.json()["requested_by_name"] == "Ben"
    link = (await client.post(f"/api/projects/{project['id']}/share-links/", json={}, headers=ana)).json()
    view = (await client.get(f"/api/public/{link['token']}/")).json()
    guest = await client.post(
        f"/api/public/{link['token']}/comments/",
        json={"author_name": "Bob", "text": "Love it", "box_ref": view["boxes"][1]["ref"]},
    )
    assert guest.status_code == 201
    comments = (await client.get(f"/api/projects/{project['id']}/comments/", headers=vic)).json()["items"]
    assert [c["author_user_id"] for c in comments] == [vic_id, None]
    assert (await client.delete(f"/api/share-links/{link['id']}/", headers=ana)).status_code == 204

    # Ben clears the headliner, deletes a variant, then a whole shot with its two variants.
    assert (
        await client.patch(f"/api/boxes/{opening['id']}/", json={"headliner_id": None}, headers=ben)
    ).status_code == 200
    cleared = (await client.get(f"/api/boxes/{opening['id']}/", headers=vic)).json()
    assert cleared["headliner_id"] is None and cleared["headliner_set_by_name"] == "Ben"
    assert (await client.delete(f"/api/assets/{spare.id}/", headers=ben)).status_code == 204
    assert (await client.delete(f"/api/boxes/{chase['id']}/", headers=ben)).status_code == 204

    page = await feed(client, vic, project["id"])
    items = page["items"]
    assert page["total"] == len(items) == 8
    assert [i["summary"] for i in items] == [
        "Ben deleted SH020 and its 2 variants",
        "Ben deleted a video of SH010 · Opening",
        "Ben cleared the headliner of SH010 · Opening",
        "Ana revoked a review link",
        "A guest, Bob, commented on SH020",
        "Ana created a review link",
        "Vic commented on SH010 · Opening",
        "Ben set the headliner of SH010 · Opening",
    ]
    assert [i["kind"] for i in items] == [
        "shot_deleted",
        "asset_deleted",
        "headliner",
        "link_revoked",
        "commented",
        "link_created",
        "commented",
        "headliner",
    ]
    assert [i["id"] for i in items] == sorted((i["id"] for i in items), reverse=True)
    by_kind = {(i["kind"], i["actor_name"]): i for i in items}
    vic_said = by_kind[("commented", "Vic")]
    assert vic_said["actor_user_id"] == vic_id and vic_said["box_id"] == opening["id"]
    assert vic_said["details"] == {
        "code": "SH010",
        "title": "Opening",
        "text": ("Warmer light? " * 30)[:200],
        "via_link": False,
    }
    bob_said = by_kind[("commented", "Bob")]
    assert bob_said["actor_user_id"] is None and bob_said["details"]["via_link"] is True
    deleted = by_kind[("asset_deleted", "Ben")]
    assert (deleted["asset_id"], deleted["actor_user_id"], deleted["details"]["kind"]) == (
        spare.id,
        ben_id,
        "video",
    )
    assert (items[2]["asset_id"], items[2]["details"]["cleared"]) == (None, True)
    assert (items[-1]["asset_id"], items[-1]["details"]["cleared"]) == (frame.id, False)
    assert by_kind[("link_created", "Ana")]["details"] == {"link_id": link["id"]}
    assert link["token"] not in json.dumps(items)

    # Paginated like every list, and only for members of the studio.
    second = await feed(client, vic, project["id"], limit=3, offset=3)
    assert (second["total"], [i["id"] for i in second["items"]]) == (8, [i["id"] for i in items[3:6]])
    assert (await feed(client, vic, project["id"], offset=20))["total"] == 8
    outsider = await register(client)
    response = await client.get(f"/api/projects/{project['id']}/activity/", headers=outsider)
    assert response.status_code == 404


async def test_a_refused_action_leaves_no_line(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], storage: Any
) -> None:
    ana = await register(client, display_name="Ana")
    project = await make_project(client, ana)
    box = await make_box(client, ana, project["id"])
    other = await make_box(client, ana, project["id"])
    elsewhere = await make_asset(sessionmaker, other["id"], storage=storage)
    vic = await register(client, display_name="Vic")
    await join(client, sessionmaker, project, vic, StudioRole.VIEWER)

    wrong_box = await client.patch(
        f"/api/boxes/{box['id']}/", json={"headliner_id": elsewhere.id}, headers=ana
    )
    assert wrong_box.status_code == 422
    as_viewer = await client.delete(f"/api/boxes/{box['id']}/", headers=vic)
    assert as_viewer.status_code == 403
    same = await client.patch(f"/api/boxes/{box['id']}/", json={"headliner_id": None}, headers=ana)
    assert same.status_code == 200  # no change: nothing to record
    assert (await feed(client, ana, project["id"]))["total"] == 0


async def test_a_project_deleted_takes_its_feed_with_it(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    ana = await register(client, display_name="Ana")
    project = await make_project(client, ana)
    box = await make_box(client, ana, project["id"])
    assert (await client.delete(f"/api/boxes/{box['id']}/", headers=ana)).status_code == 204
    assert (await feed(client, ana, project["id"]))["total"] == 1
    assert (await client.delete(f"/api/projects/{project['id']}/", headers=ana)).status_code == 204
    async with sessionmaker() as session:
        left = (
            await session.exec(
                select(func.count()).select_from(ActivityItem).where(ActivityItem.project_id == project["id"])
            )
        ).one()
    assert left == 0


async def test_each_line_is_published_after_its_action_as_the_feed_lists_it(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    ana = await register(client, display_name="Ana")
    project = await make_project(client, ana)
    box = await make_box(client, ana, project["id"], code="SH030", title="Pier")
    redis = Redis.from_url(settings.redis_url)
    pubsub = redis.pubsub()
    await pubsub.subscribe(project_channel(project["id"]))
    try:
        await pubsub.get_message(timeout=1)  # the subscribe confirmation
        posted = await client.post(f"/api/boxes/{box['id']}/comments/", json={"text": "Nice"}, headers=ana)
        assert posted.status_code == 201
        received: list[dict[str, Any]] = []
        async with asyncio.timeout(10):
            while len(received) < 2:
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1)
                if message is not None:
                    received.append(json.loads(message["data"]))
    finally:
        await pubsub.unsubscribe()
        await pubsub.aclose()
        await redis.aclose()
    assert [m["type"] for m in received] == ["new_comment", "activity"]
    listed = (await feed(client, ana, project["id"]))["items"]
    assert received[1]["data"] == listed[0]
    assert listed[0]["summary"] == "Ana commented on SH030 · Pier"


# --- real sockets ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(settings: Settings) -> Iterator[LiveServer]:
    live = start_live_server(settings, ping_interval=0.5)
    yield live
    live.stop()


@pytest_asyncio.fixture(loop_scope="session")
async def http(server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.http_url, timeout=15) as client:
        yield client


async def test_activity_reaches_member_sockets_and_never_a_review_links(
    server: LiveServer, http: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    ana = await register(http, display_name="Ana")
    project = await make_project(http, ana)
    box = await make_box(http, ana, project["id"], code="SH040", title="Dock")
    frame = await make_asset(sessionmaker, box["id"])
    vic = await register(http, display_name="Vic")
    await join(http, sessionmaker, project, vic, StudioRole.VIEWER)
    link = (await http.post(f"/api/projects/{project['id']}/share-links/", json={}, headers=ana)).json()
    member = await open_socket(server.ws_url(f"/ws/projects/{project['id']}/?token={token_of(vic)}"))
    guest = await open_socket(server.ws_url(f"/ws/public/{link['token']}/"))
    assert (await next_json(member))["type"] == "snapshot"
    assert (await next_json(guest))["type"] == "snapshot"
    view = (await http.get(f"/api/public/{link['token']}/")).json()

    commented = await http.post(
        f"/api/public/{link['token']}/comments/",
        json={"author_name": "Bob", "text": "Lovely", "box_ref": view["boxes"][0]["ref"]},
    )
    assert commented.status_code == 201
    patched = await http.patch(f"/api/boxes/{box['id']}/", json={"headliner_id": frame.id}, headers=ana)
    assert patched.status_code == 200
    assert (await http.delete(f"/api/share-links/{link['id']}/", headers=ana)).status_code == 204

    seen = [await next_json(member) for _ in range(5)]
    assert [m["type"] for m in seen] == [
        "new_comment",
        "activity",
        "headliner_changed",
        "activity",
        "activity",
    ]
    listed = (await feed(http, vic, project["id"]))["items"]
    assert [m["data"] for m in seen if m["type"] == "activity"] == listed[:3][::-1]
    assert [m["data"]["summary"] for m in seen if m["type"] == "activity"] == [
        "A guest, Bob, commented on SH040 · Dock",
        "Ana set the headliner of SH040 · Dock",
        "Ana revoked a review link",
    ]
    # The guest heard the comment and the headliner, then the revocation closed the socket: the three activity
    # lines were published before it closed, and none of them reached it.
    code, _, messages = await closed_with(guest)
    assert code == 1008
    assert [m["type"] for m in messages if m["type"] != "ping"] == ["new_comment", "headliner_changed"]
    assert "Ana" not in json.dumps(messages)
    await member.close()
