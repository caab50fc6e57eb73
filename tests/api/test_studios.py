"""Studios as their members meet them: creating one, seeing its members, changing roles, removing members and
leaving; a studio always keeps an owner, even when two owners demote each other at the same moment."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.models import Membership, StudioInvite
from core.studios import MAX_STUDIOS_PER_USER
from tests.builders import make_project, register

Headers = dict[str, str]


async def me(client: httpx.AsyncClient, headers: Headers) -> dict[str, Any]:
    response = await client.get("/api/auth/me/", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def make_studio(
    client: httpx.AsyncClient, headers: Headers, name: str = "Northlight"
) -> dict[str, Any]:
    response = await client.post("/api/studios/", json={"name": name}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def invite(
    client: httpx.AsyncClient, headers: Headers, studio_id: int, role: str, **extra: Any
) -> dict[str, Any]:
    response = await client.post(
        f"/api/studios/{studio_id}/invites/", json={"role": role, **extra}, headers=headers
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def add_member(
    client: httpx.AsyncClient, owner: Headers, studio_id: int, role: str, **register_overrides: Any
) -> tuple[Headers, int]:
    """A fresh user who joined the studio with `role`: their headers and user id."""
    headers = await register(client, **register_overrides)
    token = (await invite(client, owner, studio_id, role))["token"]
    joined = await client.post(f"/api/join/{token}/", headers=headers)
    assert joined.status_code == 200, joined.text
    return headers, (await me(client, headers))["id"]


async def studio_with(
    client: httpx.AsyncClient, *roles: str
) -> tuple[dict[str, Any], Headers, list[tuple[Headers, int]]]:
    """A new studio, its owner's headers, and one member per role in `roles`."""
    owner = await register(client, display_name="Olga Owner")
    studio = await make_studio(client, owner)
    members = [await add_member(client, owner, studio["id"], role) for role in roles]
    return studio, owner, members


async def done_or_waiting_on_a_lock(
    sessionmaker: async_sessionmaker[AsyncSession], task: asyncio.Task[Any]
) -> bool:
    """Whether `task` finished (True) or is stuck behind a row lock another transaction of this test holds
    (False). Polls: the test holds that transaction open until this returns, so it cannot be missed."""
    for _ in range(400):
        if task.done():
            return True
        async with sessionmaker() as session:
            waiting = await session.exec(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            )
            if waiting.one()[0]:
                return False
        await asyncio.sleep(0.01)
    raise AssertionError("the request neither finished nor waited on a lock")


def members_url(studio_id: int, user_id: int | None = None) -> str:
    return f"/api/studios/{studio_id}/members/" + (f"{user_id}/" if user_id is not None else "")


async def roles_of(client: httpx.AsyncClient, headers: Headers, studio_id: int) -> dict[int, str]:
    response = await client.get(members_url(studio_id), headers=headers)
    assert response.status_code == 200, response.text
    return {m["user_id"]: m["role"] for m in response.json()["items"]}


async def test_registration_gives_a_personal_studio_and_a_new_studio_makes_its_creator_owner(client):
    headers = await register(client, display_name="Ana")
    listed = (await client.get("/api/studios/", headers=headers)).json()
    assert listed["total"] == 1
    personal = listed["items"][0]
    assert (personal["name"], personal["role"], personal["member_count"]) == ("Ana's studio", "owner", 1)
    assert (personal["daily_credit_budget"], personal["spent_today"]) == (None, 0)

    made = await make_studio(client, headers, "  Northlight  ")
    assert (made["name"], made["role"], made["member_count"]) == ("Northlight", "owner", 1)
    listed = (await client.get("/api/studios/", headers=headers)).json()
    assert [s["name"] for s in listed["items"]] == ["Ana's studio", "Northlight"]  # oldest membership first
    assert (await client.get(f"/api/studios/{made['id']}/", headers=headers)).json() == made

    members = (await client.get(members_url(made["id"]), headers=headers)).json()
    assert members["total"] == 1
    only = members["items"][0]
    assert (only["user_id"], only["display_name"], only["role"]) == (
        (await me(client, headers))["id"],
        "Ana",
        "owner",
    )


async def test_a_studio_is_invisible_outside_and_read_only_below_owner(client):
    studio, owner, [(editor, _), (viewer, _)] = await studio_with(client, "editor", "viewer")
    stranger = await register(client)
    sid = studio["id"]

    for headers in (editor, viewer):
        seen = await client.get(f"/api/studios/{sid}/", headers=headers)
        assert seen.status_code == 200 and seen.json()["member_count"] == 3
        assert (await client.get(members_url(sid), headers=headers)).json()["total"] == 3
    assert (await client.get(f"/api/studios/{sid}/", headers=editor)).json()["role"] == "editor"

    assert (await client.get(f"/api/studios/{sid}/", headers=stranger)).status_code == 404
    assert (await client.get(members_url(sid), headers=stranger)).status_code == 404
    assert (
        await client.patch(f"/api/studios/{sid}/", json={"name": "Mine"}, headers=stranger)
    ).status_code == 404

    refused = await client.patch(f"/api/studios/{sid}/", json={"name": "Ours"}, headers=editor)
    assert refused.status_code == 403
    assert refused.json()["detail"] == "This needs the owner role in Northlight; you are an editor there."
    assert refused.json()["details"] == {"needed_role": "owner", "role": "editor"}
    assert (await client.get(f"/api/studios/{sid}/invites/", headers=viewer)).status_code == 403

    renamed = await client.patch(f"/api/studios/{sid}/", json={"name": "Northlight Films"}, headers=owner)
    assert renamed.status_code == 200 and renamed.json()["name"] == "Northlight Films"


