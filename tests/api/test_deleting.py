"""Deleting shots, variants and projects the way people do it: after commenting, after choosing favourites, and
from two tabs at once. Every answer is a clear 2xx/404/409 and the database stays consistent afterwards."""

from __future__ import annotations

import asyncio

import httpx
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session
from sqlmodel import func, select

from core.models import Asset, Box, Comment
from tests.builders import make_asset, make_box, make_project, register

SETTLED = {200, 201, 204, 404, 409}


async def comment(client, headers, box_id, text="Tighter framing", **body):
    response = await client.post(
        f"/api/boxes/{box_id}/comments/", json={"text": text, **body}, headers=headers
    )
    assert response.status_code == 201, response.text
    return response.json()


async def count(sessionmaker, table, **where) -> int:
    async with sessionmaker() as session:
        conditions = [getattr(table, name) == value for name, value in where.items()]
        return (await session.exec(select(func.count()).select_from(table).where(*conditions))).one()


async def pending_keys(sessionmaker, asset_ids) -> list[str]:
    async with sessionmaker() as session:
        connection = await session.connection()
        rows = await connection.execute(
            sa.text("SELECT key FROM pending_object_deletion WHERE asset_id = ANY(:ids) ORDER BY id"),
            {"ids": list(asset_ids)},
        )
        return list(rows.scalars())


async def positions(client, headers, project_id) -> list[int]:
    listed = await client.get(f"/api/projects/{project_id}/boxes/?limit=200", headers=headers)
    assert listed.status_code == 200, listed.text
    return [box["position"] for box in listed.json()["items"]]


async def test_comment_then_delete_the_box(client, sessionmaker, storage):
    headers = await register(client)
    project = await make_project(client, headers)
    box = await make_box(client, headers, project["id"])
    asset = await make_asset(sessionmaker, box["id"], storage=storage)
    await comment(client, headers, box["id"], "About the whole shot")
    await comment(client, headers, box["id"], "About this variant", asset_id=asset.id)

    response = await client.delete(f"/api/boxes/{box['id']}/", headers=headers)

    assert response.status_code == 204, response.text
    assert await count(sessionmaker, Comment, box_id=box["id"]) == 0
    listed = await client.get(f"/api/projects/{project['id']}/comments/", headers=headers)
    assert listed.json()["total"] == 0
    assert (await client.get(f"/api/boxes/{box['id']}/", headers=headers)).status_code == 404


async def test_comment_on_a_variant_then_delete_it_deletes_that_comment_only(client, sessionmaker, storage):
    headers = await register(client)
    project = await make_project(client, headers)
    box = await make_box(client, headers, project["id"])
    asset = await make_asset(sessionmaker, box["id"], storage=storage)
    on_box = await comment(client, headers, box["id"], "About the whole shot")
    await comment(client, headers, box["id"], "Internal: this one is off-brand", asset_id=asset.id)

    assert (await client.delete(f"/api/assets/{asset.id}/", headers=headers)).status_code == 204

    listed = (await client.get(f"/api/projects/{project['id']}/comments/", headers=headers)).json()
    assert [c["id"] for c in listed["items"]] == [
        on_box["id"]
    ]  # the variant's note went with it, never moved


async def test_favourite_then_delete_the_box(client, sessionmaker, storage):
    headers = await register(client)
    project = await make_project(client, headers)
    box = await make_box(client, headers, project["id"])
    asset = await make_asset(sessionmaker, box["id"], storage=storage)
    favourite = await client.patch(f"/api/assets/{asset.id}/", json={"is_favorite": True}, headers=headers)
    assert favourite.status_code == 200
    headliner = await client.patch(
        f"/api/boxes/{box['id']}/", json={"headliner_id": asset.id}, headers=headers
    )
    assert headliner.status_code == 200

    assert (await client.delete(f"/api/boxes/{box['id']}/", headers=headers)).status_code == 204

    assert (await client.get(f"/api/assets/{asset.id}/", headers=headers)).status_code == 404
    assert await count(sessionmaker, Asset, id=asset.id) == 0
    assert not storage.exists(asset.file_key) and not storage.exists(asset.thumbnail_key)


