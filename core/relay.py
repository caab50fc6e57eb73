"""The per-process relay that feeds live sockets: one Redis subscription per project, fanned out to bounded queues.

Read by the socket endpoints (`api/ws.py`) and `core.realtime`; publishers use `core.events` alone.

- `EventRelay` (one per API process) holds one pub/sub connection and one Redis subscription per project that has
  at least one local socket; each message is parsed once and offered to every local subscriber's bounded queue.
  One owner task does every I/O on that connection; sockets queue (un)subscribe commands for it and wake it by
  publishing to the connection's private control channel.
- Every pub/sub connection also listens on SOCKET_CLOSE_CHANNEL: a member removed from a studio has their sockets
  on its projects closed by every process at once (`close_member_sockets_everywhere`), not at each one's next ping.
- A reconnecting client sends the last id it saw; the stream replays what it missed, and live events at or below
  the replayed id are dropped, so nothing is lost or repeated.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from core.contract import EventsUnavailable
from core.events import (
    HEALTH_CHECK_INTERVAL_SECONDS,
    STREAM_MAXLEN,
    EventType,
    project_channel,
    project_stream,
    redis_client,
)

logger = logging.getLogger("events")

SUBSCRIBER_QUEUE_SIZE = 256
"""Events waiting for one socket; a socket that falls this far behind is closed (it reconnects and resumes)."""
PING_INTERVAL_SECONDS = 20.0
SUBSCRIBE_TIMEOUT_SECONDS = 3.0
SOCKET_CLOSE_CHANNEL = "relay:close-sockets"
"""Where a process asks every process's relay to close one user's sockets on some projects."""
OWNER_READ_SECONDS = 1.0
"""The longest single read of the relay's pub/sub owner (it then takes its queued commands and reads again)."""


# --- event ids ------------------------------------------------------------------------------------------------


EventKey = tuple[int, int]


def parse_event_id(value: str) -> EventKey:
    """A stream id `<ms>-<seq>` as a comparable pair; ValueError for anything else."""
    ms, sep, seq = value.partition("-")
    if not sep or not ms.isdigit() or not seq.isdigit() or len(ms) > 20 or len(seq) > 20:
        raise ValueError(f"not an event id: {value[:40]!r}")
    return int(ms), int(seq)


def _with_id(body: str, event_id: str) -> str:
    # Same splice as core.events' Lua script: the body is a JSON object, the id goes last.
    return f'{body[:-1]},"id":"{event_id}"}}'


@dataclass(frozen=True, slots=True)
class RelayedEvent:
    """An event as it travels to sockets: its id, type and the exact JSON text clients receive."""

    id: str
    key: EventKey
    type: str
    project_id: int
    text: str

    @classmethod
    def from_text(cls, text: str) -> RelayedEvent:
        raw = json.loads(text)
        event_id = str(raw["id"])
        return cls(
            id=event_id,
            key=parse_event_id(event_id),
            type=str(raw["type"]),
            project_id=int(raw["project_id"]),
            text=text,
        )

    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.text)
        return data


# --- relay ----------------------------------------------------------------------------------------------------


class CloseReason(NamedTuple):
    code: int
    reason: str


class CloseCode:
    GOING_AWAY = 1001
    POLICY_VIOLATION = 1008
    TRY_AGAIN_LATER = 1013
    TOO_MANY_SOCKETS = 4429
    """Over a socket cap (per user or per review link); the reason says which. Not retried by the SPA."""


EVENTS_UNAVAILABLE = CloseReason(CloseCode.TRY_AGAIN_LATER, "Live events are unavailable; reconnect shortly.")
TOO_SLOW = CloseReason(CloseCode.TRY_AGAIN_LATER, "Too many unread events; reconnect with since=<last id>.")
SHUTTING_DOWN = CloseReason(CloseCode.GOING_AWAY, "The server is restarting; reconnect with since=<last id>.")


