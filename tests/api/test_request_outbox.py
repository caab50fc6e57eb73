"""Events a request queues leave only after the request's transaction commits (api/deps.py's session dependency
sends the request's outbox): a viewer told about a change can always read it, and nobody is told about a change
that was rolled back."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from api.main import create_app
from core.events import EventBus, EventType, ProjectEvent, project_stream
from core.models import ActivityItem, Asset, Box, Comment
from core.settings import Settings
from tests.builders import connection_lost_at_commit, make_asset, make_box, make_project, png_bytes, register


class VisibilityCheckingBus(EventBus):
    """The real bus (events still go to Redis), which first asks a session of its own whether the row an event
    describes already reads as the event says."""

    def __init__(self, redis_url: str, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        super().__init__(redis_url)
        self._sessionmaker = sessionmaker
        self.seen: list[tuple[str, bool]] = []

    async def publish(self, event: ProjectEvent) -> str | None:
        self.seen.append((event.type.value, await self._visible(event)))
        return await super().publish(event)

    async def _visible(self, event: ProjectEvent) -> bool:
        data = event.data
        async with self._sessionmaker() as session:
            if event.type is EventType.NEW_COMMENT:
                return await session.get(Comment, data["comment_id"]) is not None
            if event.type is EventType.ACTIVITY:
                return await session.get(ActivityItem, data["id"]) is not None
            if event.type is EventType.HEADLINER_CHANGED:
                box = await session.get(Box, data["box_id"])
                return box is not None and box.headliner_id == data["headliner_id"]
            asset = await session.get(Asset, data["asset_id"])
            return asset is not None and asset.status.value == data["status"]


@contextlib.asynccontextmanager
async def served(
    settings: Settings,
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient, VisibilityCheckingBus]]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        lifespan_bus: EventBus = app.state.events
        bus = VisibilityCheckingBus(settings.redis_url, app.state.sessionmaker)
        app.state.events = bus  # the lifespan disconnects it at the end
        await lifespan_bus.disconnect()
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield app, client, bus


async def streamed(bus: EventBus, project_id: int) -> list[dict[str, Any]]:
    """Every event the project's viewers were sent (its stream), oldest first."""
    entries = await bus.redis.xrange(project_stream(project_id))
    return [json.loads(fields[b"e"]) for _, fields in entries]


async def test_every_event_a_route_queues_leaves_once_its_row_is_visible_to_another_session(
    settings: Settings,
) -> None:
    async with served(settings) as (app, client, bus):
        headers = await register(client)
        project = await make_project(client, headers)
        box = await make_box(client, headers, project["id"])
        asset = await make_asset(app.state.sessionmaker, box["id"])

        patched = await client.patch(
            f"/api/boxes/{box['id']}/", json={"headliner_id": asset.id}, headers=headers
        )
        assert patched.status_code == 200, patched.text
        on_box = await client.post(
            f"/api/boxes/{box['id']}/comments/", json={"text": "Nice"}, headers=headers
        )
        assert on_box.status_code == 201, on_box.text
        on_asset = await client.post(
            f"/api/assets/{asset.id}/comments/", json={"text": "Warmer"}, headers=headers
        )
        assert on_asset.status_code == 201, on_asset.text
        link = await client.post(f"/api/projects/{project['id']}/share-links/", json={}, headers=headers)
        assert link.status_code == 201, link.text
        token = link.json()["token"]
        box_ref = (await client.get(f"/api/public/{token}/")).json()["boxes"][0]["ref"]
        guest = await client.post(
            f"/api/public/{token}/comments/",
            json={"author_name": "Dana", "text": "Love it", "box_ref": box_ref},
        )
        assert guest.status_code == 201, guest.text
        uploaded = await client.post(
            f"/api/boxes/{box['id']}/upload/",
            files={"file": ("a.png", png_bytes(), "image/png")},
            headers=headers,
        )
        assert uploaded.status_code == 201, uploaded.text
        sent = await streamed(bus, project["id"])

    assert bus.seen == [
        ("headliner_changed", True),
        ("activity", True),
        ("new_comment", True),
        ("activity", True),
        ("new_comment", True),
        ("activity", True),
        ("activity", True),  # the share link
        ("new_comment", True),
        ("activity", True),
        ("asset_status_changed", True),
    ]
    assert [e["type"] for e in sent] == [kind for kind, _ in bus.seen]


async def test_an_event_queued_by_a_request_whose_commit_fails_is_never_published(settings: Settings) -> None:
    async with served(settings) as (app, client, bus):
        headers = await register(client)
        project = await make_project(client, headers)
        box = await make_box(client, headers, project["id"])
        asset = await make_asset(app.state.sessionmaker, box["id"])
        with connection_lost_at_commit(app.state.sessionmaker) as lose_connection:
            # The database goes away at the commit, after the route queued its event.
            lose_connection()
            lost_comment = await client.post(
                f"/api/boxes/{box['id']}/comments/", json={"text": "never said"}, headers=headers
            )
            lose_connection()
            lost_headliner = await client.patch(
                f"/api/boxes/{box['id']}/", json={"headliner_id": asset.id}, headers=headers
            )
        said = await client.post(f"/api/boxes/{box['id']}/comments/", json={"text": "said"}, headers=headers)
        listed = (await client.get(f"/api/projects/{project['id']}/comments/", headers=headers)).json()
        read_box = (await client.get(f"/api/boxes/{box['id']}/", headers=headers)).json()
        feed = (await client.get(f"/api/projects/{project['id']}/activity/", headers=headers)).json()
        sent = await streamed(bus, project["id"])

    assert lost_comment.status_code == 503, lost_comment.text
    assert lost_headliner.status_code == 503, lost_headliner.text
    assert said.status_code == 201, said.text
    assert [c["text"] for c in listed["items"]] == ["said"]
    assert read_box["headliner_id"] is None
    # Only the committed comment was published (and recorded): nothing about the two changes that were rolled back.
    assert [(e["type"], e["data"].get("text")) for e in sent] == [("new_comment", "said"), ("activity", None)]
    assert bus.seen == [("new_comment", True), ("activity", True)]
    assert [item["details"]["text"] for item in feed["items"]] == ["said"]
