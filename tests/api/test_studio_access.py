"""Working in several studios: what a member lists, where a new project goes, what a viewer and an editor may do
to shots, generations and comments, and that nothing of one studio shows through another's lineage."""

from __future__ import annotations

import contextlib
import uuid

import httpx
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.service import RPCError

from core.contract import asset_workflow_id
from core.models import Asset, CreditCharge, Membership, Studio, StudioRole
from core.settings import Settings
from core.storage import Storage
from core.temporal import connect_temporal
from tests.api.test_roles import add_member
from tests.builders import app_client, make_asset, make_box, make_project, register


async def user_id(client: httpx.AsyncClient, headers: dict[str, str]) -> int:
    return int((await client.get("/api/auth/me/", headers=headers)).json()["id"])


async def studio_with_member(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], role: str, name: str = "Ana"
) -> tuple[dict[str, str], dict[str, str], dict]:
    """An owner's project (in their personal studio) and a newcomer who is `role` in that studio."""
    owner = await register(client, display_name=name)
    project = await make_project(client, owner)
    member = await register(client, display_name="Ben")
    await add_member(sessionmaker, project["studio_id"], await user_id(client, member), role)
    return owner, member, project


def refused_for(response: httpx.Response, needed: str) -> bool:
    return response.status_code == 403 and f"needs the {needed} role" in response.json()["detail"]


