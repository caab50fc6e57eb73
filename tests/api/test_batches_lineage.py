"""What the shot view groups and explains: batches (one generate request), when each asset finished, how long a
model usually takes, and an asset's lineage (its source image, an edit's inputs, what was made from it)."""

from __future__ import annotations

import contextlib
import uuid
from datetime import UTC, datetime, timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.service import RPCError

from core.catalogue import DURATION_SAMPLES
from core.contract import AssetKind, AssetStatus, asset_workflow_id
from core.models import AIModel
from core.settings import Settings
from core.storage import Storage
from core.temporal import connect_temporal
from tests.api.test_query_counts import count_statements
from tests.builders import app_client, make_asset, make_box, make_project, png_bytes, register


async def test_a_generate_request_is_one_batch_and_animate_retry_and_upload_each_their_own(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], storage: Storage
) -> None:
    # A task queue no worker polls: the started workflows wait and their assets stay PENDING.
    queue = f"batches-{uuid.uuid4().hex[:8]}"
    started: list[int] = []
    async with app_client(settings.model_copy(update={"temporal_task_queue": queue})) as client:
        headers = await register(client)
        project = await make_project(client, headers)
        box = await make_box(client, headers, project["id"])
        try:
            generated = []
            for prompt in ("two foxes", "two owls"):
                response = await client.post(
                    f"/api/boxes/{box['id']}/generate/",
                    json={"model": "google/nano-banana", "prompt": prompt, "count": 2},
                    headers=headers,
                )
                assert response.status_code == 202, response.text
                generated.append(response.json()["asset_ids"])
                started += response.json()["asset_ids"]
            image = await make_asset(sessionmaker, box["id"], storage=storage)
            animated = await client.post(
                f"/api/assets/{image.id}/animate/", json={"prompt": "the fox runs"}, headers=headers
            )
            assert animated.status_code == 202, animated.text
            started.append(animated.json()["asset_id"])
            three_hours_ago = datetime.now(UTC) - timedelta(hours=3)
            failed = await make_asset(
                sessionmaker,
                box["id"],
                status=AssetStatus.FAILED,
                created_at=three_hours_ago,
                finished_at=three_hours_ago,
            )
            retry_sent = datetime.now(UTC)
            retried = await client.post(f"/api/assets/{failed.id}/retry/", headers=headers)
            assert retried.status_code == 202, retried.text
            started.append(failed.id)
            uploaded = await client.post(
                f"/api/boxes/{box['id']}/upload/", files={"file": ("a.png", png_bytes())}, headers=headers
            )
            assert uploaded.status_code == 201

            listed = (await client.get(f"/api/boxes/{box['id']}/assets/", headers=headers)).json()["items"]
            by_id = {asset["id"]: asset for asset in listed}
            first, second = ({by_id[i]["batch_id"] for i in ids} for ids in generated)
            assert len(first) == 1 and len(second) == 1 and first != second and None not in first | second
            own = [by_id[animated.json()["asset_id"]], by_id[failed.id], uploaded.json()]
            batches = [asset["batch_id"] for asset in own]
            assert None not in batches and len(set(batches) | first | second) == 5
            assert str(uuid.UUID(batches[0])) == batches[0]

            # A retry's clock restarts: its elapsed time, batch order and typical duration count from the retry.
            assert datetime.fromisoformat(by_id[failed.id]["created_at"]) >= retry_sent
            # Finished: only the upload; the retried asset is waiting again, so it has not finished.
            assert [by_id[i]["finished_at"] for i in started] == [None] * len(started)
            assert uploaded.json()["finished_at"] is not None
        finally:
            temporal = await connect_temporal(settings)
            for asset_id in started:
                with contextlib.suppress(RPCError):
                    await temporal.get_workflow_handle(asset_workflow_id(asset_id)).terminate("test over")


