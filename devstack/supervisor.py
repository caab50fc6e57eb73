"""Keep a set of services running: restart the one that exits, after a backoff, and leave the others alone.

`Supervisor.check()` is called every few hundred milliseconds by the launcher's loop. A service that exits is
announced (name, exit code, when it restarts, its log), restarted after `restart_delay` seconds, doubling up to
`MAX_DELAY_SECONDS` while it keeps crashing, back to `restart_delay` once it has stayed up `RESET_AFTER_SECONDS`.
Restarts run in a thread each, so a slow one (Temporal takes seconds) never delays noticing another crash.
`stop()` stops whatever runs at that moment, restarted processes included. Delays are measured on `clock`
(`time.monotonic` unless a test passes its own).
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from devstack.services import RunningService, ServiceStopped

MAX_DELAY_SECONDS = 30.0
RESET_AFTER_SECONDS = 60.0


def describe_exit(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            return f"{code} ({signal.Signals(-code).name})"
        except ValueError:
            pass
    return str(code)


@dataclass
class _Watch:
    service: RunningService
    delay: float
    up_since: float
    due: float | None = None  # when a scheduled restart starts
    thread: threading.Thread | None = None
    error: BaseException | None = field(default=None, repr=False)


class Supervisor:
    def __init__(
        self,
        services: list[RunningService],
        *,
        restart_delay: float = 1.0,
        reset_after: float = RESET_AFTER_SECONDS,
        say: Callable[[str], None] = print,
        on_restart: Callable[[RunningService], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.restart_delay = restart_delay
        self.reset_after = reset_after
        self._say = say
        self._on_restart = on_restart
        self._clock = clock
        now = clock()
        self._watches = [_Watch(service, restart_delay, now) for service in services]
        self._stopping = False

    @property
    def services(self) -> list[RunningService]:
        return [watch.service for watch in self._watches]

    def check(self) -> None:
        """Notice exits, start the restarts that are due, report the ones that finished."""
        if self._stopping:
            return
        now = self._clock()
        for watch in self._watches:
            service = watch.service
            if watch.thread is not None:
                if not watch.thread.is_alive():
                    self._finished(watch, now)
                continue
            if watch.due is not None:
                if now >= watch.due:
                    watch.due = None
                    watch.error = None
                    watch.thread = threading.Thread(
                        target=self._restart, args=(watch,), name=f"restart-{service.name}", daemon=True
                    )
                    watch.thread.start()
                continue
            code = service.process.poll()  # also reaps it: no zombie
            if code is None:
                continue
            wait = self._next_delay(watch, now)
            self._say(
                f"{service.name} exited with code {describe_exit(code)}; restarting in {wait:g} s "
                f"(log: {service.log_path})"
            )
            watch.due = now + wait

    def _next_delay(self, watch: _Watch, now: float) -> float:
        if now - watch.up_since >= self.reset_after:
            watch.delay = self.restart_delay
        wait = watch.delay
        watch.delay = min(watch.delay * 2, MAX_DELAY_SECONDS)
        return wait

    @staticmethod
    def _restart(watch: _Watch) -> None:
        try:
            watch.service.restart()
        except BaseException as exc:  # reported by the loop's thread
            watch.error = exc

    def _finished(self, watch: _Watch, now: float) -> None:
        watch.thread = None
        service = watch.service
        if isinstance(watch.error, ServiceStopped):
            return
        if watch.error is not None:
            wait = self._next_delay(watch, now)
            self._say(
                f"{service.name} did not come back ({watch.error}); next attempt in {wait:g} s "
                f"(log: {service.log_path})"
            )
            watch.due = now + wait
            return
        watch.up_since = now
        self._say(f"{service.name} is back (pid {service.process.pid}, restart {service.restarts})")
        if self._on_restart is not None:
            self._on_restart(service)

    def stop(self) -> None:
        """Stop every service (newest first), including one being restarted right now; nothing stays behind."""
        self._stopping = True
        for watch in reversed(self._watches):
            watch.service.stop()
        for watch in self._watches:
            if watch.thread is not None:
                watch.thread.join(70)
        for watch in self._watches:  # a restart that was spawning when stop() began has stopped its process
            watch.service.stop()
