"""Outages of our own services as the API sees them: which exceptions mean "the database / S3 is down", and a log
that reports each outage once (when it starts, a summary at most once a minute, when it ends) instead of a
traceback per request."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import psycopg
from botocore.exceptions import ClientError, ConnectionError, HTTPClientError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.requests import HTTPConnection

logger = logging.getLogger(__name__)

SUMMARY_EVERY_SECONDS = 60.0

DATABASE_DOWN_SQLSTATES = ("08", "53", "57P01", "57P02", "57P03")
"""connection_exception (class 08), insufficient_resources (53: disk full, out of memory, too many connections),
admin_shutdown, crash_shutdown, cannot_connect_now. Anything else the server answers is about the statement."""


def database_down(exc: BaseException) -> bool:
    """True when `exc` says PostgreSQL cannot be reached or cannot serve now, not that a statement is wrong."""
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:  # SQLAlchemy recognised a disconnect
            return True
        return _psycopg_down(exc.orig)
    return _psycopg_down(exc)


def pool_exhausted(exc: BaseException) -> bool:
    """Every pooled connection stayed busy for DATABASE_POOL_TIMEOUT_SECONDS: this process is overloaded, while
    PostgreSQL itself answers (so it is not an outage and is not logged as one)."""
    return isinstance(exc, PoolTimeoutError)


def _psycopg_down(exc: BaseException | None) -> bool:
    if not isinstance(exc, psycopg.OperationalError):
        return False
    sqlstate = exc.sqlstate
    # No SQLSTATE: psycopg's own report of a failed connect or a lost connection (the server never answered).
    return sqlstate is None or sqlstate.startswith(DATABASE_DOWN_SQLSTATES)


def s3_down(exc: BaseException) -> bool:
    """True when S3 could not be reached, dropped the connection, did not answer in time, or answered 5xx."""
    if isinstance(exc, ConnectionError | HTTPClientError):
        return True
    if isinstance(exc, ClientError):
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return isinstance(status, int) and status >= 500
    return False


def describe(cause: BaseException) -> str:
    """One line naming the cause (a driver's message can span lines and carry SQL)."""
    inner = cause.orig if isinstance(cause, DBAPIError) and cause.orig is not None else cause
    text = f"{type(inner).__name__}: {inner}".splitlines()[0] if str(inner) else type(inner).__name__
    return text[:300]


class OutageLog:
    """Logs one service's outage once: a warning with the cause at the first failure, a count of the requests
    answered 503 at most once every `summary_every` seconds, and how long it lasted at the first success after it.

    Thread-safe: the S3 client reports its answers from worker threads.
    """

    def __init__(
        self,
        service: str,
        *,
        summary_every: float = SUMMARY_EVERY_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.service = service
        self._summary_every = summary_every
        self._clock = clock
        self._lock = threading.Lock()
        self._down_since: float | None = None
        self._last_line = 0.0
        self._since_last_line = 0
        self._total = 0

    @property
    def down(self) -> bool:
        return self._down_since is not None

    def failed(self, cause: BaseException) -> None:
        with self._lock:
            now = self._clock()
            self._total += 1
            if self._down_since is None:
                self._down_since = self._last_line = now
                self._since_last_line = 0
                logger.warning(
                    "%s is unavailable (answering 503 until it is back): %s", self.service, describe(cause)
                )
                return
            self._since_last_line += 1
            if now - self._last_line >= self._summary_every:
                logger.warning(
                    "%s still unavailable: %d requests answered 503", self.service, self._since_last_line
                )
                self._last_line, self._since_last_line = now, 0

    def recovered(self) -> None:
        if self._down_since is None:  # the common case: no lock, nothing to say
            return
        with self._lock:
            if self._down_since is None:
                return
            lasted = self._clock() - self._down_since
            logger.warning(
                "%s is back after %.0f s (%d requests answered 503)", self.service, lasted, self._total
            )
            self._down_since, self._total = None, 0


class Outages:
    """The outage log of each service the API depends on (kept on `app.state.outages`)."""

    def __init__(self) -> None:
        self.database = OutageLog("database")
        self.s3 = OutageLog("S3")
        self.temporal = OutageLog("Temporal")
        self._others: dict[str, OutageLog] = {}
        self._lock = threading.Lock()

    def of(self, service: str) -> OutageLog:
        """The log of `service` (a ServiceUnavailable's `service`); one of its own for a service not named above."""
        known = {"database": self.database, "s3": self.s3, "temporal": self.temporal}.get(service)
        if known is not None:
            return known
        with self._lock:
            return self._others.setdefault(service, OutageLog(service))


def outages(connection: HTTPConnection) -> Outages:
    found: Outages = connection.app.state.outages
    return found
