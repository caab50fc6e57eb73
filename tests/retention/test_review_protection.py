"""Share, then animate, then purge: the video a client reviews through a live link survives retention; once no
live link shows it, it is purged like any other unselected asset."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from sqlmodel import select

from core.contract import AssetKind
from core.models import Asset, SharedLink
from tests.builders import make_asset, make_box, make_project, png_bytes, register
from tests.pipeline.fixtures import wait_for_asset
from tests.retention.helpers import DAY, assert_kept, assert_purged, retention_days, run_retention
from tests.review.helpers import set_headliner, share


async def animate(client: httpx.AsyncClient, headers: dict[str, str], image_id: int, prompt: str) -> dict:
    response = await client.post(
        f"/api/assets/{image_id}/animate/",
        json={"prompt": prompt, "params": {"duration": 4, "resolution": "480p"}},
        headers=headers,
    )
    assert response.status_code == 202, response.text
    video = await wait_for_asset(client, headers, response.json()["asset_id"])
    assert video["status"] == "COMPLETED", video
    return video


async def load(sessionmaker, asset_id: int) -> Asset:
    async with sessionmaker() as session:
        asset = await session.get(Asset, asset_id)
        assert asset is not None
        return asset


async def test_share_then_animate_then_purge(
    pipeline_client, pipeline_worker, sessionmaker, storage, temporal_client, retention_queue
):
    days = await retention_days(sessionmaker)
    headers = await register(pipeline_client)
    project = await make_project(pipeline_client, headers)
    box = await make_box(pipeline_client, headers, project["id"])
    upload = await pipeline_client.post(
        f"/api/boxes/{box['id']}/upload/",
        files={"file": ("key.png", png_bytes(), "image/png")},
        headers=headers,
    )
    assert upload.status_code == 201, upload.text
    image = upload.json()
    await set_headliner(pipeline_client, headers, box["id"], image["id"])
    # One link until revoked, one that expires in two days.
    forever = await share(pipeline_client, headers, project["id"])
    await share(pipeline_client, headers, project["id"], expires_at=(datetime.now(UTC) + 2 * DAY).isoformat())

    earlier = await animate(pipeline_client, headers, image["id"], "slow push in")
    shown = await animate(pipeline_client, headers, image["id"], "slow pull out")
    view = (await pipeline_client.get(f"/api/public/{forever['token']}/")).json()
    assert view["boxes"][0]["video"]["prompt"] == "slow pull out"  # the newest one is what the client sees
    earlier_asset, shown_asset = (
        await load(sessionmaker, earlier["id"]),
        await load(sessionmaker, shown["id"]),
    )

    # Nothing is a favourite; the clock is past the retention period of everything made above.
    later = datetime.now(UTC) + (days + 1) * DAY
    await run_retention(temporal_client, retention_queue, later)

    await assert_kept(sessionmaker, storage, shown_asset)
    await assert_purged(sessionmaker, storage, earlier_asset)  # a live link does not show it

    preview = await pipeline_client.get(
        f"/api/projects/{project['id']}/retention-preview/?scope=upcoming", headers=headers
    )
    assert preview.status_code == 200, preview.text
    assert shown["id"] not in [item["asset_id"] for item in preview.json()["items"]]
    kept = {entry["reason"]: entry["count"] for entry in preview.json()["kept"]}
    assert kept["shown_on_review_link"] == 1 and kept["headliner"] == 1

    # Revoked, the first link protects nothing; at `later` the second one has expired.
    revoked = await pipeline_client.delete(f"/api/share-links/{forever['id']}/", headers=headers)
    assert revoked.status_code == 204
    await run_retention(temporal_client, retention_queue, later)

    await assert_purged(sessionmaker, storage, shown_asset)
    await assert_kept(sessionmaker, storage, await load(sessionmaker, image["id"]))  # still the headliner


async def test_a_link_that_expires_before_the_next_run_does_not_protect_in_the_preview(
    client, sessionmaker, storage
):
    """The preview judges links at the next run: one expiring before it no longer keeps the video then."""
    days = await retention_days(sessionmaker)
    now = datetime.now(UTC)
    headers = await register(client)
    project = await make_project(client, headers)
    box = await make_box(client, headers, project["id"])
    image = await make_asset(sessionmaker, box["id"], storage=storage, created_at=now - (days + 2) * DAY)
    await set_headliner(client, headers, box["id"], image.id)
    video = await make_asset(
        sessionmaker,
        box["id"],
        storage=storage,
        model="bytedance/seedance-1.5-pro",
        kind=AssetKind.VIDEO,
        source_asset_id=image.id,
        created_at=now - (days + 1) * DAY,
    )
    url = f"/api/projects/{project['id']}/retention-preview/"

    listed = (await client.get(url, headers=headers)).json()
    assert [item["asset_id"] for item in listed["items"]] == [video.id]

    await share(client, headers, project["id"], expires_at=(now + 2 * DAY).isoformat())
    listed = (await client.get(url, headers=headers)).json()
    assert listed["items"] == []
    assert {e["reason"]: e["count"] for e in listed["kept"]}["shown_on_review_link"] == 1

    next_run = datetime.fromisoformat(listed["next_run_at"])
    async with sessionmaker() as session:
        link = (await session.exec(select(SharedLink).where(SharedLink.project_id == project["id"]))).one()
        link.expires_at = next_run - timedelta(minutes=1)
        session.add(link)
        await session.commit()
    listed = (await client.get(url, headers=headers)).json()
    assert [item["asset_id"] for item in listed["items"]] == [video.id]
