"""A client with a review link watches comments and headliner changes, in the link's own refs, nothing else."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from core.events import EventBus, ProjectEvent, asset_status_changed, new_comment
from core.settings import Settings
from tests.builders import make_asset, make_box, make_project, register
from tests.realtime.conftest import LiveServer, closed_with, next_json, open_socket, token_of


async def test_review_link_socket_streams_public_comments_and_headliner_changes(
    live: LiveServer,
    http: httpx.AsyncClient,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    headers = await register(http)
    project = await make_project(http, headers)
    box = await make_box(http, headers, project["id"])
    asset = await make_asset(sessionmaker, box["id"])
    assert asset.id is not None
    asset_id = asset.id
    link = (await http.post(f"/api/projects/{project['id']}/share-links/", json={}, headers=headers)).json()
    bus = EventBus(settings.redis_url)

    guest = await open_socket(live.ws_url(f"/ws/public/{link['token']}/"))
    owner = await open_socket(live.ws_url(f"/ws/projects/{project['id']}/?token={token_of(headers)}"))
    snapshot = await next_json(guest)
    view = (await http.get(f"/api/public/{link['token']}/")).json()
    box_ref = view["boxes"][0]["ref"]
    assert snapshot["type"] == "snapshot"
    assert snapshot["data"]["shots"] == [{"box_ref": box_ref, "headliner_ref": None}]
    assert "project_id" not in snapshot["data"]
    assert (await next_json(owner))["type"] == "snapshot"

    def comment(comment_id: int, asset_id: int | None, text: str) -> ProjectEvent:
        return new_comment(
            project_id=project["id"],
            comment_id=comment_id,
            box_id=box["id"],
            asset_id=asset_id,
            author_name="Studio",
            text=text,
            created_at=datetime(2026, 11, 25, 9, 30, tzinfo=UTC),
            via_link=False,
        )

    # Not for guests: asset statuses, and comments on an asset the public view does not show.
    await bus.publish(
        asset_status_changed(
            project_id=project["id"], asset_id=asset_id, box_id=box["id"], kind="image", status="COMPLETED"
        )
    )
    await bus.publish(comment(9001, asset.id, "on a variant the client cannot see"))
    on_box = await bus.publish(comment(9002, None, "on the shot"))

    event = await next_json(guest)
    assert event["id"] == on_box
    assert event["type"] == "new_comment"
    assert event["data"] == {
        "ref": event["data"]["ref"],
        "box_ref": box_ref,
        "asset_ref": None,
        "author_name": "Studio",
        "from_studio": True,
        "text": "on the shot",
        "created_at": "2026-11-25T09:30:00Z",
    }
    assert str(9002) not in event["data"]["ref"] and set(event) == {"type", "data", "ts", "id"}

    # The owner changes the headliner through the REST API: both sockets hear it, each in its own terms.
    patched = await http.patch(f"/api/boxes/{box['id']}/", json={"headliner_id": asset.id}, headers=headers)
    assert patched.status_code == 200, patched.text
    owner_events = [await next_json(owner) for _ in range(4)]
    assert [e["type"] for e in owner_events] == [
        "asset_status_changed",
        "new_comment",
        "new_comment",
        "headliner_changed",
    ]
    assert owner_events[-1]["data"] == {"box_id": box["id"], "headliner_id": asset.id}
    public_change = await next_json(guest)
    view = (await http.get(f"/api/public/{link['token']}/")).json()
    assert public_change["type"] == "headliner_changed"
    assert public_change["data"] == {
        "box_ref": box_ref,
        "headliner_ref": view["boxes"][0]["headliner"]["ref"],
    }

    # Now the asset is what the guest sees, so comments on it reach the guest.
    on_headliner = await bus.publish(comment(9003, asset.id, "on the headliner"))
    event = await next_json(guest)
    assert (event["id"], event["data"]["asset_ref"]) == (on_headliner, public_change["data"]["headliner_ref"])

    # Revoking the link closes the guest's socket (checked at every ping, each second on the test server).
    assert (await http.delete(f"/api/share-links/{link['id']}/", headers=headers)).status_code == 204
    code, reason, _ = await closed_with(guest)
    assert code == 1008 and "revoked" in reason
    await owner.close()
    await bus.disconnect()