async def test_owners_change_roles_and_the_last_owner_cannot_be_demoted(client):
    studio, owner, [(editor, editor_id)] = await studio_with(client, "editor")
    sid, owner_id = studio["id"], (await me(client, owner))["id"]

    # An editor may not change roles, not even their own.
    assert (
        await client.patch(members_url(sid, editor_id), json={"role": "owner"}, headers=editor)
    ).status_code == 403

    demoted = await client.patch(members_url(sid, editor_id), json={"role": "viewer"}, headers=owner)
    assert demoted.status_code == 200
    assert (demoted.json()["user_id"], demoted.json()["role"]) == (editor_id, "viewer")

    last = await client.patch(members_url(sid, owner_id), json={"role": "editor"}, headers=owner)
    assert last.status_code == 409
    assert last.json()["detail"] == (
        "Northlight needs at least one owner: make another member an owner first, or delete its projects and "
        "then the studio."
    )
    assert await roles_of(client, owner, sid) == {owner_id: "owner", editor_id: "viewer"}

    # With a second owner, the first may step down.
    assert (
        await client.patch(members_url(sid, editor_id), json={"role": "owner"}, headers=owner)
    ).status_code == 200
    assert (
        await client.patch(members_url(sid, owner_id), json={"role": "editor"}, headers=owner)
    ).status_code == 200
    assert await roles_of(client, editor, sid) == {owner_id: "editor", editor_id: "owner"}
    # The demoted owner can no longer manage members.
    assert (
        await client.patch(members_url(sid, editor_id), json={"role": "viewer"}, headers=owner)
    ).status_code == 403

    assert (
        await client.patch(members_url(sid, 999_999), json={"role": "viewer"}, headers=editor)
    ).status_code == 404


async def test_two_owners_demoting_each_other_at_once_leave_one_owner(client):
    studio, first, [(second, second_id)] = await studio_with(client, "owner")
    sid, first_id = studio["id"], (await me(client, first))["id"]

    answers = await asyncio.gather(
        client.patch(members_url(sid, second_id), json={"role": "viewer"}, headers=first),
        client.patch(members_url(sid, first_id), json={"role": "viewer"}, headers=second),
    )

    # Whichever went first won; the other found itself no longer an owner (403) or the last one (409).
    assert sorted(a.status_code for a in answers) in ([200, 403], [200, 409]), [a.text for a in answers]
    roles = await roles_of(client, first, sid)
    assert sorted(roles.values()) == ["owner", "viewer"]


async def test_two_owners_removing_each_other_at_once_leave_one_owner(client):
    studio, first, [(second, second_id)] = await studio_with(client, "owner")
    sid, first_id = studio["id"], (await me(client, first))["id"]

    answers = await asyncio.gather(
        client.delete(members_url(sid, second_id), headers=first),
        client.delete(members_url(sid, first_id), headers=second),
    )

    assert sorted(a.status_code for a in answers) in ([204, 404], [204, 403], [204, 409]), [
        a.text for a in answers
    ]
    survivors = [
        h for h in (first, second) if (await client.get(f"/api/studios/{sid}/", headers=h)).status_code == 200
    ]
    assert len(survivors) == 1
    assert list((await roles_of(client, survivors[0], sid)).values()) == ["owner"]


async def test_owners_remove_members_members_leave_and_the_last_owner_stays(client):
    studio, owner, [(editor, editor_id), (viewer, viewer_id)] = await studio_with(client, "editor", "viewer")
    sid, owner_id = studio["id"], (await me(client, owner))["id"]
    project = await make_project(client, owner, studio_id=sid)

    # A member may not remove someone else.
    refused = await client.delete(members_url(sid, viewer_id), headers=editor)
    assert refused.status_code == 403 and "needs the owner role" in refused.json()["detail"]

    # Anyone may leave.
    assert (await client.delete(members_url(sid, viewer_id), headers=viewer)).status_code == 204
    assert (await client.get(f"/api/projects/{project['id']}/", headers=viewer)).status_code == 404
    assert (await client.get("/api/studios/", headers=viewer)).json()["total"] == 1  # their own studio

    assert (await client.delete(members_url(sid, editor_id), headers=owner)).status_code == 204
    assert (await client.get(f"/api/studios/{sid}/", headers=editor)).status_code == 404
    assert (await client.delete(members_url(sid, editor_id), headers=owner)).status_code == 404

    last = await client.delete(members_url(sid, owner_id), headers=owner)
    assert last.status_code == 409 and last.json()["details"] == {"reason": "last_owner"}
    assert await roles_of(client, owner, sid) == {owner_id: "owner"}


