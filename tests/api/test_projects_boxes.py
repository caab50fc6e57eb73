"""Projects and their shots as a user works with them: create, list, rename, order, headliner, delete."""

import pytest

from core.contract import AssetKind, AssetStatus
from tests.builders import make_asset, make_box, make_project, register


async def positions(client, headers, project_id):
    response = await client.get(f"/api/projects/{project_id}/boxes/?limit=200", headers=headers)
    assert response.status_code == 200
    return [(b["title"], b["position"]) for b in response.json()["items"]]


async def test_project_crud_and_pagination(client):
    headers = await register(client)
    for name in ("One", "Two", "Three"):
        await make_project(client, headers, name=name)
    page = await client.get("/api/projects/?limit=2&offset=0", headers=headers)
    body = page.json()
    assert body["total"] == 3 and len(body["items"]) == 2 and body["limit"] == 2
    rest = (await client.get("/api/projects/?limit=2&offset=2", headers=headers)).json()
    assert len(rest["items"]) == 1

    project = body["items"][0]
    renamed = await client.patch(
        f"/api/projects/{project['id']}/", json={"name": "  Renamed "}, headers=headers
    )
    assert renamed.status_code == 200 and renamed.json()["name"] == "Renamed"
    assert (await client.delete(f"/api/projects/{project['id']}/", headers=headers)).status_code == 204
    assert (await client.get(f"/api/projects/{project['id']}/", headers=headers)).status_code == 404
    assert (await client.get("/api/projects/", headers=headers)).json()["total"] == 2


async def test_boxes_stay_in_order_without_gaps(client):
    headers = await register(client)
    project = await make_project(client, headers)
    pid = project["id"]
    for title in "ABCD":
        await make_box(client, headers, pid, title=title)
    assert await positions(client, headers, pid) == [("A", 1), ("B", 2), ("C", 3), ("D", 4)]

    await make_box(client, headers, pid, title="X", position=2)
    assert await positions(client, headers, pid) == [("A", 1), ("X", 2), ("B", 3), ("C", 4), ("D", 5)]

    boxes = (await client.get(f"/api/projects/{pid}/boxes/", headers=headers)).json()["items"]
    by_title = {b["title"]: b for b in boxes}
    moved = await client.patch(f"/api/boxes/{by_title['D']['id']}/", json={"position": 1}, headers=headers)
    assert moved.status_code == 200 and moved.json()["position"] == 1
    assert await positions(client, headers, pid) == [("D", 1), ("A", 2), ("X", 3), ("B", 4), ("C", 5)]

    await client.patch(f"/api/boxes/{by_title['D']['id']}/", json={"position": 99}, headers=headers)
    assert await positions(client, headers, pid) == [("A", 1), ("X", 2), ("B", 3), ("C", 4), ("D", 5)]

    assert (await client.delete(f"/api/boxes/{by_title['X']['id']}/", headers=headers)).status_code == 204
    assert await positions(client, headers, pid) == [("A", 1), ("B", 2), ("C", 3), ("D", 4)]

    order = [by_title[t]["id"] for t in "CADB"]
    reordered = await client.post(
        f"/api/projects/{pid}/boxes/reorder/", json={"box_ids": order}, headers=headers
    )
    assert reordered.status_code == 200
    assert await positions(client, headers, pid) == [("C", 1), ("A", 2), ("D", 3), ("B", 4)]


@pytest.mark.parametrize(
    "box_ids_fn, message",
    [
        (lambda ids: ids[:-1], "every box"),
        (lambda ids: [*ids, ids[0]], "more than once"),
        (lambda ids: [*ids[:-1], 2_000_000_000], "every box"),
    ],
)
async def test_reorder_refuses_incomplete_or_duplicate_lists(client, box_ids_fn, message):
    headers = await register(client)
    project = await make_project(client, headers)
    ids = [(await make_box(client, headers, project["id"]))["id"] for _ in range(3)]
    response = await client.post(
        f"/api/projects/{project['id']}/boxes/reorder/", json={"box_ids": box_ids_fn(ids)}, headers=headers
    )
    assert response.status_code == 422
    assert message in response.json()["detail"]


async def test_headliner_must_be_a_completed_asset_of_the_same_box(client, sessionmaker, storage):
    headers = await register(client)
    project = await make_project(client, headers)
    box = await make_box(client, headers, project["id"])
    other_box = await make_box(client, headers, project["id"])
    done = await make_asset(sessionmaker, box["id"], storage=storage)
    pending = await make_asset(sessionmaker, box["id"], status=AssetStatus.PENDING)
    foreign = await make_asset(sessionmaker, other_box["id"], storage=storage)

    ok = await client.patch(f"/api/boxes/{box['id']}/", json={"headliner_id": done.id}, headers=headers)
    assert ok.status_code == 200
    assert ok.json()["headliner_id"] == done.id
    assert ok.json()["headliner"]["thumbnail_url"].startswith("http")

    from_other_box = await client.patch(
        f"/api/boxes/{box['id']}/", json={"headliner_id": foreign.id}, headers=headers
    )
    assert from_other_box.status_code == 422
    assert "this box" in from_other_box.json()["detail"]
    not_done = await client.patch(
        f"/api/boxes/{box['id']}/", json={"headliner_id": pending.id}, headers=headers
    )
    assert not_done.status_code == 422
    assert "completed" in not_done.json()["detail"]
    missing = await client.patch(
        f"/api/boxes/{box['id']}/", json={"headliner_id": 2_000_000_000}, headers=headers
    )
    assert missing.status_code == 422

    cleared = await client.patch(f"/api/boxes/{box['id']}/", json={"headliner_id": None}, headers=headers)
    assert cleared.status_code == 200 and cleared.json()["headliner_id"] is None


async def test_board_lists_boxes_with_headliners_and_counts(client, sessionmaker, storage):
    headers = await register(client)
    project = await make_project(client, headers)
    box = await make_box(client, headers, project["id"], title="Opening")
    asset = await make_asset(sessionmaker, box["id"], storage=storage)
    await make_asset(sessionmaker, box["id"], kind=AssetKind.IMAGE, status=AssetStatus.FAILED)
    await client.patch(f"/api/boxes/{box['id']}/", json={"headliner_id": asset.id}, headers=headers)

    listed = (await client.get(f"/api/projects/{project['id']}/boxes/", headers=headers)).json()
    item = listed["items"][0]
    assert item["asset_count"] == 2
    assert item["headliner"]["id"] == asset.id
    assert item["headliner"]["model"] == "google/nano-banana"
    assert (await client.get(f"/api/projects/{project['id']}/", headers=headers)).json()["box_count"] == 1
