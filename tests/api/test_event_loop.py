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


async def test_a_login_burst_never_holds_the_event_loop(client, monkeypatch, caplog):
    email = unique_email()
    await register(client, email=email)  # also warms up every code path a login takes
    hasher = RecordingHasher()
    monkeypatch.setattr(security, "_hasher", hasher)
    loop = asyncio.get_running_loop()
    cost = one_hash_seconds()
    hasher.threads.clear()

    async def login(password: str, who: str = email) -> int:
        answer = await client.post("/api/auth/login/", json={"email": who, "password": password})
        return answer.status_code

    # asyncio's debug mode logs every callback (one step of a task) that ran longer than slow_callback_duration.
    # A password check on the loop is one such step lasting at least one hash; nothing else in a login is close.
    caplog.set_level(logging.WARNING, logger="asyncio")
    previous = loop.slow_callback_duration
    loop.slow_callback_duration = cost
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
    assert len(hasher.threads) == 21
    assert threading.get_ident() not in hasher.threads, "argon2 ran on the event loop's thread"
    slow = [r.getMessage() for r in caplog.records if r.name == "asyncio" and "took" in r.getMessage()]
    assert not slow, f"callbacks held the loop longer than one argon2 hash ({cost:.3f} s): {slow}"
