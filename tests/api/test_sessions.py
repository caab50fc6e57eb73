"""Browser sessions (issue 14): the `aam_session` cookie keeps a new tab logged in, logout ends it for every tab,
logout everywhere ends every session and every older bearer token; idle and absolute expiry; the CSRF header on
cookie-authenticated writes; the cookie's attributes; the login rate limits; every owner route through a cookie."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from http.cookies import SimpleCookie

import httpx
import pytest_asyncio
import sqlalchemy as sa
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.models import User, UserSession, utcnow
from core.sessions import CSRF_REFUSED, hash_token
from core.settings import Settings
from tests.api.test_ownership import SKIP_PREFIXES
from tests.api.test_rate_limits import assert_limited, limited_app
from tests.builders import PASSWORD, app_client, make_asset, make_box, make_project, unique_email

CSRF = {"X-AAM-CSRF": "1"}


def browser(
    app: FastAPI, cookies: dict[str, str] | None = None, peer: str = "127.0.0.1"
) -> httpx.AsyncClient:
    """A browser tab: its own connection, the cookies it is given (a new tab of the same browser has the same)."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=(peer, 123))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver", cookies=cookies)


@pytest_asyncio.fixture(loop_scope="session")
async def tab(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with browser(app) as client:
        yield client


async def sign_up(client: httpx.AsyncClient) -> dict[str, str]:
    body = {"email": unique_email("session"), "password": PASSWORD, "display_name": "Session User"}
    assert (await client.post("/api/auth/register/", json=body)).status_code == 201
    return {"email": body["email"], "password": PASSWORD}


async def log_in(client: httpx.AsyncClient, credentials: dict[str, str]) -> httpx.Response:
    response = await client.post("/api/auth/session/", json=credentials)
    assert response.status_code == 200, response.text
    return response


async def bearer(client: httpx.AsyncClient, credentials: dict[str, str]) -> dict[str, str]:
    login = await client.post("/api/auth/login/", json=credentials)
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


def session_cookie(response: httpx.Response) -> SimpleCookie:
    cookie = SimpleCookie()
    cookie.load(response.headers["set-cookie"])
    return cookie


async def shift_session(
    sessionmaker: async_sessionmaker[AsyncSession], token: str, **moves: timedelta
) -> None:
    """Move a session's timestamps into the past (e.g. last_seen_at=timedelta(hours=73))."""
    async with sessionmaker() as session:
        row = (
            await session.exec(select(UserSession).where(UserSession.token_hash == hash_token(token)))
        ).one()
        for name, delta in moves.items():
            setattr(row, name, getattr(row, name) - delta)
        await session.commit()


async def test_a_session_keeps_a_new_tab_logged_in_until_logout_ends_it_for_both(
    app: FastAPI, tab: httpx.AsyncClient
) -> None:
    credentials = await sign_up(tab)
    login = await log_in(tab, credentials)
    assert login.json()["email"] == credentials["email"]
    assert "access_token" not in login.text  # nothing a script could steal
    assert (await tab.get("/api/auth/me/")).json()["email"] == credentials["email"]

    async with browser(app, dict(tab.cookies)) as new_tab:
        assert (await new_tab.get("/api/auth/me/")).status_code == 200
        logout = await tab.delete("/api/auth/session/", headers=CSRF)
        assert logout.status_code == 204
        cleared = session_cookie(logout)["aam_session"]
        assert cleared.value == "" and cleared["path"] == "/api"
        # This tab's cookie is gone; the other tab still sends it, and the server says the session has ended.
        assert not tab.cookies
        assert (await tab.get("/api/auth/me/")).json()["code"] == "unauthorized"
        refused = await new_tab.get("/api/auth/me/")
        assert refused.status_code == 401
        assert refused.json() == {
            "detail": "Your session has ended; log in again.",
            "code": "session_expired",
        }
    # Logging in again works.
    await log_in(tab, credentials)
    assert (await tab.get("/api/auth/me/")).status_code == 200


async def test_a_login_on_top_of_a_live_session_ends_that_session(
    app: FastAPI, tab: httpx.AsyncClient
) -> None:
    first, second = await sign_up(tab), await sign_up(tab)
    await log_in(tab, first)
    old_cookies = dict(tab.cookies)
    await log_in(tab, second)  # the browser sends the first session's cookie with this login
    assert (await tab.get("/api/auth/me/")).json()["email"] == second["email"]
    async with browser(app, old_cookies) as stale:
        refused = await stale.get("/api/auth/me/")
        assert refused.status_code == 401
        assert refused.json()["detail"] == "Your session has ended; log in again."


async def test_the_cookie_is_httponly_strict_on_api_paths_and_secure_behind_https(
    app: FastAPI, settings: Settings
) -> None:
    async with browser(app) as tab:
        credentials = await sign_up(tab)
        plain = session_cookie(await log_in(tab, credentials))["aam_session"]
        assert plain["httponly"] and plain["samesite"] == "strict" and plain["path"] == "/api"
        assert not plain["secure"]
        assert int(plain["max-age"]) == 336 * 3600
        assert len(plain.value) >= 43
        # TLS ended at the trusted proxy (FORWARDED_ALLOW_IPS is 127.0.0.1 here): the cookie is Secure.
        behind_tls = await tab.post(
            "/api/auth/session/", json=credentials, headers={"X-Forwarded-Proto": "https"}
        )
        assert session_cookie(behind_tls)["aam_session"]["secure"]
    # The same header from anyone else is not believed.
    async with browser(app, peer="10.9.8.7") as stranger:
        spoofed = await stranger.post(
            "/api/auth/session/", json=credentials, headers={"X-Forwarded-Proto": "https"}
        )
        assert not session_cookie(spoofed)["aam_session"]["secure"]
    async with app_client(settings.model_copy(update={"session_cookie_secure": True})) as forced:
        assert session_cookie(await log_in(forced, credentials))["aam_session"]["secure"]


async def test_cookie_writes_need_the_csrf_header_and_bearer_writes_do_not(tab: httpx.AsyncClient) -> None:
    credentials = await sign_up(tab)
    await log_in(tab, credentials)
    refused = await tab.post("/api/projects/", json={"name": "Forged"})
    assert refused.status_code == 403
    assert refused.json() == {"detail": CSRF_REFUSED, "code": "forbidden"}
    assert (await tab.get("/api/projects/")).json()["items"] == []  # nothing was created
    assert (await tab.post("/api/projects/", json={"name": "Mine"}, headers=CSRF)).status_code == 201
    assert (await tab.delete("/api/auth/session/")).status_code == 403  # no forced logout either
    assert (await tab.get("/api/auth/me/")).status_code == 200

    headers = await bearer(tab, credentials)
    tab.cookies.clear()
    assert (await tab.post("/api/projects/", json={"name": "Script"}, headers=headers)).status_code == 201


async def test_an_idle_or_too_old_session_is_dead_and_last_seen_is_written_once_a_minute(
    tab: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    credentials = await sign_up(tab)
    await log_in(tab, credentials)
    token = tab.cookies["aam_session"]

    async def last_seen() -> object:
        async with sessionmaker() as session:
            row = await session.exec(select(UserSession).where(UserSession.token_hash == hash_token(token)))
            return row.one().last_seen_at

    seen = await last_seen()
    assert (await tab.get("/api/auth/me/")).status_code == 200
    assert await last_seen() == seen  # used within the minute: not written
    await shift_session(sessionmaker, token, last_seen_at=timedelta(minutes=2))
    before = utcnow()
    assert (await tab.get("/api/auth/me/")).status_code == 200
    assert await last_seen() >= before  # type: ignore[operator]

    await shift_session(sessionmaker, token, last_seen_at=timedelta(hours=72, minutes=1))
    idle = await tab.get("/api/auth/me/")
    assert idle.status_code == 401
    assert idle.json() == {"detail": "Your session has expired; log in again.", "code": "session_expired"}

    await log_in(tab, credentials)
    token = tab.cookies["aam_session"]
    assert (await tab.get("/api/auth/me/")).status_code == 200
    await shift_session(sessionmaker, token, created_at=timedelta(days=14, minutes=1))  # used, but too old
    assert (await tab.get("/api/auth/me/")).status_code == 401


async def test_shortened_lifetimes_end_sessions(settings: Settings, sessionmaker) -> None:
    short = settings.model_copy(update={"session_idle_hours": 1 / 60, "session_max_age_hours": 1})
    async with app_client(short) as tab:
        credentials = await sign_up(tab)
        cookie = session_cookie(await log_in(tab, credentials))["aam_session"]
        assert int(cookie["max-age"]) == 3600
        await shift_session(sessionmaker, cookie.value, last_seen_at=timedelta(seconds=61))
        assert (await tab.get("/api/auth/me/")).status_code == 401


async def test_logout_everywhere_ends_other_sessions_and_older_bearer_tokens(
    app: FastAPI, tab: httpx.AsyncClient
) -> None:
    credentials = await sign_up(tab)
    await log_in(tab, credentials)
    old_token = await bearer(tab, credentials)
    async with browser(app) as other_browser:
        await log_in(other_browser, credentials)
        assert (await tab.post("/api/auth/logout-everywhere/")).status_code == 403  # CSRF applies here too
        ended = await tab.post("/api/auth/logout-everywhere/", headers=CSRF)
        assert ended.status_code == 204
        assert session_cookie(ended)["aam_session"].value == ""
        assert (await other_browser.get("/api/auth/me/")).status_code == 401
    revoked = await tab.get("/api/auth/me/", headers=old_token)
    assert revoked.status_code == 401
    assert revoked.json()["detail"] == "This token was revoked (logged out everywhere); log in again."
    # A login right after (the same second) works, with either kind of credential.
    assert (await tab.get("/api/auth/me/", headers=await bearer(tab, credentials))).status_code == 200
    await log_in(tab, credentials)
    assert (await tab.get("/api/auth/me/")).status_code == 200
    # A bearer client may log out everywhere too.
    assert (await tab.post("/api/auth/logout-everywhere/", headers=old_token)).status_code == 401
    fresh = await bearer(tab, credentials)
    tab.cookies.clear()
    assert (await tab.post("/api/auth/logout-everywhere/", headers=fresh)).status_code == 204
    assert (await tab.get("/api/auth/me/", headers=fresh)).status_code == 401


async def test_a_deactivated_users_session_fails_like_their_token(
    tab: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    credentials = await sign_up(tab)
    me = (await log_in(tab, credentials)).json()
    async with sessionmaker() as session:
        await session.exec(sa.update(User).where(col(User.id) == me["id"]).values(is_active=False))  # type: ignore[call-overload]
        await session.commit()
    refused = await tab.get("/api/auth/me/")
    assert refused.status_code == 401
    assert refused.json()["detail"] == "The account for this token no longer exists or is deactivated."


async def test_wrong_passwords_and_bad_cookies_are_401(tab: httpx.AsyncClient) -> None:
    credentials = await sign_up(tab)
    wrong = await tab.post("/api/auth/session/", json={**credentials, "password": "not the password"})
    assert wrong.status_code == 401 and "set-cookie" not in wrong.headers
    for value in ("nonsense", "x" * 500, ""):
        tab.cookies.set("aam_session", value, domain="testserver", path="/api")
        assert (await tab.get("/api/auth/me/")).status_code == 401
    assert (await tab.delete("/api/auth/session/", headers=CSRF)).status_code == 204  # idempotent


async def test_the_session_endpoint_has_the_login_rate_limits(settings: Settings) -> None:
    async with limited_app(settings, rate_limit_login_per_account="3/minute") as client:
        credentials = await sign_up(client)
        for _ in range(3):
            assert (await client.post("/api/auth/session/", json=credentials)).status_code == 200
        assert_limited(await client.post("/api/auth/session/", json=credentials), "login", 60)
        # The two ways of logging in share the budget.
        assert (await client.post("/api/auth/login/", json=credentials)).status_code == 429


async def test_every_owner_route_through_a_cookie_hides_other_users_objects_and_needs_the_csrf_header(
    app: FastAPI, client: httpx.AsyncClient, sessionmaker, storage
) -> None:
    owner = await bearer(client, await sign_up(client))
    project = await make_project(client, owner)
    box = await make_box(client, owner, project["id"])
    asset = await make_asset(sessionmaker, box["id"], storage=storage)
    ids = {"project_id": project["id"], "box_id": box["id"], "asset_id": asset.id}
    async with browser(app) as intruder:
        await log_in(intruder, await sign_up(intruder))
        checked = 0
        for path, methods in app.openapi()["paths"].items():
            params = re.findall(r"{(\w+)}", path)
            if path.startswith(SKIP_PREFIXES) or not params or any(p not in ids for p in params):
                continue
            url = path.format(**ids)
            for method in set(methods) & {"get", "post", "put", "patch", "delete"}:
                kwargs = {"json": {}} if method in {"post", "put", "patch"} else {}
                foreign = await intruder.request(method.upper(), url, headers=CSRF, **kwargs)
                assert foreign.status_code == 404, (method, url, foreign.status_code, foreign.text)
                if method != "get":
                    forged = await intruder.request(method.upper(), url, **kwargs)
                    assert forged.status_code == 403, (method, url, forged.status_code)
                checked += 1
        assert checked >= 13
    assert (await client.get(f"/api/assets/{asset.id}/", headers=owner)).status_code == 200
