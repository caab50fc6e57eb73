"""Ids and bodies a route refuses before it looks anything up: out of range or malformed ids, oversized or wrongly
typed bodies (422). Who may call each route (401 without a login, 404 outside the studio, 403 below the role) is
the role matrix: tests/api/test_roles.py."""

from tests.builders import make_box, make_project, register

# Routes that name no studio object (tests/api/test_sessions.py walks the others with a cookie session).
SKIP_PREFIXES = ("/api/public/", "/api/providers/", "/api/auth/", "/api/health/", "/api/admin/")


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
