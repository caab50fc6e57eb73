"""Project events: their types, channel and stream names, and publishing them to Redis.

Events leave only after the database commit that they describe. Whoever publishes (API routes, services, worker
activities) needs only this module; the per-process relay that feeds sockets lives in `core.relay`.

`EventBus.publish` runs one Lua script that appends the event to the project's capped stream
(`XADD project_{id}:events MAXLEN ~ N`) and PUBLISHes it on `project_{id}` with the stream id as its `id`. The script
is atomic, so the order on the channel is the order in the stream and the ids only increase (docs/events.md).
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

if TYPE_CHECKING:  # publishers do not load the tables at import
    from core.models import Asset

logger = logging.getLogger("events")

STREAM_MAXLEN = 1000
"""Events kept per project for resuming (approximate cap, at least this many)."""
STREAM_TTL_SECONDS = 3600
"""A project's stream is dropped after this long without a new event."""


class EventType(StrEnum):
    ASSET_STATUS_CHANGED = "asset_status_changed"
    NEW_COMMENT = "new_comment"
    HEADLINER_CHANGED = "headliner_changed"
    ACTIVITY = "activity"
    """A line of the project's activity feed (core/activity.py); owner sockets only, never review links."""


def project_channel(project_id: int) -> str:
    return f"project_{project_id}"


def project_stream(project_id: int) -> str:
    return f"project_{project_id}:events"


class ProjectEvent(BaseModel):
    type: EventType
    project_id: int
    data: dict[str, Any]
    ts: float = Field(default_factory=time.time)
    id: str | None = None

    def body_json(self) -> str:
        """The event without its id (the id is the stream id, assigned when it is published)."""
        return self.model_dump_json(exclude={"id"})


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


def asset_status_event(
    asset: Asset, project_id: int, *, thumbnail_url: str | None = None, file_url: str | None = None
) -> ProjectEvent:
    """`asset_status_changed` with what the asset's row says now (its status and error message)."""
    assert asset.id is not None
    return asset_status_changed(
        project_id=project_id,
        asset_id=asset.id,
        box_id=asset.box_id,
        kind=asset.kind.value,
        status=asset.status.value,
        error_message=asset.error_message,
        thumbnail_url=thumbnail_url,
        file_url=file_url,
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


def headliner_changed(*, project_id: int, box_id: int, headliner_id: int | None) -> ProjectEvent:
    return ProjectEvent(
        type=EventType.HEADLINER_CHANGED,
        project_id=project_id,
        data={"box_id": box_id, "headliner_id": headliner_id},
    )


def activity(*, project_id: int, item: dict[str, Any]) -> ProjectEvent:
    """`item` is the ActivityPublic JSON, exactly as `GET /api/projects/{id}/activity/` lists it."""
    return ProjectEvent(type=EventType.ACTIVITY, project_id=project_id, data=item)


def parse_event(raw: str) -> ProjectEvent:
    return ProjectEvent.model_validate(json.loads(raw))


# --- publishing -----------------------------------------------------------------------------------------------

_PUBLISH_SCRIPT = """
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'e', ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[2])
local body = ARGV[3]
redis.call('PUBLISH', KEYS[2], string.sub(body, 1, -2) .. ',"id":"' .. id .. '"}')
return id
"""


HEALTH_CHECK_INTERVAL_SECONDS = 10.0
"""Default for settings.redis_health_check_seconds: an idle connection is PINGed before it is used again."""


def redis_client(redis_url: str, *, retries: int, health_check_interval: float) -> Redis:
    return Redis.from_url(
        redis_url,
        socket_connect_timeout=2,
        socket_timeout=5,
        retry=Retry(NoBackoff(), retries),
        health_check_interval=health_check_interval,
    )


class EventBus:
    """Publishes project events; one per process, created in the API lifespan or the worker.

    Publishing never raises for a Redis problem: the database change it describes is already committed, so the
    failure is logged and `publish` returns None (REST keeps working; clients that resume see `complete: false`
    only if the stream itself was lost).
    """

    def __init__(
        self,
        redis_url: str,
        *,
        stream_maxlen: int = STREAM_MAXLEN,
        stream_ttl: int = STREAM_TTL_SECONDS,
        health_check_interval: float = HEALTH_CHECK_INTERVAL_SECONDS,
    ) -> None:
        self.redis = redis_client(redis_url, retries=1, health_check_interval=health_check_interval)
        self._script = self.redis.register_script(_PUBLISH_SCRIPT)
        self.stream_maxlen = stream_maxlen
        self.stream_ttl = stream_ttl

    async def disconnect(self) -> None:
        with contextlib.suppress(RedisError, OSError):
            await self.redis.aclose()

    async def publish(self, event: ProjectEvent) -> str | None:
        """Append to the project's stream and publish; set and return the event id (None if Redis failed)."""
        try:
            raw = await self._script(
                keys=[project_stream(event.project_id), project_channel(event.project_id)],
                args=[self.stream_maxlen, self.stream_ttl, event.body_json()],
            )
        except (RedisError, OSError) as exc:
            logger.warning("event %s for project %s not published: %s", event.type, event.project_id, exc)
            return None
        event_id = raw.decode() if isinstance(raw, bytes) else str(raw)
        event.id = event_id
        return event_id


# --- request outbox -------------------------------------------------------------------------------------------


class Outbox:
    """Events a request (or a service it calls) queued: they leave only once the transaction they describe is
    committed. The API's session dependency sends them after its commit and drops them on a rollback; a service
    that commits early for a reason of its own (a workflow must read the row) sends what it queued right after."""

    def __init__(self, bus: EventBus) -> None:
        self._bus = bus
        self._queued: list[ProjectEvent] = []

    def queue(self, event: ProjectEvent) -> None:
        self._queued.append(event)

    async def send(self) -> None:
        """Publish what is queued, oldest first. Call it only after the commit. Never raises: the rows are
        committed either way, and a missed live update is repaired by the next reload."""
        queued, self._queued = self._queued, []
        for event in queued:
            try:
                await self._bus.publish(event)  # logs and returns None when Redis fails
            except Exception:
                logger.warning(
                    "event %s for project %s not published", event.type, event.project_id, exc_info=True
                )

    def drop(self) -> None:
        """Forget what is queued: the transaction it describes was rolled back."""
        self._queued.clear()
