"""Every owner route, walked from the OpenAPI schema: without a token → 401; as another user → 404.

New routes are covered automatically as long as their path ids are named project_id / box_id / asset_id.
"""

import re

from tests.builders import make_asset, make_box, make_project, register

SKIP_PREFIXES = ("/api/public/", "/api/providers/", "/api/auth/", "/api/health/", "/api/admin/")


async def test_every_owned_route_hides_other_users_objects(app, client, sessionmaker, storage):
    owner = await register(client)
    project = await make_project(client, owner)
    box = await make_box(client, owner, project["id"])
    asset = await make_asset(sessionmaker, box["id"], storage=storage)
    ids = {"project_id": project["id"], "box_id": box["id"], "asset_id": asset.id}
    intruder = await register(client)

    checked = []
    for path, methods in app.openapi()["paths"].items():
        if path.startswith(SKIP_PREFIXES) or not path.startswith("/api/"):
            continue
        params = re.findall(r"{(\w+)}", path)
        if not params or any(p not in ids for p in params):
            continue
        url = path.format(**ids)
        for method in methods:
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            kwargs = {"json": {}} if method in {"post", "put", "patch"} else {}
            anonymous = await client.request(method.upper(), url, **kwargs)
            assert anonymous.status_code == 401, (method, url, anonymous.text)
            foreign = await client.request(method.upper(), url, headers=intruder, **kwargs)
            assert foreign.status_code == 404, (method, url, foreign.status_code, foreign.text)
            checked.append((method, path))

    # The owner's objects are untouched by all of that.
    assert (await client.get(f"/api/assets/{asset.id}/", headers=owner)).status_code == 200
    assert (await client.get(f"/api/boxes/{box['id']}/", headers=owner)).status_code == 200
    core_routes = {
        ("get", "/api/projects/{project_id}/"),
        ("patch", "/api/projects/{project_id}/"),
        ("delete", "/api/projects/{project_id}/"),
        ("get", "/api/projects/{project_id}/boxes/"),
        ("post", "/api/projects/{project_id}/boxes/"),
        ("post", "/api/projects/{project_id}/boxes/reorder/"),
        ("post", "/api/projects/{project_id}/boxes/bulk/"),
        ("get", "/api/boxes/{box_id}/"),
        ("patch", "/api/boxes/{box_id}/"),
        ("delete", "/api/boxes/{box_id}/"),
        ("get", "/api/boxes/{box_id}/assets/"),
        ("get", "/api/assets/{asset_id}/"),
        ("get", "/api/assets/{asset_id}/lineage/"),
        ("get", "/api/assets/{asset_id}/download/"),
        ("patch", "/api/assets/{asset_id}/"),
        ("delete", "/api/assets/{asset_id}/"),
    }
    assert core_routes <= set(checked)


async def test_ids_out_of_range_or_malformed_are_clear_4xx(client):
    headers = await register(client)
    for url in (
        "/api/projects/0/",
        "/api/projects/-5/",
        "/api/projects/99999999999999999999/",
        "/api/projects/abc/",
        "/api/boxes/2147483648/",
        "/api/assets/1.5/",
    ):
        response = await client.get(url, headers=headers)
        assert response.status_code == 422, (url, response.status_code)
    assert (await client.get("/api/projects/2147483647/", headers=headers)).status_code == 404


async def test_oversized_and_wrongly_typed_bodies_are_422(client):
    headers = await register(client)
    project = await make_project(client, headers)
    pid = project["id"]
    cases = [
        ("post", "/api/projects/", {"name": ""}),
        ("post", "/api/projects/", {"name": "x" * 201}),
        ("post", "/api/projects/", {"name": "ok", "description": "x" * 10_001}),
        ("post", "/api/projects/", {"name": 5}),
        ("post", "/api/projects/", {"name": "ok", "owner_id": 1}),
        ("patch", f"/api/projects/{pid}/", {"name": None, "unknown": 1}),
        ("post", f"/api/projects/{pid}/boxes/", {"title": "x" * 201}),
        ("post", f"/api/projects/{pid}/boxes/", {"position": 0}),
        ("post", f"/api/projects/{pid}/boxes/", {"position": "first"}),
        ("post", f"/api/projects/{pid}/boxes/reorder/", {"box_ids": []}),
        ("post", f"/api/projects/{pid}/boxes/reorder/", {"box_ids": [-1]}),
        ("post", f"/api/projects/{pid}/boxes/reorder/", {"box_ids": "1,2"}),
    ]
    for method, url, body in cases:
        response = await client.request(method.upper(), url, json=body, headers=headers)
        assert response.status_code == 422, (url, body, response.status_code, response.text)
        detail = response.json()["detail"]
        assert detail, body
    for bad in ("?limit=-1", "?limit=201", "?offset=-1", "?offset=99999999999", "?limit=abc"):
        assert (await client.get(f"/api/projects/{bad}", headers=headers)).status_code == 422, bad
    box = await make_box(client, headers, pid)
    huge = await client.patch(f"/api/boxes/{box['id']}/", json={"headliner_id": 2**40}, headers=headers)
    assert huge.status_code == 422
