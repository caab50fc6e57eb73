"""The nightly retention run also deletes the rows of browser sessions that ended more than a day ago, and keeps
live sessions working (core/sessions.py, `purge_ended_sessions`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import FastAPI
from sqlmodel import col, select

from core.models import UserSession
from core.sessions import hash_token
from tests.api.test_sessions import browser, log_in, sign_up
from tests.retention.helpers import run_retention


async def test_the_retention_run_deletes_sessions_ended_over_a_day_ago_and_keeps_the_rest(
    app: FastAPI, sessionmaker, temporal_client, retention_queue
) -> None:
    now = datetime.now(UTC)
    async with browser(app) as tab:
        credentials = await sign_up(tab)
        await log_in(tab, credentials)
        live_token = tab.cookies["aam_session"]
        user_id = (await tab.get("/api/auth/me/")).json()["id"]

        hour, day = timedelta(hours=1), timedelta(days=1)
        shapes = {
            "revoked two days ago": {"revoked_at": now - 2 * day, "expires_at": now + 5 * day},
            "expired two days ago": {"expires_at": now - 2 * day},
            "revoked an hour ago": {"revoked_at": now - hour, "expires_at": now + 5 * day},
            "expired an hour ago": {"expires_at": now - hour},
            "idle but not past its expiry": {"last_seen_at": now - 10 * day, "expires_at": now + day},
        }
        async with sessionmaker() as session:
            for label, fields in shapes.items():
                session.add(
                    UserSession(user_id=user_id, token_hash=hash_token(label), user_agent=label, **fields)
                )
            await session.commit()

        await run_retention(temporal_client, retention_queue, now)

        async with sessionmaker() as session:
            rows = await session.exec(select(UserSession).where(col(UserSession.user_id) == user_id))
            left = sorted(row.user_agent for row in rows if row.token_hash != hash_token(live_token))
        assert left == ["expired an hour ago", "idle but not past its expiry", "revoked an hour ago"]
        # The live session was not touched: the tab is still logged in.
        assert (await tab.get("/api/auth/me/")).status_code == 200
