"""A registration that loses a race to a concurrent one answers 409, and the logged integrity error carries no SQL
parameters (they held the new account's password hash)."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from core.models import User
from tests.builders import PASSWORD, unique_email

WAITING_INSERT = sa.text(
    "SELECT count(*) FROM pg_stat_activity "
    "WHERE wait_event_type = 'Lock' AND query LIKE 'INSERT INTO user_account%'"
)


async def test_a_registration_race_logs_no_password_hash(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    caplog: pytest.LogCaptureFixture,
) -> None:
    email = unique_email("race")
    async with sessionmaker() as first, sessionmaker() as observer:
        # The concurrent registration: inserted, not yet committed, so the API's check finds no such account.
        first.add(User(email=email, password_hash="first-writer", display_name="First"))
        await first.flush()
        with caplog.at_level(logging.WARNING):
            answer = asyncio.create_task(
                client.post(
                    "/api/auth/register/",
                    json={"email": email, "password": PASSWORD, "display_name": "Second"},
                )
            )
            # Commit only once the API's INSERT waits on the unique index behind ours: then it must fail.
            for _ in range(200):
                waiting = (await observer.exec(WAITING_INSERT)).one()[0]  # type: ignore[call-overload]
                await observer.rollback()  # pg_stat_activity is read once per transaction
                if waiting >= 1:
                    break
                await asyncio.sleep(0.05)
            else:
                pytest.fail("the API's INSERT never waited for the concurrent registration")
            await first.commit()
            response = await answer
    assert response.status_code == 409, response.text
    assert response.json()["code"] == "conflict"
    logged = "\n".join(f"{record.getMessage()} {record.exc_text or ''}" for record in caplog.records)
    assert "integrity error answered as 409" in logged
    assert "$argon2" not in logged
    assert PASSWORD not in logged
    assert "parameters hidden" in logged