class Subscription:
    """One socket's view of a project's events: a bounded queue and a future that says why it must close."""

    def __init__(
        self, project_id: int, types: frozenset[EventType] | None, maxsize: int, user_id: int | None = None
    ) -> None:
        self.project_id = project_id
        self.user_id = user_id
        """The member behind an owner socket (None for a review link's): removing them closes it."""
        self.types = types
        self.queue: asyncio.Queue[RelayedEvent | None] = asyncio.Queue(maxsize)
        """Events to send, and None when it is time to ping (put there by the relay's ticker)."""
        self.closed: asyncio.Future[CloseReason] = asyncio.get_running_loop().create_future()
        self._channel: _Channel | None = None

    def offer(self, event: RelayedEvent) -> None:
        if self.closed.done():
            return
        if self.types is not None and event.type not in self.types:
            return
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.close(TOO_SLOW)

    def tick(self) -> None:
        """Time to ping: a subscription already full of events is about to be closed anyway."""
        if not self.closed.done() and not self.queue.full():
            self.queue.put_nowait(None)

    def close(self, reason: CloseReason) -> None:
        if not self.closed.done():
            self.closed.set_result(reason)


@dataclass(eq=False)
class _Channel:
    """A project channel while it has local subscribers, subscribed through one pub/sub connection."""

    name: str
    connection: _PubSubConnection
    subscribers: set[Subscription] = field(default_factory=set)
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    failed: bool = False
    sent: bool = False
    """The owner has sent its SUBSCRIBE (set by the owner task, when it takes the command)."""
    expected_confirmations: int = 0


class _Command(NamedTuple):
    subscribe: bool
    """SUBSCRIBE the channel (or UNSUBSCRIBE it)."""
    channel: _Channel


@dataclass(eq=False)
class _PubSubConnection:
    """One pub/sub connection and the state its owner task keeps; a lost connection is never reused."""

    pubsub: PubSub
    control: str
    """A channel private to this connection: publishing to it wakes the owner from a read."""
    commands: deque[_Command] = field(default_factory=deque)
    owner: asyncio.Task[None] | None = None
    connected: bool = False
    listening: bool = False
    """The control channel is confirmed: from now on a PUBLISH to it reaches the owner."""
    wake_pending: bool = False
    alive: bool = True
    error: str = "Redis connection lost while subscribing"
    sent: dict[str, int] = field(default_factory=dict)
    confirmed: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Replay:
    events: list[RelayedEvent]
    last_id: str | None
    """The newest id in the stream when it was read (None when the stream is empty or gone)."""
    complete: bool
    """False when events after `since` may have been dropped (trimmed, expired or lost with Redis)."""


@dataclass
class RelayStats:
    redis_subscribes: dict[int, int] = field(default_factory=dict)
    slow_disconnects: int = 0
    redis_losses: int = 0