async def test_registration_makes_a_personal_studio_that_new_projects_go_to(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    headers = await register(client, display_name="Chloé")
    me = await user_id(client, headers)
    async with sessionmaker() as session:
        studios = (
            await session.exec(
                select(Studio.name, Membership.role)
                .join(Membership, col(Membership.studio_id) == Studio.id)
                .where(Membership.user_id == me)
            )
        ).all()
    assert studios == [("Chloé's studio", StudioRole.OWNER)]
    project = await make_project(client, headers)
    assert (project["studio_name"], project["role"]) == ("Chloé's studio", "owner")


async def test_a_member_lists_the_projects_of_all_their_studios_or_of_one(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    _, member, shared = await studio_with_member(client, sessionmaker, "viewer")
    own = await make_project(client, member, name="Own")
    stranger = await register(client)
    foreign = await make_project(client, stranger, name="Foreign")

    listed = (await client.get("/api/projects/", headers=member)).json()
    seen = {item["id"]: (item["studio_name"], item["role"]) for item in listed["items"]}
    assert seen == {shared["id"]: ("Ana's studio", "viewer"), own["id"]: ("Ben's studio", "owner")}
    assert listed["total"] == 2

    one = (await client.get(f"/api/projects/?studio_id={shared['studio_id']}", headers=member)).json()
    assert [item["id"] for item in one["items"]] == [shared["id"]] and one["total"] == 1
    # Another studio's projects are not listed, even when asked for by its id.
    theirs = await client.get(f"/api/projects/?studio_id={foreign['studio_id']}", headers=member)
    assert theirs.status_code == 200 and theirs.json()["items"] == []
    assert (await client.get(f"/api/projects/{shared['id']}/", headers=member)).json()["role"] == "viewer"


async def test_where_a_new_project_may_go(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    _, viewer, shared = await studio_with_member(client, sessionmaker, "viewer")
    refused = await client.post(
        "/api/projects/", json={"name": "X", "studio_id": shared["studio_id"]}, headers=viewer
    )
    assert refused_for(refused, "editor"), refused.text
    foreign = await make_project(client, await register(client))
    hidden = await client.post(
        "/api/projects/", json={"name": "X", "studio_id": foreign["studio_id"]}, headers=viewer
    )
    assert hidden.status_code == 404, hidden.text
    # No studio named: the first one joined where the caller may create projects (their personal studio).
    default = await make_project(client, viewer)
    assert (default["studio_name"], default["role"]) == ("Ben's studio", "owner")

    _, editor, shared = await studio_with_member(client, sessionmaker, "editor")
    there = await make_project(client, editor, studio_id=shared["studio_id"])
    assert (there["studio_id"], there["role"]) == (shared["studio_id"], "editor")

    # Only a viewer anywhere (they left their personal studio): no studio to put a project in.
    async with sessionmaker() as session:
        mine = (
            await session.exec(
                select(Membership).where(
                    Membership.user_id == await user_id(client, viewer), Membership.role == StudioRole.OWNER
                )
            )
        ).one()
        await session.delete(mine)
        await session.commit()
    nowhere = await client.post("/api/projects/", json={"name": "X"}, headers=viewer)
    assert refused_for(nowhere, "editor"), nowhere.text


async def test_the_editor_generates_and_the_viewer_is_told_the_role_needed(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    # A task queue no worker polls: the started workflow waits, its asset stays PENDING (as in test_batches_lineage).
    queue = f"studio-access-{uuid.uuid4().hex[:8]}"
    started: list[int] = []
    body = {"model": "google/nano-banana", "prompt": "a fox in the snow", "count": 1}
    async with app_client(settings.model_copy(update={"temporal_task_queue": queue})) as client:
        owner, editor, project = await studio_with_member(client, sessionmaker, "editor")
        viewer = await register(client)
        await add_member(sessionmaker, project["studio_id"], await user_id(client, viewer), "viewer")
        box = await make_box(client, owner, project["id"])
        try:
            refused = await client.post(f"/api/boxes/{box['id']}/generate/", json=body, headers=viewer)
            assert refused_for(refused, "editor"), refused.text
            assert refused.json()["details"] == {"needed_role": "editor", "role": "viewer"}

            generated = await client.post(f"/api/boxes/{box['id']}/generate/", json=body, headers=editor)
            assert generated.status_code == 202, generated.text
            started += generated.json()["asset_ids"]
            async with sessionmaker() as session:
                asset = await session.get(Asset, started[0])
                charges = (
                    await session.exec(select(CreditCharge).where(CreditCharge.asset_id == started[0]))
                ).all()
            assert asset is not None and asset.requested_by_id == await user_id(client, editor)
            assert [(c.user_id, c.studio_id) for c in charges] == [
                (await user_id(client, editor), project["studio_id"])
            ]
            # The viewer reads what the editor made, and cannot delete it.
            assert (await client.get(f"/api/assets/{started[0]}/", headers=viewer)).status_code == 200
            assert refused_for(await client.delete(f"/api/assets/{started[0]}/", headers=viewer), "editor")
        finally:
            temporal = await connect_temporal(settings)
            for asset_id in started:
                with contextlib.suppress(RPCError):
                    await temporal.get_workflow_handle(asset_workflow_id(asset_id)).terminate("test over")


async def test_a_viewer_comments_and_deletes_only_their_own_comments(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    owner, viewer, project = await studio_with_member(client, sessionmaker, "viewer")
    editor = await register(client)
    await add_member(sessionmaker, project["studio_id"], await user_id(client, editor), "editor")
    box = await make_box(client, owner, project["id"])

    async def comment(headers: dict[str, str], text: str) -> int:
        response = await client.post(
            f"/api/boxes/{box['id']}/comments/", json={"text": text}, headers=headers
        )
        assert response.status_code == 201, response.text
        return int(response.json()["id"])

    own, owners = await comment(viewer, "Too dark?"), await comment(owner, "Agreed")
    assert refused_for(await client.delete(f"/api/comments/{owners}/", headers=viewer), "editor")
    assert (await client.delete(f"/api/comments/{own}/", headers=viewer)).status_code == 204
    listed = (await client.get(f"/api/projects/{project['id']}/comments/", headers=viewer)).json()["items"]
    assert [c["id"] for c in listed] == [owners]
    # An editor deletes anyone's.
    assert (await client.delete(f"/api/comments/{owners}/", headers=editor)).status_code == 204


async def test_lineage_never_shows_another_studios_assets(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], storage: Storage
) -> None:
    """Even to someone who belongs to both studios: rows naming another studio's asset stay out of the answer."""
    _, member, first = await studio_with_member(client, sessionmaker, "editor", name="Ana")
    second = await make_project(client, member, name="Own")
    here = await make_asset(
        sessionmaker, (await make_box(client, member, first["id"]))["id"], storage=storage
    )
    there_box = (await make_box(client, member, second["id"]))["id"]
    there = await make_asset(sessionmaker, there_box, storage=storage)
    pointing = await make_asset(
        sessionmaker, here.box_id, input_asset_ids=[there.id], source_asset_id=there.id
    )
    await make_asset(sessionmaker, there_box, input_asset_ids=[here.id], source_asset_id=here.id)

    lineage = (await client.get(f"/api/assets/{pointing.id}/lineage/", headers=member)).json()
    assert (lineage["source"], lineage["inputs"]) == (None, [])
    assert (await client.get(f"/api/assets/{here.id}/lineage/", headers=member)).json()["derived"] == []
    assert (await client.get(f"/api/assets/{there.id}/lineage/", headers=member)).json()["derived"] == []
