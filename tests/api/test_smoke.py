from tests.builders import make_box, make_project, register


async def test_health_reports_every_dependency(client):
    response = await client.get("/api/health/")
    assert response.status_code == 200, response.text
    assert set(response.json()["checks"]) == {"database", "redis", "temporal", "s3"}


async def test_project_and_box_roundtrip(client):
    headers = await register(client)
    project = await make_project(client, headers)
    box = await make_box(client, headers, project["id"])
    assert box["position"] == 1
    listed = await client.get(f"/api/projects/{project['id']}/boxes/", headers=headers)
    assert listed.json()["total"] == 1
