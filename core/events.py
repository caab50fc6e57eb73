"""Project events: their types, channel names, and publishing through `broadcaster` on Redis.

Events leave only after the database commit that they describe.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from broadcaster import Broadcast
from pydantic import BaseModel, Field


class EventType(StrEnum):
    ASSET_STATUS_CHANGED = "asset_status_changed"
    NEW_COMMENT = "new_comment"
    HEADLINER_CHANGED = "headliner_changed"


def project_channel(project_id: int) -> str:
    return f"project_{project_id}"


class ProjectEvent(BaseModel):
    type: EventType
    project_id: int
    data: dict[str, Any]
    ts: float = Field(default_factory=time.time)
    id: str | None = None

    def to_json(self) -> str:
        return self.model_dump_json()


def asset_status_changed(
    *,
    project_id: int,
    asset_id: int,
    box_id: int,
    kind: str,
    status: str,
    error_message: str | None = None,
    thumbnail_url: str | None = None,
    file_url: str | None = None,
) -> ProjectEvent:
    return ProjectEvent(
        type=EventType.ASSET_STATUS_CHANGED,
        project_id=project_id,
        data={
            "asset_id": asset_id,
            "box_id": box_id,
            "kind": kind,
            "status": status,
            "error_message": error_message,
            "thumbnail_url": thumbnail_url,
            "file_url": file_url,
        },
    )


def new_comment(
    *,
    project_id: int,
    comment_id: int,
    box_id: int,
    asset_id: int | None,
    author_name: str,
    text: str,
    created_at: datetime,
    via_link: bool,
) -> ProjectEvent:
    return ProjectEvent(
        type=EventType.NEW_COMMENT,
        project_id=project_id,
        data={
            "comment_id": comment_id,
            "box_id": box_id,
            "asset_id": asset_id,
            "author_name": author_name,
            "text": text,
            "created_at": created_at.astimezone(UTC).isoformat(),
            "via_link": via_link,
        },
    )


class EventBus:
    """Publishes project events; one connection per process, created in the API lifespan or the worker."""

    def __init__(self, redis_url: str) -> None:
        self.broadcast = Broadcast(redis_url)
        self._connected = False

    async def connect(self) -> None:
        if not self._connected:
            await self.broadcast.connect()
            self._connected = True

    async def disconnect(self) -> None:
        if self._connected:
            await self.broadcast.disconnect()
            self._connected = False

    async def publish(self, event: ProjectEvent) -> None:
        await self.connect()
        await self.broadcast.publish(channel=project_channel(event.project_id), message=event.to_json())


def parse_event(raw: str) -> ProjectEvent:
    return ProjectEvent.model_validate(json.loads(raw))