async def test_deleting_a_box_deletes_its_rows_then_its_objects_after_the_commit(
    client, sessionmaker, storage
):
    headers = await register(client)
    project = await make_project(client, headers)
    box = await make_box(client, headers, project["id"])
    other = await make_box(client, headers, project["id"])
    doomed = [await make_asset(sessionmaker, box["id"], storage=storage) for _ in range(3)]
    kept = await make_asset(sessionmaker, other["id"], storage=storage)

    assert (await client.delete(f"/api/boxes/{box['id']}/", headers=headers)).status_code == 204

    assert await count(sessionmaker, Asset, box_id=box["id"]) == 0
    for asset in doomed:
        assert not storage.exists(asset.file_key) and not storage.exists(asset.thumbnail_key)
    assert await pending_keys(sessionmaker, [a.id for a in doomed]) == []  # done, nothing left queued
    assert storage.exists(kept.file_key) and storage.exists(kept.thumbnail_key)
    assert await positions(client, headers, project["id"]) == [1]


async def test_a_delete_whose_commit_fails_keeps_its_rows_and_its_objects(client, sessionmaker, storage):
    """The follow-ups (cancel workflows, delete objects) are background tasks: FastAPI runs them after the session
    dependency's commit, so a commit that fails runs none of them."""
    headers = await register(client)
    project = await make_project(client, headers)
    box = await make_box(client, headers, project["id"])
    assets = [await make_asset(sessionmaker, box["id"], storage=storage) for _ in range(2)]
    lose_connection = [True]

    def terminate_own_backend(session: Session) -> None:
        if lose_connection[0]:
            lose_connection[0] = False
            session.connection().exec_driver_sql("SELECT pg_terminate_backend(pg_backend_pid())")

    sync_session = sessionmaker.class_.sync_session_class
    event.listen(sync_session, "before_commit", terminate_own_backend)
    try:
        lost = await client.delete(f"/api/boxes/{box['id']}/", headers=headers)
    finally:
        event.remove(sync_session, "before_commit", terminate_own_backend)

    assert lost.status_code == 503, lost.text
    assert await count(sessionmaker, Asset, box_id=box["id"]) == 2
    for asset in assets:
        assert storage.exists(asset.file_key) and storage.exists(asset.thumbnail_key)
    assert (
        await pending_keys(sessionmaker, [a.id for a in assets]) == []
    )  # the queue entries were rolled back too


async def test_deleting_a_project_deletes_everything_under_it(client, sessionmaker, storage):
    headers = await register(client)
    project = await make_project(client, headers)
    boxes = [await make_box(client, headers, project["id"]) for _ in range(2)]
    assets = [await make_asset(sessionmaker, b["id"], storage=storage) for b in boxes]
    await comment(client, headers, boxes[0]["id"], asset_id=assets[0].id)
    await comment(client, headers, boxes[1]["id"])

    assert (await client.delete(f"/api/projects/{project['id']}/", headers=headers)).status_code == 204

    assert await count(sessionmaker, Comment, project_id=project["id"]) == 0
    assert await count(sessionmaker, Box, project_id=project["id"]) == 0
    for asset in assets:
        assert await count(sessionmaker, Asset, id=asset.id) == 0
        assert not storage.exists(asset.file_key) and not storage.exists(asset.thumbnail_key)
    assert await pending_keys(sessionmaker, [a.id for a in assets]) == []


# --- two tabs ----------------------------------------------------------------------------------------------------


async def two_tabs(*requests):
    """Send the requests at the same time (each on its own connection and transaction)."""
    responses: list[httpx.Response] = await asyncio.gather(*requests)
    for response in responses:
        assert response.status_code in SETTLED, response.text
        if response.status_code >= 400:
            assert response.json()["detail"] and response.json()["code"]
    return responses


async def test_two_tabs_delete_the_same_box(client, sessionmaker, storage):
    headers = await register(client)
    project = await make_project(client, headers)
    boxes = [await make_box(client, headers, project["id"]) for _ in range(3)]
    await make_asset(sessionmaker, boxes[0]["id"], storage=storage)
    await comment(client, headers, boxes[0]["id"])

    for _ in range(3):
        first, second = await two_tabs(
            client.delete(f"/api/boxes/{boxes[0]['id']}/", headers=headers),
            client.delete(f"/api/boxes/{boxes[0]['id']}/", headers=headers),
        )
        assert sorted([first.status_code, second.status_code]) == [204, 404]
        assert await positions(client, headers, project["id"]) == list(range(1, len(boxes)))
        boxes.pop(0)
        if len(boxes) < 2:
            break


