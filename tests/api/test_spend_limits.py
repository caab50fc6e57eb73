"""Spend limits as a user meets them: a budget per UTC day and a cap on running generations, checked before
anything is created, answered with a sentence that says which limit, what is left and when it resets."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from api.deps import get_now
from core.contract import AssetStatus
from core.models import AIModel, Asset, ChargeKind, CreditCharge, SystemConfig, User
from core.settings import Settings
from core.storage import Storage
from tests.api.test_admin import admin_login, make_user
from tests.api.test_outages import temporal_gone
from tests.builders import app_client, make_asset, make_box, make_project, register
from tests.pipeline.fixtures import SimulatorProcess

EVENING = datetime(2026, 11, 27, 18, 48, tzinfo=UTC)
"""5 h 12 min before the budget resets."""
FOX = {"model": "google/nano-banana", "prompt": "a fox in the snow"}  # 4 credits a variant


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now


@pytest.fixture
def clock(app: FastAPI) -> Iterator[Clock]:
    """The API's "now" for this test (the day boundary is crossed by moving it, never by waiting)."""
    moment = Clock(EVENING)
    app.dependency_overrides[get_now] = lambda: moment.now
    yield moment
    app.dependency_overrides.pop(get_now, None)


async def me(client: httpx.AsyncClient, headers: dict[str, str]) -> int:
    response = await client.get("/api/auth/me/", headers=headers)
    assert response.status_code == 200, response.text
    return int(response.json()["id"])


async def set_limits(
    sessionmaker: async_sessionmaker[AsyncSession],
    user_id: int,
    *,
    budget: float | None = None,
    running: int | None = None,
    superuser: bool | None = None,
) -> None:
    async with sessionmaker() as session:
        user = await session.get(User, user_id)
        assert user is not None
        user.daily_credit_budget, user.max_running_generations = budget, running
        if superuser is not None:
            user.is_superuser = superuser
        session.add(user)
        await session.commit()


async def user_box(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    budget: float | None = None,
    running: int | None = 100,
) -> tuple[dict[str, str], int, dict[str, Any]]:
    headers = await register(client)
    user_id = await me(client, headers)
    await set_limits(sessionmaker, user_id, budget=budget, running=running)
    project = await make_project(client, headers)
    box = await make_box(client, headers, project["id"])
    return headers, user_id, box


async def charges(sessionmaker: async_sessionmaker[AsyncSession], user_id: int) -> list[CreditCharge]:
    async with sessionmaker() as session:
        rows = await session.exec(
            select(CreditCharge).where(CreditCharge.user_id == user_id).order_by(col(CreditCharge.id))
        )
        return list(rows.all())


async def box_assets(sessionmaker: async_sessionmaker[AsyncSession], box_id: int) -> list[Asset]:
    async with sessionmaker() as session:
        return list((await session.exec(select(Asset).where(Asset.box_id == box_id))).all())


async def generate(
    client: httpx.AsyncClient, headers: dict[str, str], box: dict[str, Any], count: int = 1
) -> httpx.Response:
    return await client.post(
        f"/api/boxes/{box['id']}/generate/", json={**FOX, "count": count}, headers=headers
    )