class EventRelay:
    """One Redis subscription per project per process, fanned out to local subscribers.

    One task, the owner, does every I/O on the pub/sub connection: it connects, sends each SUBSCRIBE and
    UNSUBSCRIBE, reads every reply and message, and lets redis-py PING the connection when it has been idle.
    Sockets joining or leaving only queue a command for it and wake it (a PUBLISH to the connection's private
    control channel); a read is never cancelled and never shared. Connects lazily (the API starts without Redis);
    when the connection breaks every subscriber is closed with "try again" and the next subscriber connects afresh.
    """

    def __init__(
        self,
        redis_url: str,
        *,
        queue_size: int = SUBSCRIBER_QUEUE_SIZE,
        ping_interval: float = PING_INTERVAL_SECONDS,
        health_check_interval: float = HEALTH_CHECK_INTERVAL_SECONDS,
    ) -> None:
        # Commands retry once so a connection left stale by a Redis restart is replaced transparently; the
        # pub/sub connection never retries, so a break is noticed (and reported to sockets) at once.
        self._redis = redis_client(redis_url, retries=1, health_check_interval=health_check_interval)
        self._pubsub_client = redis_client(redis_url, retries=0, health_check_interval=health_check_interval)
        self.queue_size = queue_size
        self.ping_interval = ping_interval
        # The owner's reads end at least this often: redis-py PINGs the connection at the start of a read once it
        # has been idle for the health-check interval, and a lost wake-up costs at most this long.
        self._read_timeout = min(health_check_interval, OWNER_READ_SECONDS)
        self.stats = RelayStats()
        self._connection: _PubSubConnection | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._channels: dict[str, _Channel] = {}
        self._closing = False

    # -- subscribing

    @contextlib.asynccontextmanager
    async def subscribe(
        self, project_id: int, types: frozenset[EventType] | None = None, *, user_id: int | None = None
    ) -> AsyncIterator[Subscription]:
        """Join the project's channel (subscribing in Redis only for the first local subscriber).

        Raises EventsUnavailable when Redis cannot be reached. On return the Redis subscription is confirmed, so
        any event published afterwards reaches the subscription's queue.
        """
        if self._closing:
            raise EventsUnavailable("the relay is shutting down")
        subscription = Subscription(project_id, types, self.queue_size, user_id)
        if self._ticker is None or self._ticker.done():
            self._ticker = asyncio.create_task(self._tick(), name="event-relay-ticker")
        try:
            await self._join(subscription)
            yield subscription
        finally:
            # Also when joining failed or was cancelled: the channel must not keep a subscriber nobody reads.
            await self._leave(subscription)

    async def _join(self, subscription: Subscription) -> None:
        name = project_channel(subscription.project_id)
        channel = self._channels.get(name)
        if channel is None:
            connection = self._current_connection()
            channel = _Channel(name, connection)
            self._channels[name] = channel
            channel.subscribers.add(subscription)
            subscription._channel = channel
            self.stats.redis_subscribes[subscription.project_id] = (
                self.stats.redis_subscribes.get(subscription.project_id, 0) + 1
            )
            connection.commands.append(_Command(subscribe=True, channel=channel))
            try:
                await self._wake(connection)
            except (RedisError, OSError) as exc:
                self._fail_channel(channel)
                raise EventsUnavailable(f"cannot reach Redis: {exc}") from exc
        else:
            channel.subscribers.add(subscription)
            subscription._channel = channel
        try:
            await asyncio.wait_for(channel.ready.wait(), SUBSCRIBE_TIMEOUT_SECONDS)
        except TimeoutError as exc:
            self._fail_channel(channel)
            raise EventsUnavailable("Redis did not confirm the subscription") from exc
        if channel.failed:
            raise EventsUnavailable(channel.connection.error)

    async def _leave(self, subscription: Subscription) -> None:
        channel = subscription._channel
        if channel is None:
            return
        channel.subscribers.discard(subscription)
        if channel.subscribers or self._channels.get(channel.name) is not channel:
            return
        del self._channels[channel.name]
        # A SUBSCRIBE still queued is dropped by the owner (the channel is gone); one already sent is undone.
        if self._unsubscribe(channel):
            with contextlib.suppress(RedisError, OSError):
                await self._wake(channel.connection)

    def _unsubscribe(self, channel: _Channel) -> bool:
        connection = channel.connection
        if not channel.sent or not connection.alive or connection is not self._connection:
            return False
        connection.commands.append(_Command(subscribe=False, channel=channel))
        return True

    def _fail_channel(self, channel: _Channel) -> None:
        channel.failed = True
        channel.ready.set()
        for subscription in list(channel.subscribers):
            subscription.close(EVENTS_UNAVAILABLE)
        if self._channels.get(channel.name) is channel:
            del self._channels[channel.name]
            self._unsubscribe(channel)  # sent at the owner's next wake-up

    def _current_connection(self) -> _PubSubConnection:
        """The live pub/sub connection, or a new one whose owner task starts connecting now."""
        connection = self._connection
        if connection is None or not connection.alive:
            connection = _PubSubConnection(self._pubsub_client.pubsub(), control=f"relay:{uuid.uuid4().hex}")
            connection.owner = asyncio.create_task(self._own(connection), name="event-relay-pubsub")
            self._connection = connection
        return connection

    async def _wake(self, connection: _PubSubConnection) -> None:
        """Make the owner take its queued commands now rather than when its current read times out.

        Before the control channel is confirmed the owner has not started reading yet, and it takes the queue
        before its first read; one wake-up in flight is enough for any number of commands.
        """
        if connection.listening and not connection.wake_pending:
            connection.wake_pending = True
            try:
                await self._redis.publish(connection.control, b"")
            except BaseException:
                # Not sent (or cancelled while sending): the next command publishes again; a spare one is harmless.
                connection.wake_pending = False
                raise

    async def _tick(self) -> None:
        # One timer for every socket of the process, instead of a timeout around every queue read.
        while True:
            await asyncio.sleep(self.ping_interval)
            for channel in list(self._channels.values()):
                for subscription in list(channel.subscribers):
                    subscription.tick()

    # -- the owner of the pub/sub connection

    async def _own(self, connection: _PubSubConnection) -> None:
        pubsub = connection.pubsub
        control = connection.control.encode()
        close_channel = SOCKET_CLOSE_CHANNEL.encode()
        try:
            await pubsub.connect()  # type: ignore[no-untyped-call]
            connection.connected = True
            # Subscribed to the control channel from now on, redis-py never PINGs inside SUBSCRIBE/UNSUBSCRIBE
            # (it does so only on a connection without subscriptions); it PINGs at the start of a read instead.
            await pubsub.subscribe(connection.control, SOCKET_CLOSE_CHANNEL)
            while True:
                await self._send_commands(connection)
                message = await pubsub.get_message(timeout=self._read_timeout)
                if message is None:  # nothing for a while (or a health-check PONG)
                    continue
                kind = message["type"]
                if kind == "message":
                    if message["channel"] == close_channel:
                        self._close_as_asked(message["data"])
                    elif message["channel"] != control:
                        self._dispatch(message["data"])
                elif kind == "subscribe":
                    if message["channel"] == control:
                        connection.listening = True
                    elif message["channel"] != close_channel:
                        self._confirm(connection, message["channel"])
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a broken connection shows up as many different errors
            await self._lose(connection, exc)

    async def _send_commands(self, connection: _PubSubConnection) -> None:
        connection.wake_pending = False
        pubsub = connection.pubsub
        while connection.commands:
            command = connection.commands.popleft()
            channel = command.channel
            if not command.subscribe:
                await pubsub.unsubscribe(channel.name)
                continue
            if channel.failed or self._channels.get(channel.name) is not channel:
                continue  # everyone left (or gave up) before it was sent
            # Replies come in order, so this channel is confirmed by the n-th "subscribe" reply for its name.
            sent = connection.sent.get(channel.name, 0) + 1
            connection.sent[channel.name] = sent
            channel.expected_confirmations = sent
            channel.sent = True
            await pubsub.subscribe(channel.name)

    def _confirm(self, connection: _PubSubConnection, raw_name: bytes | str) -> None:
        name = _text(raw_name)
        confirmed = connection.confirmed.get(name, 0) + 1
        connection.confirmed[name] = confirmed
        channel = self._channels.get(name)
        if channel is not None and channel.sent and confirmed >= channel.expected_confirmations:
            channel.ready.set()

    def _dispatch(self, raw: bytes | str) -> None:
        text = raw.decode() if isinstance(raw, bytes) else raw
        try:
            event = RelayedEvent.from_text(text)
        except (ValueError, KeyError, TypeError):
            logger.warning("ignoring a malformed event: %.200s", text)
            return
        channel = self._channels.get(project_channel(event.project_id))
        if channel is None:
            return
        for subscription in list(channel.subscribers):
            before = subscription.closed.done()
            subscription.offer(event)
            if not before and subscription.closed.done():
                self.stats.slow_disconnects += 1

    async def _lose(self, connection: _PubSubConnection, exc: Exception) -> None:
        connection.alive = False
        if connection.connected:
            connection.error = f"lost the Redis pub/sub connection: {exc}"
            if not self._closing:
                logger.warning("%s", connection.error)
        else:
            connection.error = f"cannot reach Redis: {exc}"
        if self._connection is connection:
            self._connection = None
            if connection.connected:
                self.stats.redis_losses += 1
        connection.commands.clear()
        for channel in list(self._channels.values()):
            if channel.connection is connection:
                self._fail_channel(channel)
        with contextlib.suppress(Exception):
            await connection.pubsub.aclose()  # type: ignore[no-untyped-call]

    # -- history

    async def replay(self, project_id: int, since: str | None) -> Replay:
        """What the project's stream holds after `since` (exclusive), oldest first, and its newest id."""
        stream = project_stream(project_id)
        try:
            newest: Any = await self._redis.xrevrange(stream, count=1)
            last_id = _text(newest[0][0]) if newest else None
            if since is None:
                return Replay(events=[], last_id=last_id, complete=True)
            oldest: Any = await self._redis.xrange(stream, count=1)
            entries: Any = await self._redis.xrange(stream, min=f"({since}", max="+", count=STREAM_MAXLEN * 2)
        except (RedisError, OSError) as exc:
            raise EventsUnavailable(f"cannot read event history: {exc}") from exc
        since_key = parse_event_id(since)
        # Complete when the stream still reaches back to `since`: nothing after it can have been trimmed away.
        complete = bool(oldest) and parse_event_id(_text(oldest[0][0])) <= since_key
        events = []
        for raw_id, fields in entries:
            event_id = _text(raw_id)
            body = _text(fields[b"e"])
            events.append(RelayedEvent.from_text(_with_id(body, event_id)))
        if events and (last_id is None or events[-1].key > parse_event_id(last_id)):
            last_id = events[-1].id  # published between the two reads: live copies of it must be skipped
        return Replay(events=events, last_id=last_id, complete=complete)

    # -- lifecycle

    async def close(self) -> None:
        self._closing = True
        for channel in list(self._channels.values()):
            for subscription in list(channel.subscribers):
                subscription.close(SHUTTING_DOWN)
        if self._ticker is not None:
            self._ticker.cancel()
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.alive = False
            if connection.owner is not None:
                # Cancelling a read is harmless here: the connection is closed right after and never reused.
                connection.owner.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await connection.owner
            with contextlib.suppress(Exception):
                await connection.pubsub.aclose()  # type: ignore[no-untyped-call]
        with contextlib.suppress(Exception):
            await self._redis.aclose()
        with contextlib.suppress(Exception):
            await self._pubsub_client.aclose()

    def close_member_sockets(self, user_id: int, project_ids: list[int], reason: CloseReason) -> None:
        """Close this process's sockets of `user_id` on these projects at once (a member removed from their
        studio)."""
        for project_id in project_ids:
            channel = self._channels.get(project_channel(project_id))
            for subscription in list(channel.subscribers) if channel is not None else []:
                if subscription.user_id == user_id:
                    subscription.close(reason)

    async def close_member_sockets_everywhere(
        self, user_id: int, project_ids: list[int], reason: CloseReason
    ) -> None:
        """Close the sockets of `user_id` on these projects in every API process (each relay's pub/sub connection
        listens on SOCKET_CLOSE_CHANNEL). Without Redis, this process's close at once and the others' at their
        next ping, which re-checks membership."""
        body = json.dumps(
            {"user_id": user_id, "project_ids": project_ids, "code": reason.code, "reason": reason.reason}
        )
        try:
            await self._redis.publish(SOCKET_CLOSE_CHANNEL, body)
        except (RedisError, OSError) as exc:
            logger.warning("could not ask the other processes to close user %s's sockets: %s", user_id, exc)
            self.close_member_sockets(user_id, project_ids, reason)

    def _close_as_asked(self, raw: bytes | str) -> None:
        try:
            asked = json.loads(raw)
            user_id, project_ids = int(asked["user_id"]), [int(i) for i in asked["project_ids"]]
            reason = CloseReason(int(asked["code"]), str(asked["reason"]))
        except (ValueError, KeyError, TypeError):
            logger.warning("ignoring a malformed request to close sockets: %.200s", _text(raw))
            return
        self.close_member_sockets(user_id, project_ids, reason)

    def local_subscribers(self, project_id: int) -> int:
        channel = self._channels.get(project_channel(project_id))
        return len(channel.subscribers) if channel is not None else 0


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def ping_message() -> str:
    return json.dumps({"type": "ping", "ts": time.time()})
