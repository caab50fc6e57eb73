"""The board and the box view load what they return in a constant number of SQL statements (no N+1)."""

from contextlib import contextmanager

from sqlalchemy import event

from tests.builders import make_asset, make_box, make_project, register


@contextmanager
def count_statements(engine):
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def board_with(client, sessionmaker, storage, headers, boxes: int, assets_per_box: int):
    project = await make_project(client, headers)
    box_ids = []
    for _ in range(boxes):
        box = await make_box(client, headers, project["id"])
        assets = [await make_asset(sessionmaker, box["id"], storage=storage) for _ in range(assets_per_box)]
        await client.patch(f"/api/boxes/{box['id']}/", json={"headliner_id": assets[0].id}, headers=headers)
        box_ids.append(box["id"])
    return project["id"], box_ids


async def test_statement_count_does_not_grow_with_the_board(app, client, sessionmaker, storage):
    headers = await register(client)
    small_project, small_boxes = await board_with(
        client, sessionmaker, storage, headers, boxes=1, assets_per_box=1
    )
    big_project, big_boxes = await board_with(
        client, sessionmaker, storage, headers, boxes=6, assets_per_box=3
    )

    counts = {}
    for label, project_id, box_id in (
        ("small", small_project, small_boxes[0]),
        ("big", big_project, big_boxes[0]),
    ):
        with count_statements(app.state.engine) as board:
            response = await client.get(f"/api/projects/{project_id}/boxes/", headers=headers)
            assert response.status_code == 200
        with count_statements(app.state.engine) as box_view:
            response = await client.get(f"/api/boxes/{box_id}/assets/", headers=headers)
            assert response.status_code == 200
        counts[label] = (len(board), len(box_view))
    assert counts["small"] == counts["big"], counts
    # The caller, the owned project/box, then one page query carrying its relations and the page total.
    assert counts["big"][0] <= 3 and counts["big"][1] <= 3, counts


async def test_page_totals_past_the_end_and_on_empty_listings(client, sessionmaker, storage):
    headers = await register(client)
    empty_project = await make_project(client, headers)
    project_id, box_ids = await board_with(client, sessionmaker, storage, headers, boxes=2, assets_per_box=2)
    empty_box = await make_box(client, headers, project_id)
    expected = {  # path: (total, items on the page)
        f"/api/projects/{project_id}/boxes/?limit=2": (3, 2),
        f"/api/projects/{project_id}/boxes/?limit=2&offset=2": (3, 1),
        f"/api/projects/{project_id}/boxes/?offset=5": (3, 0),
        f"/api/projects/{empty_project['id']}/boxes/": (0, 0),
        f"/api/projects/{empty_project['id']}/boxes/?offset=1": (0, 0),
        f"/api/boxes/{box_ids[0]}/assets/?limit=1": (2, 1),
        f"/api/boxes/{box_ids[0]}/assets/?offset=2": (2, 0),
        f"/api/boxes/{box_ids[0]}/assets/?kind=video": (0, 0),
        f"/api/boxes/{empty_box['id']}/assets/": (0, 0),
        "/api/projects/?limit=1": (2, 1),
        "/api/projects/?offset=7": (2, 0),
    }
    for path, (total, items) in expected.items():
        response = await client.get(path, headers=headers)
        assert response.status_code == 200, (path, response.text)
        page = response.json()
        assert (page["total"], len(page["items"])) == (total, items), path
    board = (await client.get(f"/api/projects/{project_id}/boxes/", headers=headers)).json()
    assert [box["asset_count"] for box in board["items"]] == [2, 2, 0]
    assert [box["headliner"] is not None for box in board["items"]] == [True, True, False]
    assert all(box["headliner"]["model"] for box in board["items"][:2])


async def test_the_activity_feed_reads_a_page_in_one_statement(app, client):
    headers = await register(client)
    counts = []
    for shots in (1, 8):
        project = await make_project(client, headers)
        for _ in range(shots):
            box = await make_box(client, headers, project["id"])
            await client.post(f"/api/boxes/{box['id']}/comments/", json={"text": "ok"}, headers=headers)
            await client.delete(f"/api/boxes/{box['id']}/", headers=headers)
        with count_statements(app.state.engine) as statements:
            response = await client.get(f"/api/projects/{project['id']}/activity/", headers=headers)
            assert response.status_code == 200 and response.json()["total"] == 2 * shots
        counts.append(len(statements))
    assert counts[0] == counts[1] and counts[1] <= 3, counts