async def test_one_person_may_own_only_so_many_studios_and_leaving_or_deleting_one_frees_room(client):
    headers = await register(client)
    made = [
        await make_studio(client, headers, f"Studio {number}") for number in range(MAX_STUDIOS_PER_USER - 1)
    ]

    refused = await client.post("/api/studios/", json={"name": "One more"}, headers=headers)

    assert refused.status_code == 409
    assert refused.json()["detail"] == (
        f"You own {MAX_STUDIOS_PER_USER} studios, the most one person may: delete one you no longer use (once "
        "its projects are deleted), or make another member an owner of one and leave it."
    )
    assert (await client.get("/api/studios/", headers=headers)).json()["total"] == MAX_STUDIOS_PER_USER

    # Deleting one frees room.
    assert (await client.delete(f"/api/studios/{made[0]['id']}/", headers=headers)).status_code == 204
    await make_studio(client, headers, "In its place")
    assert (await client.post("/api/studios/", json={"name": "Over"}, headers=headers)).status_code == 409

    # So does handing one to another owner and leaving it (the count is of studios owned, not created).
    other = await register(client)
    token = (await invite(client, headers, made[1]["id"], "owner"))["token"]
    assert (await client.post(f"/api/join/{token}/", headers=other)).status_code == 200
    mine = (await me(client, headers))["id"]
    assert (await client.delete(members_url(made[1]["id"], mine), headers=headers)).status_code == 204
    await make_studio(client, headers, "Another")


async def test_an_owner_deletes_an_empty_studio_with_its_members_and_invites(client, sessionmaker):
    studio, owner, [(editor, editor_id)] = await studio_with(client, "editor")
    sid = studio["id"]
    await invite(client, owner, sid, "viewer")
    project = await make_project(client, owner, studio_id=sid)
    url = f"/api/studios/{sid}/"

    refused = await client.delete(url, headers=editor)
    assert refused.status_code == 403 and "needs the owner role" in refused.json()["detail"]
    busy = await client.delete(url, headers=owner)
    assert busy.status_code == 409
    assert busy.json()["detail"] == (
        "Northlight still has 1 project: delete it first (no project moves between studios), then the studio."
    )
    assert busy.json()["details"] == {"reason": "has_projects", "projects": 1}

    assert (await client.delete(f"/api/projects/{project['id']}/", headers=owner)).status_code == 204
    assert (await client.delete(url, headers=owner)).status_code == 204

    for headers in (owner, editor):
        assert (await client.get(url, headers=headers)).status_code == 404
        assert (await client.get("/api/studios/", headers=headers)).json()["total"] == 1  # their personal one
    async with sessionmaker() as session:
        left = await session.exec(
            select(func.count()).select_from(StudioInvite).where(StudioInvite.studio_id == sid)
        )
        assert left.one() == 0
        assert (await session.exec(select(Membership).where(Membership.user_id == editor_id))).all() != []
        assert (await session.exec(select(Membership).where(Membership.studio_id == sid))).all() == []


async def test_the_last_owner_of_a_studio_gets_rid_of_it_by_deleting_it(client):
    studio, owner, _ = await studio_with(client)
    owner_id = (await me(client, owner))["id"]
    last = await client.delete(members_url(studio["id"], owner_id), headers=owner)
    assert last.status_code == 409 and "then the studio" in last.json()["detail"]

    assert (await client.delete(f"/api/studios/{studio['id']}/", headers=owner)).status_code == 204
    assert (await client.get(f"/api/studios/{studio['id']}/", headers=owner)).status_code == 404


async def test_a_studio_name_is_checked(client):
    headers = await register(client)
    for name in ("", "   ", "x" * 121):
        assert (await client.post("/api/studios/", json={"name": name}, headers=headers)).status_code == 422
    studio = await make_studio(client, headers)
    budget = await client.patch(
        f"/api/studios/{studio['id']}/", json={"daily_credit_budget": -1}, headers=headers
    )
    assert budget.status_code == 422


async def test_someone_in_no_studio_is_told_how_to_get_one_before_creating_a_project(client):
    headers = await register(client)
    personal = (await client.get("/api/studios/", headers=headers)).json()["items"][0]
    assert (await client.delete(f"/api/studios/{personal['id']}/", headers=headers)).status_code == 204

    refused = await client.post("/api/projects/", json={"name": "X"}, headers=headers)

    assert refused.status_code == 403
    assert refused.json()["detail"] == (
        "Creating a project needs the editor role in a studio, and you belong to no studio where you have it: "
        "create a studio of your own (you will be its owner) or ask a studio's owner to make you an editor."
    )
    await make_studio(client, headers)
    assert (await client.post("/api/projects/", json={"name": "X"}, headers=headers)).status_code == 201