async def test_over_the_daily_budget_says_so_and_creates_nothing(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    headers, user_id, box = await user_box(client, sessionmaker, budget=14)
    assert (await generate(client, headers, box, count=2)).status_code == 202

    refused = await generate(client, headers, box, count=4)

    assert refused.status_code == 429, refused.text
    body = refused.json()
    assert body["code"] == "rate_limited"
    assert body["detail"] == (
        "Your daily budget is 14 credits: 8 spent today, 6 left; this request needs 16 (4 × 4). "  # noqa: RUF001
        "It resets at 00:00 UTC, in 5 h 12 min."
    )
    assert body["details"] == {
        "limit": "daily_budget",
        "daily_budget": 14.0,
        "spent": 8.0,
        "remaining": 6.0,
        "needed": 16.0,
        "resets_at": "2026-11-28T00:00:00+00:00",
        "retry_after": 5 * 3600 + 12 * 60,
    }
    assert refused.headers["Retry-After"] == str(5 * 3600 + 12 * 60)
    # Nothing of the refused request exists: no asset (so no workflow `asset-<id>`), no charge.
    assert len(await box_assets(sessionmaker, box["id"])) == 2
    assert [c.estimated for c in await charges(sessionmaker, user_id)] == [4.0, 4.0]


async def test_the_running_cap_counts_pending_and_running_generations(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    headers, user_id, box = await user_box(client, sessionmaker, running=3)
    assert (await generate(client, headers, box, count=2)).status_code == 202  # stay PENDING: no worker here

    refused = await generate(client, headers, box, count=2)

    assert refused.status_code == 429, refused.text
    body = refused.json()
    assert body["detail"] == (
        "You have 2 generations running and may run 3 at once: 1 slot free, this request needs 2. Each "
        "generation that finishes frees a slot; try again in a moment."
    )
    assert body["details"]["limit"] == "running_generations"
    assert body["details"]["retry_after"] == 30
    assert refused.headers["Retry-After"] == "30"
    assert len(await box_assets(sessionmaker, box["id"])) == 2
    assert len(await charges(sessionmaker, user_id)) == 2
    assert (await generate(client, headers, box, count=1)).status_code == 202  # the last free slot


async def test_concurrent_requests_pass_only_as_far_as_the_budget_goes(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    headers, user_id, box = await user_box(client, sessionmaker, budget=20)

    answers = await asyncio.gather(*(generate(client, headers, box) for _ in range(8)))

    statuses = sorted(a.status_code for a in answers)
    assert statuses == [202] * 5 + [429] * 3, [a.text for a in answers]
    assert len(await box_assets(sessionmaker, box["id"])) == 5
    assert sum(c.estimated for c in await charges(sessionmaker, user_id)) == 20


async def test_a_users_own_limits_beat_the_defaults(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    async with sessionmaker() as session:
        config = await session.get(SystemConfig, 1)
        assert config is not None
        before = config.daily_credit_budget
        config.daily_credit_budget = 8
        session.add(config)
        await session.commit()
    try:
        plain, _, plain_box = await user_box(client, sessionmaker, budget=None)
        trusted, _, trusted_box = await user_box(client, sessionmaker, budget=100)
        refused = await generate(client, plain, plain_box, count=3)
        assert refused.status_code == 429
        assert "Your daily budget is 8 credits" in refused.json()["detail"]
        assert (await generate(client, trusted, trusted_box, count=3)).status_code == 202
        usage = (await client.get("/api/auth/me/usage/", headers=plain)).json()
        assert (usage["daily_budget"], usage["remaining"]) == (8, 8)
    finally:
        async with sessionmaker() as session:
            config = await session.get(SystemConfig, 1)
            assert config is not None
            config.daily_credit_budget = before
            session.add(config)
            await session.commit()


async def test_deleting_assets_does_not_give_budget_back(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    headers, user_id, box = await user_box(client, sessionmaker, budget=8)
    accepted = (await generate(client, headers, box, count=2)).json()
    for asset_id in accepted["asset_ids"]:
        assert (await client.delete(f"/api/assets/{asset_id}/", headers=headers)).status_code == 204

    refused = await generate(client, headers, box)

    assert refused.status_code == 429
    assert "8 spent today, 0 left" in refused.json()["detail"]
    kept = await charges(sessionmaker, user_id)
    assert [(c.asset_id, c.estimated) for c in kept] == [(None, 4.0), (None, 4.0)]


async def test_a_retry_is_charged_again(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    storage: Storage,
    clock: Clock,
) -> None:
    headers, user_id, box = await user_box(client, sessionmaker, budget=6)
    failed = await make_asset(
        sessionmaker, box["id"], status=AssetStatus.FAILED, error_message="Kie.ai said no"
    )

    accepted = await client.post(f"/api/assets/{failed.id}/retry/", headers=headers)

    assert accepted.status_code == 202, accepted.text
    assert accepted.json()["estimated_cost"] == 4
    assert [(c.kind, c.asset_id, c.estimated) for c in await charges(sessionmaker, user_id)] == [
        (ChargeKind.RETRY, failed.id, 4.0)
    ]
    async with sessionmaker() as session:  # it failed again
        await session.exec(
            sa.update(Asset).where(col(Asset.id) == failed.id).values(status=AssetStatus.FAILED)
        )
        await session.commit()
    again = await client.post(f"/api/assets/{failed.id}/retry/", headers=headers)
    assert again.status_code == 429
    assert "4 spent today, 2 left; this request needs 4" in again.json()["detail"]
    async with sessionmaker() as session:
        asset = await session.get(Asset, failed.id)
        assert asset is not None and asset.status is AssetStatus.FAILED  # not half-retried


async def test_the_budget_resets_at_midnight_utc(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    headers, _, box = await user_box(client, sessionmaker, budget=8)
    clock.now = datetime(2026, 11, 27, 23, 59, 10, tzinfo=UTC)
    assert (await generate(client, headers, box, count=2)).status_code == 202
    refused = await generate(client, headers, box)
    assert refused.status_code == 429
    assert refused.json()["detail"].endswith("It resets at 00:00 UTC, in 1 min.")
    assert refused.headers["Retry-After"] == "50"

    clock.now += timedelta(minutes=1)  # 00:00:10 the next day

    assert (await generate(client, headers, box, count=2)).status_code == 202
    usage = (await client.get("/api/auth/me/usage/", headers=headers)).json()
    assert usage["spent_today"] == 8
    assert usage["resets_at"] == "2026-11-29T00:00:00Z"


async def test_usage_gives_todays_figures(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    headers, _, box = await user_box(client, sessionmaker, budget=50, running=6)
    accepted = await generate(client, headers, box, count=3)
    assert accepted.json()["estimated_cost"] == 12
    asset = (await client.get(f"/api/assets/{accepted.json()['asset_id']}/", headers=headers)).json()
    assert (asset["estimated_cost_credits"], asset["cost_credits"]) == (4, None)

    usage = await client.get("/api/auth/me/usage/", headers=headers)

    assert usage.status_code == 200
    assert usage.json() == {
        "spent_today": 12.0,
        "daily_budget": 50.0,
        "remaining": 38.0,
        "running": 3,
        "max_running": 6,
        "resets_at": "2026-11-28T00:00:00Z",
        "smart_edit_cost": 1.0,
        "kie_balance": None,
    }
    assert (await client.get("/api/auth/me/usage/")).status_code == 401


async def test_a_smart_edit_over_budget_is_refused_before_the_llm(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    headers, user_id, _ = await user_box(client, sessionmaker, budget=0.5)
    refused = await client.post(
        "/api/smart-edit/", json={"prompt": "a fox", "instruction": "make it night"}, headers=headers
    )
    assert refused.status_code == 429, refused.text
    assert "this request needs 1 (one smart edit)" in refused.json()["detail"]
    assert await charges(sessionmaker, user_id) == []


async def test_an_unstarted_generation_leaves_no_charge(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    async with temporal_gone(settings, silent=False) as (_, client):
        headers, user_id, box = await user_box(client, sessionmaker)
        answer = await generate(client, headers, box, count=2)
    assert answer.status_code == 503, answer.text
    assert await box_assets(sessionmaker, box["id"]) == []
    assert await charges(sessionmaker, user_id) == []


async def test_too_few_kie_credits_is_said_once_before_anything_starts(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], kie_simulator: SimulatorProcess
) -> None:
    simulated = settings.model_copy(
        update={
            "kie_base_url": kie_simulator.url,
            "kie_api_key": None,
            "kie_simulator_key": kie_simulator.api_key,
            "kie_balance_cache_seconds": 0.0,
        }
    )
    before = len(kie_simulator.tasks())
    async with httpx.AsyncClient(base_url=kie_simulator.url, timeout=10) as sim:
        await sim.put("/_sim/credits", json={"credits": 10})
    try:
        async with app_client(simulated) as client:
            headers, user_id, box = await user_box(client, sessionmaker)
            admin_headers, admin_id, _ = await user_box(client, sessionmaker)
            await set_limits(sessionmaker, admin_id, superuser=True)

            refused = await generate(client, headers, box, count=4)
            enough = await generate(client, headers, box, count=2)
            usage = (await client.get("/api/auth/me/usage/", headers=headers)).json()
            admin_usage = (await client.get("/api/auth/me/usage/", headers=admin_headers)).json()
    finally:
        async with httpx.AsyncClient(base_url=kie_simulator.url, timeout=10) as sim:
            await sim.put("/_sim/credits", json={"credits": 100_000})

    assert refused.status_code == 402, refused.text
    assert refused.json()["code"] == "provider_out_of_credits"
    assert refused.json()["detail"] == (
        "The studio's Kie.ai account has 10 credits left; this request needs 16. Ask an administrator to top "
        "it up."
    )
    assert enough.status_code == 202  # 8 of the 10 credits: not refused
    assert len(await box_assets(sessionmaker, box["id"])) == 2  # only the second request's
    assert len(await charges(sessionmaker, user_id)) == 2
    assert len(kie_simulator.tasks()) == before  # nothing reached Kie.ai (no worker runs here anyway)
    assert usage["kie_balance"] is None  # the balance is for superusers only
    assert admin_usage["kie_balance"] == 10


async def test_a_superuser_sets_and_clears_a_users_limits_in_the_admin(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await make_user(sessionmaker)
    other = await make_user(sessionmaker, is_superuser=False)
    assert (await admin_login(client, admin.email)).status_code == 302
    form = {"display_name": "Client", "is_active": "y"}

    page = await client.get(f"/admin/user/edit/{other.id}")
    assert "daily_credit_budget" in page.text and "max_running_generations" in page.text
    assert (
        await client.post(f"/admin/user/edit/{other.id}", data={**form, "daily_credit_budget": "-1"})
    ).status_code == 400
    saved = await client.post(
        f"/admin/user/edit/{other.id}",
        data={**form, "daily_credit_budget": "250.5", "max_running_generations": "2"},
    )
    assert saved.status_code == 302, saved.text
    async with sessionmaker() as session:
        user = await session.get(User, other.id)
        assert user is not None
        assert (user.daily_credit_budget, user.max_running_generations) == (250.5, 2)

    cleared = await client.post(
        f"/admin/user/edit/{other.id}",
        data={**form, "daily_credit_budget": "", "max_running_generations": ""},
    )
    assert cleared.status_code == 302, cleared.text
    async with sessionmaker() as session:
        user = await session.get(User, other.id)
        assert user is not None
        assert (user.daily_credit_budget, user.max_running_generations) == (None, None)  # the defaults again
    config_page = await client.get("/admin/system-config/edit/1")
    for name in ("daily_credit_budget", "max_running_generations", "smart_edit_cost_credits"):
        assert name in config_page.text


async def held_balance_reads(simulator: SimulatorProcess, *, hold: bool | None = None) -> int:
    """Balance reads the simulator is holding (with `hold`, start or stop holding them first)."""
    async with httpx.AsyncClient(base_url=simulator.url, timeout=10) as sim:
        answer = await sim.put("/_sim/credits", json={} if hold is None else {"hold": hold})
        return int(answer.json()["credit_reads_waiting"])


async def test_no_connection_is_held_while_the_kie_balance_is_read_and_no_request_queues_for_it(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], kie_simulator: SimulatorProcess
) -> None:
    from api.main import create_app

    simulated = settings.model_copy(
        update={
            "kie_base_url": kie_simulator.url,
            "kie_api_key": None,
            "kie_simulator_key": kie_simulator.api_key,
            "kie_balance_cache_seconds": 0.0,  # every request finds the reading stale
            "kie_balance_timeout_seconds": 30.0,
        }
    )
    app = create_app(simulated)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                headers, _, box = await user_box(client, sessionmaker)
                pool = app.state.engine.sync_engine.pool
                # The first reading is awaited (nothing to serve yet), but without a pooled connection.
                await held_balance_reads(kie_simulator, hold=True)
                first = asyncio.create_task(generate(client, headers, box))
                for _ in range(500):
                    if await held_balance_reads(kie_simulator) >= 1:
                        break
                    await asyncio.sleep(0.02)
                held_while_reading = pool.checkedout()
                await held_balance_reads(kie_simulator, hold=False)
                assert (await first).status_code == 202, (await first).text

                # A stale reading is served at once while one background task refreshes it.
                await held_balance_reads(kie_simulator, hold=True)
                second = await generate(client, headers, box)
                third = await generate(client, headers, box)
                refreshing = await held_balance_reads(kie_simulator)
                await held_balance_reads(kie_simulator, hold=False)
    finally:
        await held_balance_reads(kie_simulator, hold=False)
    assert held_while_reading == 0
    assert (second.status_code, third.status_code) == (202, 202), (second.text, third.text)
    assert refreshing == 1  # the two requests answered while one refresh waited for Kie.ai


async def test_a_user_whose_running_cap_is_0_is_told_paid_work_is_blocked(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    headers, user_id, box = await user_box(client, sessionmaker, running=0)

    refused = await generate(client, headers, box)

    assert refused.status_code == 429, refused.text
    assert refused.json()["detail"] == (
        "An administrator has blocked paid work on your account (it may run no generations at all); ask an "
        "administrator to lift the block."
    )
    assert refused.json()["details"]["max_running"] == 0
    assert await charges(sessionmaker, user_id) == []


async def test_generating_with_a_model_that_has_no_price_is_refused(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    headers, user_id, box = await user_box(client, sessionmaker)
    name = f"acme/unpriced-{uuid.uuid4().hex[:8]}"
    async with sessionmaker() as session:
        banana = (await session.exec(select(AIModel).where(AIModel.provider_model_id == FOX["model"]))).one()
        session.add(
            AIModel(
                provider_id=banana.provider_id,
                provider_model_id=name,
                display_name="Acme Unpriced",
                kind=banana.kind,
                capabilities=banana.capabilities,
                default_params=banana.default_params,
                price_credits=None,
            )
        )
        await session.commit()

    refused = await client.post(
        f"/api/boxes/{box['id']}/generate/", json={**FOX, "model": name, "count": 2}, headers=headers
    )

    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"] == (
        "Acme Unpriced has no price set, so what it would cost cannot be checked against your budget; ask an "
        "administrator to set one."
    )
    assert await box_assets(sessionmaker, box["id"]) == []
    assert await charges(sessionmaker, user_id) == []
