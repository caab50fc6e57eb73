"""CPU work never holds the API's event loop: a burst of logins (argon2, tens of milliseconds each by design) runs
beside other requests instead of in front of them."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Any

from argon2 import PasswordHasher

from core import security
from tests.builders import PASSWORD, register, unique_email


class RecordingHasher(PasswordHasher):
    """The real argon2 hasher, noting the thread of every call."""

    def __init__(self) -> None:
        super().__init__()
        self.threads: list[int] = []

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        self.threads.append(threading.get_ident())
        return super().hash(password, salt=salt)

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        self.threads.append(threading.get_ident())
        return super().verify(hash, password)


def one_hash_seconds() -> float:
    """The cost of one argon2 hash on this machine, now (the best of three, so a preempted run does not count)."""
    costs = []
    for _ in range(3):
        started = time.perf_counter()
        PasswordHasher().hash(PASSWORD)
        costs.append(time.perf_counter() - started)
    return min(costs)


LOGINS_AND_REGISTRATIONS = 21
"""Password checks in the burst below: each would be one long loop step if argon2 ran on the loop."""

PREEMPTED_STEPS_ALLOWED = 4
"""Loop steps allowed over the threshold with argon2 off the loop: a step the OS preempts on a busy machine.

Measured on the shared 2-core development machine (load average 4-8, in some runs two extra busy-loop processes),
21 password checks, threshold half a hash: one hash took 90-520 ms (best of three, just before the burst).
With argon2 off the loop the slowest steps were 4-61 ms in most bursts, and 0-2 single steps of 0.1-1.2 s in
the busiest (a preempted thread, not argon2: the hasher recorded every call on its pool's threads). With the
blocking hasher called on the loop (checked by swapping it in), exactly 21 steps were over the threshold,
100-440 ms each. A count, not the longest step, tells the two apart: one preempted step can outlast a hash."""


async def test_a_login_burst_never_holds_the_event_loop(client, monkeypatch, caplog):
    email = unique_email()
    await register(client, email=email)  # also warms up every code path a login takes
    hasher = RecordingHasher()
    monkeypatch.setattr(security, "_hasher", hasher)
    loop = asyncio.get_running_loop()
    threshold = max(one_hash_seconds() / 2, 0.02)
    hasher.threads.clear()

    async def login(password: str, who: str = email) -> int:
        answer = await client.post("/api/auth/login/", json={"email": who, "password": password})
        return answer.status_code

    # asyncio's debug mode logs every callback (one step of a task) that ran longer than slow_callback_duration.
    # A password check on the loop is one such step lasting about one hash; nothing else in a login is close.
    caplog.set_level(logging.WARNING, logger="asyncio")
    previous = loop.slow_callback_duration
    loop.slow_callback_duration = threshold
    loop.set_debug(True)
    try:
        statuses = await asyncio.gather(
            *(login(PASSWORD) for _ in range(8)),
            *(login("wrong password") for _ in range(8)),
            *(login(PASSWORD, unique_email()) for _ in range(4)),
            client.post(
                "/api/auth/register/",
                json={"email": unique_email(), "password": PASSWORD, "display_name": "Burst"},
            ),
        )
    finally:
        loop.set_debug(False)
        loop.slow_callback_duration = previous

    codes: list[Any] = [s if isinstance(s, int) else s.status_code for s in statuses]
    assert codes == [200] * 8 + [401] * 12 + [201]
    assert len(hasher.threads) == LOGINS_AND_REGISTRATIONS
    assert threading.get_ident() not in hasher.threads, "argon2 ran on the event loop's thread"
    slow = [r.getMessage() for r in caplog.records if r.name == "asyncio" and "took" in r.getMessage()]
    assert len(slow) <= PREEMPTED_STEPS_ALLOWED, (
        f"{len(slow)} loop steps took longer than half an argon2 hash ({threshold:.3f} s): {slow}"
    )
