"""What a project owner sees before the nightly run (a countdown per asset), and the admin's "run it now"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.contract import RetentionResult
from core.models import SystemConfig, User
from tests.builders import make_asset, make_box, make_project, register
from tests.retention.helpers import DAY, assert_kept, assert_purged, retention_days


async def make_superuser(client, sessionmaker) -> dict[str, str]:
    headers = await register(client)
    me = (await client.get("/api/auth/me/", headers=headers)).json()
    async with sessionmaker() as session:
        user = await session.get(User, me["id"])
        user.is_superuser = True
        session.add(user)
        await session.commit()
    return headers


async def test_preview_lists_what_the_next_run_deletes_and_when(client, sessionmaker, storage):
    days = await retention_days(sessionmaker)
    async with sessionmaker() as session:
        hour = (await session.get(SystemConfig, 1)).retention_hour_utc
    now = datetime.now(UTC)
    headers = await register(client)
    project = await make_project(client, headers)
    box = await make_box(client, headers, project["id"])
    oldest = await make_asset(sessionmaker, box["id"], storage=storage, created_at=now - (days + 5) * DAY)
    older = await make_asset(sessionmaker, box["id"], storage=storage, created_at=now - (days + 1) * DAY)
    await make_asset(
        sessionmaker, box["id"], storage=storage, created_at=now - (days + 1) * DAY, is_favorite=True
    )
    young = await make_asset(sessionmaker, box["id"], storage=storage, created_at=now - 3 * DAY)

    response = await client.get(f"/api/projects/{project['id']}/retention-preview/", headers=headers)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["retention_days"] == days
    next_run = datetime.fromisoformat(body["next_run_at"])
    assert next_run > now and next_run - now <= DAY and next_run.hour == hour and next_run.minute == 0
    assert body["total"] == 2
    assert [item["asset_id"] for item in body["items"]] == [oldest.id, older.id]
    first = body["items"][0]
    assert datetime.fromisoformat(first["purge_at"]) == next_run
    assert datetime.fromisoformat(first["expires_at"]) == oldest.created_at + days * DAY
    assert first["thumbnail_url"].startswith("http")
    assert first["box_id"] == box["id"] and first["box_position"] == box["position"]

    paged = await client.get(
        f"/api/projects/{project['id']}/retention-preview/?limit=1&offset=1", headers=headers
    )
    assert [item["asset_id"] for item in paged.json()["items"]] == [older.id]
    assert paged.json()["total"] == 2

    upcoming = await client.get(
        f"/api/projects/{project['id']}/retention-preview/?scope=upcoming", headers=headers
    )
    items = {item["asset_id"]: item for item in upcoming.json()["items"]}
    assert set(items) == {oldest.id, older.id, young.id}
    young_purge = datetime.fromisoformat(items[young.id]["purge_at"])
    young_expiry = datetime.fromisoformat(items[young.id]["expires_at"])
    assert young_expiry < young_purge <= young_expiry + DAY and young_purge.hour == hour


async def test_preview_is_for_the_owner_only(client, sessionmaker):
    owner = await register(client)
    project = await make_project(client, owner)
    stranger = await register(client)
    url = f"/api/projects/{project['id']}/retention-preview/"
    assert (await client.get(url, headers=stranger)).status_code == 404
    assert (await client.get(url)).status_code == 401
    assert (await client.get(url + "?scope=everything", headers=owner)).status_code == 422
    assert (await client.get(url + "?limit=0", headers=owner)).status_code == 422


async def test_an_admin_can_run_retention_now(client, sessionmaker, storage, app_worker):
    days = await retention_days(sessionmaker)
    headers = await register(client)
    project = await make_project(client, headers)
    box = await make_box(client, headers, project["id"])
    expired = await make_asset(
        sessionmaker, box["id"], storage=storage, created_at=datetime.now(UTC) - (days + 1) * DAY
    )
    kept = await make_asset(
        sessionmaker, box["id"], storage=storage, created_at=datetime.now(UTC) - timedelta(hours=1)
    )

    refused = await client.post("/api/admin/retention/run/", headers=headers)
    assert refused.status_code == 403
    assert refused.json() == {
        "detail": "Only an administrator can start a retention run.",
        "code": "forbidden",
    }
    assert (await client.post("/api/admin/retention/run/")).status_code == 401
    admin = await make_superuser(client, sessionmaker)
    response = await client.post("/api/admin/retention/run/", headers=admin)

    assert response.status_code == 202, response.text
    workflow_id = response.json()["workflow_id"]
    result = await app_worker.temporal.get_workflow_handle(workflow_id, result_type=RetentionResult).result()
    assert result.totals.assets_deleted >= 1
    await assert_purged(sessionmaker, storage, expired)
    await assert_kept(sessionmaker, storage, kept)
