"""A studio's daily budget, set by its owner, on top of each member's own: the studio's charges today (whoever
made them) plus the request must fit in it, or the request is refused with a sentence naming the studio."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from core import spend
from core.models import ChargeKind, User, utcnow
from tests.api.test_spend_limits import FOX, Clock, clock, generate, set_limits  # noqa: F401 (clock: a fixture)
from tests.api.test_studios import add_member, done_or_waiting_on_a_lock, make_studio, me
from tests.builders import make_box, make_project, register

Headers = dict[str, str]


async def set_budget(
    client: httpx.AsyncClient, owner: Headers, studio_id: int, budget: float | None
) -> httpx.Response:
    return await client.patch(
        f"/api/studios/{studio_id}/", json={"daily_credit_budget": budget}, headers=owner
    )


async def spend_up_to(client: httpx.AsyncClient, headers: Headers, box: dict, credits: int) -> None:
    """Generate 4-credit variants, up to 4 a request, for `credits` credits."""
    variants = credits // 4
    while variants:
        count = min(4, variants)
        answer = await generate(client, headers, box, count=count)
        assert answer.status_code == 202, answer.text
        variants -= count


async def test_the_studio_budget_is_shared_by_its_members_and_its_owner_raises_it(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,  # noqa: F811
) -> None:
    owner = await register(client)
    studio = await make_studio(client, owner, "Northlight")
    sid = studio["id"]
    ana, ana_id = await add_member(client, owner, sid, "editor")
    ben, ben_id = await add_member(client, owner, sid, "editor")
    for user_id in (ana_id, ben_id):  # each has far more budget of their own than the studio
        await set_limits(sessionmaker, user_id, budget=1000, running=100)
    box = await make_box(client, ana, (await make_project(client, ana, studio_id=sid))["id"])

    budgeted = await set_budget(client, owner, sid, 100)
    assert budgeted.status_code == 200 and budgeted.json()["daily_credit_budget"] == 100
    await spend_up_to(client, ana, box, 100)
    assert (await client.get(f"/api/studios/{sid}/", headers=ben)).json()["spent_today"] == 100

    refused = await generate(client, ben, box, count=2)

    assert refused.status_code == 429, refused.text
    body = refused.json()
    assert body["detail"] == (
        "Northlight's daily budget is 100 credits: 100 spent today by its members, 0 left; this request needs 8 "
        "(2 × 4). It resets at 00:00 UTC, in 5 h 12 min; an owner of the studio can raise it."  # noqa: RUF001
    )
    assert body["details"] | {"studio_id": None} == {
        "limit": "studio_daily_budget",
        "studio_id": None,
        "studio_name": "Northlight",
        "daily_budget": 100.0,
        "spent": 100.0,
        "remaining": 0.0,
        "needed": 8.0,
        "resets_at": "2026-11-28T00:00:00+00:00",
        "retry_after": 5 * 3600 + 12 * 60,
    }
    assert body["details"]["studio_id"] == sid
    # Ben's own budget still has room: it is the studio's that refused.
    assert (await client.get("/api/auth/me/usage/", headers=ben)).json()["remaining"] == 1000

    # Another studio of Ben's is not affected.
    own_box = await make_box(client, ben, (await make_project(client, ben))["id"])
    assert (await generate(client, ben, own_box, count=2)).status_code == 202

    # A smart edit on one of the studio's shots counts too; without a shot it is nobody's studio's.
    smart = await client.post(
        "/api/smart-edit/",
        json={"prompt": "a fox", "instruction": "at night", "box_id": box["id"]},
        headers=ben,
    )
    assert smart.status_code == 429 and smart.json()["details"]["limit"] == "studio_daily_budget"

    # Only the owner sets it; raised, Ben's request passes.
    assert (await set_budget(client, ben, sid, 1000)).status_code == 403
    assert (await set_budget(client, owner, sid, 104)).status_code == 200
    assert (await generate(client, ben, box, count=1)).status_code == 202
    assert (await generate(client, ben, box, count=1)).status_code == 429  # 104 spent now
    assert (await client.get(f"/api/studios/{sid}/", headers=owner)).json()["spent_today"] == 104

    # Removing the budget (null) lifts the studio's limit; the members' own stay.
    lifted = await set_budget(client, owner, sid, None)
    assert lifted.status_code == 200 and lifted.json()["daily_credit_budget"] is None
    assert (await generate(client, ben, box, count=1)).status_code == 202


async def test_renaming_keeps_the_budget_and_the_budget_is_per_day(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,  # noqa: F811
) -> None:
    owner = await register(client)
    await set_limits(sessionmaker, (await me(client, owner))["id"], budget=1000, running=100)
    studio = await make_studio(client, owner)
    sid = studio["id"]
    box = await make_box(client, owner, (await make_project(client, owner, studio_id=sid))["id"])
    await set_budget(client, owner, sid, 8)
    renamed = await client.patch(f"/api/studios/{sid}/", json={"name": "Renamed"}, headers=owner)
    assert renamed.json()["daily_credit_budget"] == 8
    await spend_up_to(client, owner, box, 8)
    assert (await generate(client, owner, box)).status_code == 429

    clock.now = clock.now.replace(day=clock.now.day + 1, hour=0, minute=5)
    assert (await client.get(f"/api/studios/{sid}/", headers=owner)).json()["spent_today"] == 0
    assert (await generate(client, owner, box)).status_code == 202


ONE_IMAGE = spend.Estimate(kind=ChargeKind.GENERATE, per_asset=4, count=1, breakdown="4 credits")


async def test_an_owner_invites_while_a_generation_of_theirs_is_being_checked(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """The budget check locks the user's row, then the studio's; creating an invite locks the studio, then points
    at the user's row. Neither blocks the other's foreign-key check, so the two cannot deadlock."""
    owner = await register(client)
    sid = (await make_studio(client, owner, "Northlight"))["id"]
    project = await make_project(client, owner, studio_id=sid)
    assert (await set_budget(client, owner, sid, 100)).status_code == 200

    async with sessionmaker() as generating:
        user = await generating.get(User, (await me(client, owner))["id"])
        assert user is not None
        await spend.check_limits(generating, user, ONE_IMAGE, utcnow())  # the user's row is locked
        inviting = asyncio.create_task(
            client.post(f"/api/studios/{sid}/invites/", json={"role": "viewer"}, headers=owner)
        )
        assert await done_or_waiting_on_a_lock(sessionmaker, inviting)
        budget = await spend.studio_budget(generating, project["id"])  # then the studio's
        await generating.commit()

    assert (await inviting).status_code == 201
    assert (budget.studio_id, budget.daily_budget) == (sid, 100)


async def test_a_project_is_created_in_a_studio_while_a_budgeted_generation_holds_its_lock(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    owner = await register(client)
    sid = (await make_studio(client, owner, "Northlight"))["id"]
    project = await make_project(client, owner, studio_id=sid)
    assert (await set_budget(client, owner, sid, 100)).status_code == 200

    async with sessionmaker() as generating:
        await spend.studio_budget(generating, project["id"])  # held until the workflow has started
        creating = asyncio.create_task(
            client.post("/api/projects/", json={"name": "B", "studio_id": sid}, headers=owner)
        )
        finished = await done_or_waiting_on_a_lock(sessionmaker, creating)
        await generating.commit()

    assert finished
    assert (await creating).status_code == 201
