from tests.builders import make_box, make_project, register


async def test_health_reports_every_dependency(client):
    response = await client.get("/api/health/")
    body = response.json()
    assert set(body["checks"]) == {"database", "redis", "temporal", "s3", "worker"}
    assert all(body["checks"][name]["ok"] for name in ("database", "redis", "temporal", "s3")), body
    # This app's task queue has a worker only while some test runs one (tests/api/test_outages.py covers both).
    worker = body["checks"]["worker"]
    if worker["ok"]:
        assert response.status_code == 200, body
    else:
        assert response.status_code == 503, body
        assert worker["error"].startswith("no worker has"), worker
    assert "oldest_pending_seconds" in body


async def test_project_and_box_roundtrip(client):
    headers = await register(client)
    project = await make_project(client, headers)
    box = await make_box(client, headers, project["id"])
    assert box["position"] == 1
    listed = await client.get(f"/api/projects/{project['id']}/boxes/", headers=headers)
    assert listed.json()["total"] == 1
