"""Rate limits: login per account and per address, registration per address, generation and smart edit per user.

Each test runs an app of its own with low limits, reached from an address of its own (the suite's app has
generous ones). Over a limit: 429, `Retry-After`, a sentence naming the limit, and nothing written.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlmodel import select

from api.main import create_app
from core.models import User
from core.ratelimit import address_key
from core.settings import Settings
from devstack.services import free_port
from tests.api.test_generation import asset_count
from tests.builders import PASSWORD, make_asset, make_box, make_project, register, unique_email


def random_address() -> str:
    return f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"


@contextlib.asynccontextmanager
async def limited_app(
    settings: Settings, address: str | None = None, **overrides: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """An app of its own with these settings, its requests coming from `address` (a fresh one by default)."""
    app = create_app(settings.model_copy(update=overrides))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(
            app=app, raise_app_exceptions=False, client=(address or random_address(), 40000)
        )
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


def assert_limited(response: httpx.Response, fragment: str, window: int) -> int:
    """A refusal by a limit of `window` seconds whose window began moments ago: `Retry-After` is nearly the whole
    window (it is read from the counter's key in Redis; a wrong key would read no TTL and say 1 second)."""
    assert response.status_code == 429, response.text
    body = response.json()
    assert body["code"] == "rate_limited"
    assert fragment in body["detail"] and "Try again in" in body["detail"], body["detail"]
    retry_after = int(response.headers["Retry-After"])
    assert retry_after == body["details"]["retry_after"] >= 1
    fresh = window - 10 if window > 10 else 0  # a window of a few seconds may be nearly over when refused
    assert fresh < retry_after <= window, f"Retry-After {retry_after} s for a fresh window of {window} s"
    return retry_after


async def login(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    return await client.post("/api/auth/login/", json={"email": email, "password": password})


async def test_failed_logins_lock_the_account_for_the_window_from_any_address(settings: Settings) -> None:
    email = unique_email()
    async with limited_app(settings, rate_limit_login_per_account="3/minute") as attacker:
        await register(attacker, email=email)  # one login: it counts too
        for _ in range(2):
            assert (await login(attacker, email, "wrong password")).status_code == 401
        refused = await login(attacker, email.upper(), "another guess")  # the account, whatever the case
        assert_limited(refused, "Too many login attempts for this account: at most 3 per minute", window=60)
        # Another account from the same address is not affected.
        assert (await register(attacker))["Authorization"]
    # The limit is the account's, not the address's: the right password from elsewhere waits too.
    async with limited_app(settings, rate_limit_login_per_account="3/minute") as owner:
        assert_limited(await login(owner, email), "for this account", window=60)


async def test_logins_from_one_address_are_limited_whatever_the_accounts(settings: Settings) -> None:
    async with limited_app(settings, rate_limit_login_per_address="3/minute") as client:
        for _ in range(3):
            assert (await login(client, unique_email(), "guess")).status_code == 401
        assert_limited(
            await login(client, unique_email(), "guess"), "login attempts from your address", window=60
        )


@pytest.mark.parametrize(
    "host, key",
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"),
        ("2001:DB8:1:2::1", "2001:db8:1:2::/64"),  # one spelling per network
        ("::ffff:203.0.113.7", "203.0.113.7"),  # an IPv4 client on a dual-stack socket
        ("testclient", "testclient"),  # not an address (some test transports): kept as it is
    ],
)
def test_per_address_limits_key_ipv6_clients_on_their_64(host: str, key: str) -> None:
    assert address_key(host) == key


async def test_addresses_in_one_ipv6_64_share_the_per_address_limit(settings: Settings) -> None:
    """Every IPv6 customer has a /64: rotating addresses inside it must not escape the per-address limits."""
    network = f"2001:db8:{random.randrange(1 << 16):x}:{random.randrange(1 << 16):x}"

    def inside() -> str:
        return f"{network}:{':'.join(f'{random.randrange(1 << 16):x}' for _ in range(4))}"

    app = create_app(settings.model_copy(update={"rate_limit_login_per_address": "3/minute"}))
    async with app.router.lifespan_context(app):
        answers = []
        for address in [inside() for _ in range(4)] + [f"2001:db8:ffff:{random.randrange(1 << 16):x}::1"]:
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=(address, 40000))
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                answers.append(await login(client, unique_email(), "guess"))
    assert [answer.status_code for answer in answers[:3]] == [401, 401, 401]
    assert_limited(answers[3], "login attempts from your address", window=60)
    assert answers[4].status_code == 401, answers[4].text  # another /64 is another client