async def test_two_tabs_delete_a_box_while_the_other_comments_on_it(client, sessionmaker, storage):
    headers = await register(client)
    project = await make_project(client, headers)
    for _ in range(4):
        box = await make_box(client, headers, project["id"])
        asset = await make_asset(sessionmaker, box["id"], storage=storage)
        deleted, *commented = await two_tabs(
            client.delete(f"/api/boxes/{box['id']}/", headers=headers),
            client.post(f"/api/boxes/{box['id']}/comments/", json={"text": "Wait!"}, headers=headers),
            client.post(f"/api/assets/{asset.id}/comments/", json={"text": "This one"}, headers=headers),
        )
        assert deleted.status_code == 204
        assert all(r.status_code in (201, 404, 409) for r in commented)
        assert await count(sessionmaker, Comment, box_id=box["id"]) == 0
        assert await count(sessionmaker, Asset, box_id=box["id"]) == 0


async def test_two_tabs_delete_a_box_while_the_other_sets_its_headliner(client, sessionmaker, storage):
    headers = await register(client)
    project = await make_project(client, headers)
    for _ in range(4):
        box = await make_box(client, headers, project["id"])
        asset = await make_asset(sessionmaker, box["id"], storage=storage)
        deleted, headlined, favourite = await two_tabs(
            client.delete(f"/api/boxes/{box['id']}/", headers=headers),
            client.patch(f"/api/boxes/{box['id']}/", json={"headliner_id": asset.id}, headers=headers),
            client.patch(f"/api/assets/{asset.id}/", json={"is_favorite": True}, headers=headers),
        )
        assert deleted.status_code == 204
        assert headlined.status_code in (200, 404, 409) and favourite.status_code in (200, 404)
        assert await count(sessionmaker, Box, id=box["id"]) == 0
        assert await count(sessionmaker, Asset, id=asset.id) == 0
        assert not storage.exists(asset.file_key)


async def test_two_tabs_delete_a_box_while_the_other_reorders_or_deletes_the_project(client, sessionmaker):
    headers = await register(client)
    project = await make_project(client, headers)
    boxes = [await make_box(client, headers, project["id"], title=f"Shot {i}") for i in range(5)]
    ids = [b["id"] for b in boxes]
    moved, deleted = await two_tabs(
        client.patch(f"/api/boxes/{ids[4]}/", json={"position": 1}, headers=headers),
        client.delete(f"/api/boxes/{ids[2]}/", headers=headers),
    )
    assert deleted.status_code == 204 and moved.status_code == 200
    assert await positions(client, headers, project["id"]) == [1, 2, 3, 4]

    project_gone, box_gone = await two_tabs(
        client.delete(f"/api/projects/{project['id']}/", headers=headers),
        client.delete(f"/api/boxes/{ids[0]}/", headers=headers),
    )
    assert project_gone.status_code == 204 and box_gone.status_code in (204, 404)
    assert await count(sessionmaker, Box, project_id=project["id"]) == 0


async def test_many_tabs_at_once_on_one_project(client, sessionmaker, storage):
    """Deleting the box or the project while other tabs comment, choose, favourite, move and delete."""
    headers = await register(client)
    for round_ in range(6):
        project = await make_project(client, headers)
        box = await make_box(client, headers, project["id"])
        other = await make_box(client, headers, project["id"])
        asset = await make_asset(sessionmaker, box["id"], storage=storage)
        target = f"/api/projects/{project['id']}/" if round_ % 2 else f"/api/boxes/{box['id']}/"
        responses = await asyncio.gather(
            client.delete(target, headers=headers),
            client.patch(f"/api/boxes/{box['id']}/", json={"headliner_id": asset.id}, headers=headers),
            client.patch(f"/api/assets/{asset.id}/", json={"is_favorite": True}, headers=headers),
            client.post(f"/api/boxes/{box['id']}/comments/", json={"text": "Wait!"}, headers=headers),
            client.post(f"/api/assets/{asset.id}/comments/", json={"text": "This one"}, headers=headers),
            client.delete(f"/api/assets/{asset.id}/", headers=headers),
            client.patch(f"/api/boxes/{other['id']}/", json={"position": 1}, headers=headers),
            client.delete(f"/api/boxes/{other['id']}/", headers=headers),
        )
        for response in responses:
            # 422: the headliner named an asset another tab had just deleted
            assert response.status_code in SETTLED | {422}, response.text
        assert responses[0].status_code == 204
        assert await count(sessionmaker, Asset, id=asset.id) == 0
        assert await count(sessionmaker, Comment, box_id=box["id"]) == 0
        assert not storage.exists(asset.file_key)
        assert await pending_keys(sessionmaker, [asset.id]) == []
        if not round_ % 2:
            assert await positions(client, headers, project["id"]) in ([], [1])