async def test_lineage_shows_the_source_the_inputs_and_what_was_made_from_an_asset(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], storage: Storage
) -> None:
    headers = await register(client)
    project = await make_project(client, headers)
    box = await make_box(client, headers, project["id"])
    other_box = await make_box(client, headers, project["id"])
    image = await make_asset(sessionmaker, box["id"], storage=storage)
    reference = await make_asset(sessionmaker, other_box["id"], storage=storage)
    edit = await make_asset(
        sessionmaker,
        box["id"],
        storage=storage,
        model="google/nano-banana-edit",
        input_asset_ids=[reference.id, image.id],
    )
    video = await make_asset(
        sessionmaker,
        box["id"],
        kind=AssetKind.VIDEO,
        model="bytedance/seedance-1.5-pro",
        params={},
        source_asset_id=image.id,
    )
    unrelated = await make_asset(sessionmaker, box["id"], storage=storage)

    async def lineage(asset_id: int) -> dict:
        response = await client.get(f"/api/assets/{asset_id}/lineage/", headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        return {
            "source": body["source"]["id"] if body["source"] else None,
            "inputs": [a["id"] for a in body["inputs"]],
            "derived": [a["id"] for a in body["derived"]],
        }

    assert await lineage(image.id) == {"source": None, "inputs": [], "derived": [edit.id, video.id]}
    assert await lineage(edit.id) == {"source": None, "inputs": [reference.id, image.id], "derived": []}
    assert await lineage(video.id) == {"source": image.id, "inputs": [], "derived": []}
    assert await lineage(reference.id) == {"source": None, "inputs": [], "derived": [edit.id]}
    assert await lineage(unrelated.id) == {"source": None, "inputs": [], "derived": []}

    # The same representation (and presigned URLs) as the asset listing.
    full = (await client.get(f"/api/assets/{video.id}/lineage/", headers=headers)).json()
    assert full["source"] == (await client.get(f"/api/assets/{image.id}/", headers=headers)).json() | {
        "file_url": full["source"]["file_url"],
        "thumbnail_url": full["source"]["thumbnail_url"],
    }
    async with httpx.AsyncClient() as plain:
        assert (await plain.get(full["source"]["file_url"])).status_code == 200

    stranger = await register(client)
    assert (await client.get(f"/api/assets/{image.id}/lineage/", headers=stranger)).status_code == 404


async def test_lineage_never_shows_another_users_assets(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], storage: Storage
) -> None:
    """Rows that name someone else's asset (they cannot be made through the API) stay out of the answer."""
    owner, stranger = await register(client), await register(client)
    box = await make_box(client, owner, (await make_project(client, owner))["id"])
    foreign_box = await make_box(client, stranger, (await make_project(client, stranger))["id"])
    image = await make_asset(sessionmaker, box["id"], storage=storage)
    await make_asset(sessionmaker, foreign_box["id"], input_asset_ids=[image.id])
    foreign = await make_asset(sessionmaker, foreign_box["id"], storage=storage)
    pointing = await make_asset(sessionmaker, box["id"], input_asset_ids=[foreign.id])

    mine = (await client.get(f"/api/assets/{image.id}/lineage/", headers=owner)).json()
    assert mine["derived"] == []
    theirs = (await client.get(f"/api/assets/{pointing.id}/lineage/", headers=owner)).json()
    assert theirs["inputs"] == []


async def new_model(sessionmaker: async_sessionmaker[AsyncSession]) -> AIModel:
    """An active image model of its own, so no other test's assets count in its durations."""
    async with sessionmaker() as session:
        template = (
            await session.exec(select(AIModel).where(AIModel.provider_model_id == "google/nano-banana"))
        ).one()
        model = AIModel(
            provider_id=template.provider_id,
            provider_model_id=f"test/durations-{uuid.uuid4().hex[:8]}",
            display_name="Durations test",
            kind=template.kind,
            capabilities=template.capabilities,
        )
        session.add(model)
        await session.commit()
        await session.refresh(model)
        return model


async def test_a_models_typical_seconds_is_the_median_of_its_last_20_completed_assets(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    headers = await register(client)
    box = await make_box(client, headers, (await make_project(client, headers))["id"])
    model = await new_model(sessionmaker)
    start = datetime(2026, 1, 1, tzinfo=UTC)

    async def finished(
        seconds: float, minutes_later: int, status: AssetStatus = AssetStatus.COMPLETED
    ) -> None:
        created = start + timedelta(minutes=minutes_later)
        await make_asset(
            sessionmaker,
            box["id"],
            model=model.provider_model_id,
            status=status,
            created_at=created,
            finished_at=created + timedelta(seconds=seconds),
        )

    async def typical() -> float | None:
        models = (await client.get("/api/models/", headers=headers)).json()
        (mine,) = [m for m in models if m["id"] == model.id]
        return mine["typical_seconds"]  # type: ignore[no-any-return]

    try:
        await finished(10, 0)
        await finished(30, 1)
        await finished(500, 2, AssetStatus.FAILED)  # failures do not count
        await make_asset(sessionmaker, box["id"], model=model.provider_model_id, status=AssetStatus.RUNNING)
        assert await typical() is None  # two samples are too few
        await finished(20, 3)
        assert await typical() == 20.0
        await finished(40, 4)
        assert await typical() == 25.0
        # Only the newest 20 count: 20 slow ones push the four quick ones out.
        for n in range(DURATION_SAMPLES):
            await finished(100 + n, 10 + n)
        assert await typical() == 109.5
    finally:
        async with sessionmaker() as session:
            stored = await session.get(AIModel, model.id)
            assert stored is not None
            stored.is_active = False  # out of the other tests' catalogue
            session.add(stored)
            await session.commit()


async def test_the_catalogue_reads_every_models_durations_in_one_statement(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    headers = await register(client)
    with count_statements(app.state.engine) as statements:
        response = await client.get("/api/models/", headers=headers)
    assert response.status_code == 200 and len(response.json()) >= 3
    assert sum("percentile_cont" in sql for sql in statements) == 1, statements
    # The caller, the models, their providers, the durations: not one more per model.
    assert len(statements) <= 4, statements