async def test_registrations_from_one_address_are_limited_and_the_refused_one_writes_nothing(
    settings: Settings, sessionmaker
) -> None:
    async with limited_app(settings, rate_limit_register_per_address="2/hour") as client:
        for _ in range(2):
            body = {"email": unique_email(), "password": PASSWORD, "display_name": "Ann"}
            assert (await client.post("/api/auth/register/", json=body)).status_code == 201
        email = unique_email()
        refused = await client.post(
            "/api/auth/register/", json={"email": email, "password": PASSWORD, "display_name": "Ann"}
        )
    assert_limited(refused, "Too many registrations from your address: at most 2 per hour", window=3600)
    async with sessionmaker() as session:
        assert (await session.exec(select(User).where(User.email == email))).first() is None


async def test_generate_animate_and_retry_share_a_per_user_limit_and_a_refusal_starts_nothing(
    settings: Settings, sessionmaker, storage
) -> None:
    async with limited_app(settings, rate_limit_generate_per_user="2/minute") as client:
        headers = await register(client)
        project = await make_project(client, headers)
        box = await make_box(client, headers, project["id"])
        image = await make_asset(sessionmaker, box["id"], storage=storage)
        # Two requests the service refuses (an unknown model) still use the budget: the limit is on requests.
        for _ in range(2):
            unknown = await client.post(
                f"/api/boxes/{box['id']}/generate/",
                json={"model": "no/such", "prompt": "a fox"},
                headers=headers,
            )
            assert unknown.status_code == 422, unknown.text
        before = await asset_count(sessionmaker, box["id"])
        generate = await client.post(
            f"/api/boxes/{box['id']}/generate/",
            json={"model": "google/nano-banana", "prompt": "a fox"},
            headers=headers,
        )
        animate = await client.post(
            f"/api/assets/{image.id}/animate/",
            json={"model": "bytedance/seedance-1.5-pro", "prompt": "it runs"},
            headers=headers,
        )
        retry = await client.post(f"/api/assets/{image.id}/retry/", headers=headers)
        # Another user has a budget of their own.
        other = await register(client)
        other_box = await make_box(client, other, (await make_project(client, other))["id"])
        other_answer = await client.post(
            f"/api/boxes/{other_box['id']}/generate/", json={"model": "no/such", "prompt": "a"}, headers=other
        )
    for refused in (generate, animate, retry):
        assert_limited(
            refused,
            "Too many generation requests (generate, animate, retry): at most 2 per minute",
            window=60,
        )
    assert await asset_count(sessionmaker, box["id"]) == before  # no asset, hence no workflow
    assert other_answer.status_code == 422


async def test_smart_edits_are_limited_per_user(settings: Settings) -> None:
    async with limited_app(settings, rate_limit_smart_edit_per_user="1/minute") as client:
        headers = await register(client)
        body = {"prompt": "a fox", "instruction": "make it red", "box_id": 2_000_000_000}
        first = await client.post("/api/smart-edit/", json=body, headers=headers)
        assert first.status_code == 404, first.text  # not the user's box: answered, and counted
        assert_limited(
            await client.post("/api/smart-edit/", json=body, headers=headers),
            "Too many smart edits",
            window=60,
        )


async def test_a_limit_resets_after_its_window(settings: Settings) -> None:
    email = unique_email()
    async with limited_app(settings, rate_limit_login_per_account="2 per 2 seconds") as client:
        await register(client, email=email)
        # Log in until refused (a slow machine may see a window end between two calls), then wait as told.
        for _ in range(10):
            answer = await login(client, email)
            if answer.status_code == 429:
                break
            assert answer.status_code == 200
        retry_after = assert_limited(answer, "at most 2 every 2 seconds", window=2)
        await asyncio.sleep(retry_after)
        assert (await login(client, email)).status_code == 200


async def test_login_and_registration_go_on_when_redis_is_down(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="core.ratelimit")
    async with limited_app(
        settings,
        redis_url=f"redis://127.0.0.1:{free_port()}/0",
        rate_limit_login_per_account="1/minute",
        rate_limit_register_per_address="1/minute",
    ) as client:
        headers = await register(client)  # register, then log in: neither can be counted
        assert (await client.get("/api/auth/me/", headers=headers)).status_code == 200
    warnings = [r.getMessage() for r in caplog.records if r.name == "core.ratelimit"]
    assert any("registrations from your address" in w and "Redis is unavailable" in w for w in warnings)
    assert any("login attempts from your address" in w for w in warnings)
