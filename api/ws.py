"""Live project events over WebSocket (protocol: docs/events.md).

`/ws/projects/{project_id}/?ticket=<socket ticket>&since=<id>` (or `?token=<JWT>`) for the project's owner, and
the read-only `/ws/public/{token}/?since=<id>` for a review link. Both authorise before subscribing, take a slot
under their cap, send a snapshot, replay what a resuming client missed, then stream live events with periodic pings
until either side goes away.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketDisconnect

from api.deps import (
    OutagesDep,
    RedisDep,
    RelayDep,
    SessionmakerDep,
    SettingsDep,
    SocketLimitsDep,
)
from api.outages import Outages, database_down, pool_exhausted
from core.contract import EventsUnavailable
from core.events import EventType
from core.realtime import (
    BAD_SINCE,
    PUBLIC_EVENT_TYPES,
    PublicView,
    SocketRefused,
    authorize_owner_socket,
    authorize_public_socket,
    owner_snapshot,
    owner_socket_problem,
    public_link_problem,
)
from core.relay import (
    EVENTS_UNAVAILABLE,
    CloseCode,
    CloseReason,
    EventKey,
    EventRelay,
    RelayedEvent,
    Subscription,
    parse_event_id,
    ping_message,
)
from core.schemas import MAX_DB_ID

logger = logging.getLogger("api.ws")

router = APIRouter(tags=["events"])

CLOSE_TIMEOUT_SECONDS = 2.0
INTERNAL_ERROR = CloseReason(1011, "Internal error; reconnect later.")
DATABASE_UNAVAILABLE = CloseReason(
    CloseCode.TRY_AGAIN_LATER, "The database is unavailable; reconnect shortly."
)
SERVER_BUSY = CloseReason(CloseCode.TRY_AGAIN_LATER, "The server is busy; reconnect in a few seconds.")


def _failure(outages: Outages, exc: Exception, what: str) -> CloseReason:
    """Why a socket closes after `exc`: PostgreSQL down is an outage (logged once, like REST's 503s; clients
    reconnect in a loop), anything else a bug logged with its traceback. Call it from the `except` block."""
    if pool_exhausted(exc):
        return SERVER_BUSY
    if database_down(exc):
        outages.database.failed(exc)
        return DATABASE_UNAVAILABLE
    logger.exception("%s failed", what)
    return INTERNAL_ERROR


Snapshot = Callable[[], Awaitable[dict[str, Any]]]
Render = Callable[[RelayedEvent], Awaitable[str | None]]
Problem = Callable[[], Awaitable[str | None]]


def _parse_since(websocket: WebSocket) -> str | None:
    since = websocket.query_params.get("since") or None
    if since is not None:
        try:
            parse_event_id(since)
        except ValueError:
            raise SocketRefused(BAD_SINCE) from None
    return since


def _parse_project_id(raw: str) -> int:
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_DB_ID:
        raise SocketRefused("Project not found.")
    return int(raw)


async def _close(websocket: WebSocket, reason: CloseReason) -> None:
    # A close frame's reason is at most 123 bytes of UTF-8.
    text = reason.reason.encode()[:123].decode(errors="ignore")
    with contextlib.suppress(Exception):
        await asyncio.wait_for(websocket.close(code=reason.code, reason=text), CLOSE_TIMEOUT_SECONDS)


@router.websocket("/ws/projects/{project_id}/")
async def project_events(
    websocket: WebSocket,
    project_id: str,
    settings: SettingsDep,
    sessionmaker: SessionmakerDep,
    redis: RedisDep,
    relay: RelayDep,
    limits: SocketLimitsDep,
    outages: OutagesDep,
) -> None:
    await websocket.accept()
    query = websocket.query_params
    try:
        since = _parse_since(websocket)
        pid = _parse_project_id(project_id)
        async with sessionmaker() as session:
            access = await authorize_owner_socket(
                session, settings, redis, (query.get("ticket"), query.get("token")), pid
            )
    except SocketRefused as exc:
        await _close(websocket, CloseReason(CloseCode.POLICY_VIOLATION, exc.reason))
        return
    except EventsUnavailable:  # redeeming the ticket: the relay needs the same Redis anyway
        await _close(websocket, EVENTS_UNAVAILABLE)
        return
    except Exception as exc:
        await _close(websocket, _failure(outages, exc, "authorising a project socket"))
        return
    if not limits.users.acquire(access.user_id):
        await _close(websocket, CloseReason(CloseCode.TOO_MANY_SOCKETS, limits.user_refusal()))
        return

    async def snapshot() -> dict[str, Any]:
        async with sessionmaker() as session:
            return {"project_id": pid, "assets": await owner_snapshot(session, pid)}

    async def problem() -> str | None:
        async with sessionmaker() as session:
            return await owner_socket_problem(session, settings, access)

    try:
        await _stream(
            websocket, relay, outages, pid, None, since, snapshot, None, problem, user_id=access.user_id
        )
    finally:
        limits.users.release(access.user_id)


@router.websocket("/ws/public/{token}/")
async def public_events(
    websocket: WebSocket,
    token: str,
    settings: SettingsDep,
    sessionmaker: SessionmakerDep,
    relay: RelayDep,
    limits: SocketLimitsDep,
    outages: OutagesDep,
) -> None:
    await websocket.accept()
    try:
        since = _parse_since(websocket)
        async with sessionmaker() as session:
            link = await authorize_public_socket(session, token)
    except SocketRefused as exc:
        await _close(websocket, CloseReason(CloseCode.POLICY_VIOLATION, exc.reason))
        return
    except Exception as exc:
        await _close(websocket, _failure(outages, exc, "authorising a review-link socket"))
        return
    assert link.id is not None
    link_id = link.id
    if not limits.links.acquire(link_id):
        await _close(websocket, CloseReason(CloseCode.TOO_MANY_SOCKETS, limits.link_refusal()))
        return
    view = PublicView(link, settings.jwt_secret.get_secret_value(), sessionmaker)

    async def snapshot() -> dict[str, Any]:
        await view.reload()
        return {"shots": view.snapshot()}

    async def problem() -> str | None:
        async with sessionmaker() as session:
            return await public_link_problem(session, token)

    try:
        await _stream(
            websocket,
            relay,
            outages,
            link.project_id,
            PUBLIC_EVENT_TYPES,
            since,
            snapshot,
            view.render,
            problem,
        )
    finally:
        limits.links.release(link_id)


async def _stream(
    websocket: WebSocket,
    relay: EventRelay,
    outages: Outages,
    project_id: int,
    types: frozenset[EventType] | None,
    since: str | None,
    make_snapshot: Snapshot,
    render: Render | None,
    problem: Problem,
    *,
    user_id: int | None = None,
) -> None:
    """Subscribe (as `user_id`'s, for an owner socket), send the snapshot and what was missed, then live events
    until someone closes."""
    reason: CloseReason | None
    try:
        async with relay.subscribe(project_id, types, user_id=user_id) as subscription:
            replay = await relay.replay(project_id, since)
            snapshot = await make_snapshot()
            missed: list[str] = []
            for event in replay.events:
                if types is not None and event.type not in types:
                    continue
                text = event.text if render is None else await render(event)
                if text is not None:
                    missed.append(text)
            # Where the snapshot stands: a resuming client continues from `since` through the replayed events.
            snapshot["last_event_id"] = since if since is not None else replay.last_id
            snapshot["resume"] = (
                None
                if since is None
                else {"since": since, "complete": replay.complete, "replayed": len(missed)}
            )
            await websocket.send_text(json.dumps({"type": "snapshot", "data": snapshot, "ts": time.time()}))
            for text in missed:
                await websocket.send_text(text)
            watermark = parse_event_id(replay.last_id) if replay.last_id is not None else None
            reason = await _pump(websocket, outages, subscription, watermark, render, problem)
    except EventsUnavailable:
        reason = EVENTS_UNAVAILABLE
    except (WebSocketDisconnect, OSError):  # the client left (Uvicorn's ClientDisconnected is an OSError)
        return
    except Exception as exc:
        reason = _failure(outages, exc, f"project {project_id} socket")
    if reason is not None:
        await _close(websocket, reason)


async def _pump(
    websocket: WebSocket,
    outages: Outages,
    subscription: Subscription,
    watermark: EventKey | None,
    render: Render | None,
    problem: Problem,
) -> CloseReason | None:
    """Forward live events until the client leaves (None) or the socket must close (the reason)."""

    async def receive() -> None:
        # Clients have nothing to say; reading is how a disconnect is noticed.
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return

    async def send() -> CloseReason:
        queue = subscription.queue
        while True:
            event = await queue.get()
            if event is None:  # the relay's ticker: ping, and check the socket may stay open
                try:
                    refused = await problem()
                except Exception as exc:  # the database being down closes with "try again", like authorising
                    return _failure(outages, exc, "re-checking an open socket")
                if refused is not None:
                    return CloseReason(CloseCode.POLICY_VIOLATION, refused)
                await websocket.send_text(ping_message())
                continue
            if watermark is not None and event.key <= watermark:
                continue
            text = event.text if render is None else await render(event)
            if text is not None:
                await websocket.send_text(text)

    receiver = asyncio.create_task(receive())
    sender = asyncio.create_task(send())
    try:
        waiting: set[asyncio.Future[Any]] = {receiver, sender, subscription.closed}
        done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
    finally:
        receiver.cancel()
        sender.cancel()
        await asyncio.gather(receiver, sender, return_exceptions=True)
    if subscription.closed.done():
        return subscription.closed.result()
    if sender in done:
        error = sender.exception()
        if error is None:
            return sender.result()
        if not isinstance(error, WebSocketDisconnect | OSError | RuntimeError):
            logger.warning("sending to a socket failed: %r", error)
    return None
