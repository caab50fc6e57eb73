"""What a generation really cost lands in the spend ledger: Kie.ai's figure when it completes, 0 when it fails."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.models import CreditCharge
from tests.builders import make_box, make_project, register
from tests.pipeline.fixtures import SimulatorProcess, wait_for_asset
from worker.deps import WorkerDeps


async def charges_of(sessionmaker: async_sessionmaker[AsyncSession], asset_id: int) -> list[CreditCharge]:
    async with sessionmaker() as session:
        rows = await session.exec(
            select(CreditCharge).where(CreditCharge.asset_id == asset_id).order_by(col(CreditCharge.id))
        )
        return list(rows.all())


async def test_completed_and_failed_generations_record_their_actual_cost(
    pipeline_client: httpx.AsyncClient,
    pipeline_worker: WorkerDeps,
    sessionmaker: async_sessionmaker[AsyncSession],
    kie_simulator: SimulatorProcess,
) -> None:
    headers = await register(pipeline_client)
    project = await make_project(pipeline_client, headers)
    box = await make_box(pipeline_client, headers, project["id"])
    url = f"/api/boxes/{box['id']}/generate/"
    ok = await pipeline_client.post(
        url, json={"model": "google/nano-banana", "prompt": "a dune"}, headers=headers
    )
    bad = await pipeline_client.post(
        url, json={"model": "google/nano-banana", "prompt": "a dune [sim:fail=melted]"}, headers=headers
    )
    assert ok.status_code == bad.status_code == 202, (ok.text, bad.text)

    done = await wait_for_asset(pipeline_client, headers, ok.json()["asset_id"])
    failed = await wait_for_asset(pipeline_client, headers, bad.json()["asset_id"])

    assert done["status"] == "COMPLETED" and failed["status"] == "FAILED"
    assert (done["estimated_cost_credits"], done["cost_credits"]) == (4, 4)
    [charge] = await charges_of(sessionmaker, done["id"])
    assert (charge.estimated, charge.actual) == (4, 4)  # the simulator's creditsConsumed
    [charge] = await charges_of(sessionmaker, failed["id"])
    assert (charge.estimated, charge.actual) == (4, 0)  # Kie.ai refunds a failed task
    usage = (await pipeline_client.get("/api/auth/me/usage/", headers=headers)).json()
    assert (usage["spent_today"], usage["running"]) == (4, 0)

    # A retry is a new charge; the failed run's stays at 0.
    again = await pipeline_client.post(f"/api/assets/{failed['id']}/retry/", headers=headers)
    assert again.status_code == 202, again.text
    await wait_for_asset(pipeline_client, headers, failed["id"])
    assert [(c.kind.value, c.actual) for c in await charges_of(sessionmaker, failed["id"])] == [
        ("generate", 0),
        ("retry", 0),
    ]


async def test_a_failure_after_kie_charged_records_what_it_charged(
    pipeline_client: httpx.AsyncClient,
    pipeline_worker: WorkerDeps,
    sessionmaker: async_sessionmaker[AsyncSession],
    kie_simulator: SimulatorProcess,
) -> None:
    """Kie.ai generated the image (and charged), but its file could not be fetched: the asset fails, and both
    records of its actual cost (the asset's cost_credits and the ledger) say what Kie.ai charged."""
    headers = await register(pipeline_client)
    project = await make_project(pipeline_client, headers)
    box = await make_box(pipeline_client, headers, project["id"])
    url = f"/api/boxes/{box['id']}/generate/"
    lost = await pipeline_client.post(
        url, json={"model": "google/nano-banana", "prompt": "a dune [sim:result404]"}, headers=headers
    )
    refunded = await pipeline_client.post(
        url, json={"model": "google/nano-banana", "prompt": "a dune [sim:fail=melted]"}, headers=headers
    )
    assert lost.status_code == refunded.status_code == 202, (lost.text, refunded.text)

    lost_asset = await wait_for_asset(pipeline_client, headers, lost.json()["asset_id"])
    refunded_asset = await wait_for_asset(pipeline_client, headers, refunded.json()["asset_id"])

    assert lost_asset["status"] == refunded_asset["status"] == "FAILED"
    assert lost_asset["cost_credits"] == 4
    [charge] = await charges_of(sessionmaker, lost_asset["id"])
    assert (charge.estimated, charge.actual) == (4, 4)
    assert refunded_asset["cost_credits"] == 0
    [charge] = await charges_of(sessionmaker, refunded_asset["id"])
    assert (charge.estimated, charge.actual) == (4, 0)
    usage = (await pipeline_client.get("/api/auth/me/usage/", headers=headers)).json()
    assert usage["spent_today"] == 4
