"""Every way Kie.ai can misbehave ends in a final state with an error message a person understands."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.exceptions import ApplicationError

from activities.assets import AssetActivities
from activities.storage import StorageActivities
from core.contract import AssetStatus, DiscardFilesInput, FailAssetInput, IngestInput, RecordTaskInput
from core.kie import KieClient
from core.models import Asset
from core.schemas import MAX_DB_ID
from core.settings import Settings
from core.storage import Storage, asset_file_key, asset_thumbnail_key
from tests.builders import lift_spend_limits, make_asset, make_box, make_project, png_bytes, register
from tests.pipeline.fixtures import SimulatorProcess, wait_for_asset
from worker.deps import WorkerDeps

# (marker, final status, words the error message must contain, Kie.ai tasks created for it)
CASES: list[tuple[str, str, tuple[str, ...], int]] = [
    (
        "[sim:fail=The GPU caught fire]",
        "FAILED",
        ("Kie.ai could not generate it: The GPU caught fire", "Retry"),
        1,
    ),
    ("[sim:policy]", "FAILED", ("Kie.ai rejected the prompt", "content policy", "Rephrase"), 1),
    ("[sim:http=500]", "FAILED", ("Kie.ai is unavailable", "code 500", "retry later"), 0),
    ("[sim:http=503x2]", "COMPLETED", (), 1),
    ("[sim:429]", "FAILED", ("rate limiting", "code 429"), 0),
    ("[sim:code=402]", "FAILED", ("no credits", "Top up"), 0),
    ("[sim:code=401]", "FAILED", ("refused the API key", "KIE_API_KEY"), 0),
    ("[sim:code=455]", "FAILED", ("Kie.ai is unavailable", "maintenance"), 0),
    ("[sim:slow=5]", "FAILED", ("did not answer the createTask call within 3 s",), None),
    ("[sim:result404]", "FAILED", ("result file could not be downloaded", "404"), 1),
    ("[sim:nocallback]", "COMPLETED", (), 1),
]


async def generate(
    client: httpx.AsyncClient, headers: dict[str, str], box_id: int, prompt: str, **extra: Any
) -> int:
    response = await client.post(
        f"/api/boxes/{box_id}/generate/",
        json={"model": "google/nano-banana", "prompt": prompt, **extra},
        headers=headers,
    )
    assert response.status_code == 202, response.text
    return int(response.json()["asset_id"])


async def test_each_simulator_failure_mode_ends_in_the_right_state(
    pipeline_client: httpx.AsyncClient,
    pipeline_worker: WorkerDeps,
    kie_simulator: SimulatorProcess,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    headers = await register(pipeline_client)
    # 11 generations at once: more than the default running cap.
    await lift_spend_limits(pipeline_client, headers, sessionmaker)
    project = await make_project(pipeline_client, headers)
    box = await make_box(pipeline_client, headers, project["id"])
    run = f"r{id(headers)}"
    prompts = [f"a harbour at night {run} {marker}" for marker, *_ in CASES]
    ids = await asyncio.gather(*(generate(pipeline_client, headers, box["id"], p) for p in prompts))
    finals = await asyncio.gather(*(wait_for_asset(pipeline_client, headers, i, timeout=90) for i in ids))
    for (marker, status, words, tasks), prompt, asset in zip(CASES, prompts, finals, strict=True):
        assert asset["status"] == status, (marker, asset)
        assert asset["finished_at"] is not None, (marker, asset)
        if status == "FAILED":
            message = asset["error_message"]
            for word in words:
                assert word.lower() in message.lower(), (marker, message)
            assert "Traceback" not in message and 'File "' not in message
            assert asset["file_url"] is None
        else:
            assert asset["error_message"] is None and asset["file_url"]
        if tasks is not None:
            assert len(kie_simulator.tasks(prompt_contains=prompt)) == tasks, marker


async def test_a_task_that_never_finishes_fails_at_the_deadline(
    pipeline_client: httpx.AsyncClient,
    pipeline_worker: WorkerDeps,
    pipeline_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pipeline_settings, "generation_image_deadline_seconds", 3)
    headers = await register(pipeline_client)
    project = await make_project(pipeline_client, headers)
    box = await make_box(pipeline_client, headers, project["id"])
    asset_id = await generate(pipeline_client, headers, box["id"], "an endless staircase [sim:never]")
    asset = await wait_for_asset(pipeline_client, headers, asset_id)
    assert asset["status"] == "FAILED"
    assert asset["error_message"] == (
        "Kie.ai did not finish the image within 3 seconds (it was still 'generating'). Retry it later."
    )


async def test_a_kie_that_keeps_answering_garbage_to_polling_fails_at_the_deadline_with_its_answer(
    pipeline_client: httpx.AsyncClient,
    pipeline_worker: WorkerDeps,
    pipeline_settings: Settings,
    kie_simulator: SimulatorProcess,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Polling is free and the task is paid for: recordInfo errors are retried until the deadline (not 3 times)."""
    monkeypatch.setattr(pipeline_settings, "generation_image_deadline_seconds", 4)
    headers = await register(pipeline_client)
    project = await make_project(pipeline_client, headers)
    box = await make_box(pipeline_client, headers, project["id"])
    prompt = f"a harbour at night {id(headers)} [sim:malformed]"
    asset_id = await generate(pipeline_client, headers, box["id"], prompt)
    asset = await wait_for_asset(pipeline_client, headers, asset_id, timeout=90)
    assert asset["status"] == "FAILED"
    assert asset["error_message"].startswith("Kie.ai could not tell us how the image went within 4 seconds")
    assert "not JSON" in asset["error_message"] and "Retry it later." in asset["error_message"]
    assert len(kie_simulator.tasks(prompt_contains=prompt)) == 1


async def test_retry_reruns_a_failed_asset_with_the_same_recipe(
    pipeline_client: httpx.AsyncClient, pipeline_worker: WorkerDeps, kie_simulator: SimulatorProcess
) -> None:
    headers = await register(pipeline_client)
    project = await make_project(pipeline_client, headers)
    box = await make_box(pipeline_client, headers, project["id"])
    prompt = f"a cable car in fog {id(headers)} [sim:http=500x3]"
    asset_id = await generate(pipeline_client, headers, box["id"], prompt, params={"aspect_ratio": "4:3"})
    failed = await wait_for_asset(pipeline_client, headers, asset_id)
    assert failed["status"] == "FAILED"

    # Two clicks at once: one retry runs, the other is told so.
    responses = await asyncio.gather(
        *(pipeline_client.post(f"/api/assets/{asset_id}/retry/", headers=headers) for _ in range(2))
    )
    assert sorted(r.status_code for r in responses) == [202, 409], [r.text for r in responses]
    (response,) = [r for r in responses if r.status_code == 202]
    assert response.json()["asset_id"] == asset_id
    done = await wait_for_asset(pipeline_client, headers, asset_id)
    assert done["status"] == "COMPLETED" and done["error_message"] is None
    assert done["params"]["aspect_ratio"] == "4:3" and (done["width"], done["height"]) == (512, 384)
    assert len(kie_simulator.tasks(prompt_contains=prompt)) == 1

    again = await pipeline_client.post(f"/api/assets/{asset_id}/retry/", headers=headers)
    assert again.status_code == 409


async def test_deleting_a_running_asset_cancels_its_workflow(
    pipeline_client: httpx.AsyncClient, pipeline_worker: WorkerDeps, storage: Storage
) -> None:
    headers = await register(pipeline_client)
    project = await make_project(pipeline_client, headers)
    box = await make_box(pipeline_client, headers, project["id"])
    asset_id = await generate(pipeline_client, headers, box["id"], "a clock with no hands [sim:never]")
    await wait_for_asset(pipeline_client, headers, asset_id, statuses=("RUNNING",))

    response = await pipeline_client.delete(f"/api/assets/{asset_id}/", headers=headers)
    assert response.status_code == 204
    handle = pipeline_worker.temporal.get_workflow_handle(f"asset-{asset_id}")
    async with asyncio.timeout(20):
        while (await handle.describe()).status.name == "RUNNING":  # noqa: ASYNC110
            await asyncio.sleep(0.1)
    assert (await handle.describe()).status.name == "CANCELED"
    assert (await pipeline_client.get(f"/api/assets/{asset_id}/", headers=headers)).status_code == 404


@pytest.mark.parametrize("scope", ["box", "project"])
async def test_deleting_a_box_or_project_cancels_the_generations_running_in_it(
    pipeline_client: httpx.AsyncClient,
    pipeline_worker: WorkerDeps,
    sessionmaker: async_sessionmaker[AsyncSession],
    scope: str,
) -> None:
    headers = await register(pipeline_client)
    project = await make_project(pipeline_client, headers)
    box = await make_box(pipeline_client, headers, project["id"])
    response = await pipeline_client.post(
        f"/api/boxes/{box['id']}/generate/",
        json={
            "model": "google/nano-banana",
            "prompt": f"a door that never opens {scope} [sim:never]",
            "count": 2,
        },
        headers=headers,
    )
    assert response.status_code == 202, response.text
    asset_ids = response.json()["asset_ids"]
    for asset_id in asset_ids:
        await wait_for_asset(pipeline_client, headers, asset_id, statuses=("RUNNING",))
        # Wait until the Kie.ai task is recorded: from then on only the cancel can stop the workflow (a delete that
        # lands earlier is noticed by record_kie_task itself, which ends the workflow as COMPLETED, not CANCELED).
        async with asyncio.timeout(20):
            while True:
                async with sessionmaker() as session:
                    asset = await session.get(Asset, asset_id)
                    if asset is not None and asset.provider_task_id:
                        break
                await asyncio.sleep(0.05)

    target = f"/api/boxes/{box['id']}/" if scope == "box" else f"/api/projects/{project['id']}/"
    assert (await pipeline_client.delete(target, headers=headers)).status_code == 204

    for asset_id in asset_ids:
        async with sessionmaker() as session:
            assert await session.get(Asset, asset_id) is None  # the rows go at once
        handle = pipeline_worker.temporal.get_workflow_handle(f"asset-{asset_id}")
        async with asyncio.timeout(20):
            while (await handle.describe()).status.name == "RUNNING":  # noqa: ASYNC110
                await asyncio.sleep(0.1)
        assert (await handle.describe()).status.name == "CANCELED"  # no more polling, no more credits


async def test_a_workflow_step_on_a_deleted_asset_stops_the_workflow(
    sessionmaker: async_sessionmaker[AsyncSession], storage: Storage, settings: Settings
) -> None:
    activities = AssetActivities(sessionmaker, storage, settings)
    with pytest.raises(ApplicationError) as raised:
        await activities.record_kie_task(RecordTaskInput(asset_id=MAX_DB_ID, task_id="0" * 32))
    assert raised.value.type == "AssetGone" and raised.value.non_retryable


async def test_a_result_for_a_deleted_asset_is_not_kept_in_s3(
    sessionmaker: async_sessionmaker[AsyncSession],
    storage: Storage,
    pipeline_settings: Settings,
) -> None:
    """Ingest and the cancellation clean-up never leave objects of an asset that no longer exists."""
    source = f"tests/results/{uuid.uuid4().hex}.png"
    storage.put_bytes(source, png_bytes(), "image/png")
    gone = MAX_DB_ID - 1
    kie = KieClient.from_settings(pipeline_settings)
    ingest = StorageActivities(storage, kie, pipeline_settings, sessionmaker)
    with pytest.raises(ApplicationError) as raised:
        await ingest.ingest_result(
            IngestInput(asset_id=gone, kind="image", result_url=storage.presigned_get_url(source))
        )
    await kie.aclose()
    assert raised.value.type == "AssetGone"
    assert not storage.exists(asset_file_key(gone, "png")) and not storage.exists(asset_thumbnail_key(gone))

    keys = [asset_file_key(gone, "png"), asset_thumbnail_key(gone)]
    for key in keys:
        storage.put_bytes(key, png_bytes(), "image/png")
    discarded = await AssetActivities(sessionmaker, storage, pipeline_settings).discard_ingested_files(
        DiscardFilesInput(asset_id=gone, keys=keys)
    )
    assert discarded and not any(storage.exists(key) for key in keys)


async def test_a_provider_message_postgres_cannot_hold_still_fails_the_asset(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    storage: Storage,
    settings: Settings,
) -> None:
    """Kie.ai's failMsg is free text: a NUL or a lone surrogate in it must not keep the asset RUNNING for good."""
    headers = await register(client)
    project = await make_project(client, headers)
    box = await make_box(client, headers, project["id"])
    asset = await make_asset(sessionmaker, box["id"], status=AssetStatus.RUNNING)
    activities = AssetActivities(sessionmaker, storage, settings)

    failed = await activities.fail_asset(
        FailAssetInput(asset_id=asset.id, error_message="Kie.ai failed the task: bad\x00input \ud800here")
    )

    assert failed
    async with sessionmaker() as session:
        stored = await session.get(Asset, asset.id)
    assert stored is not None and stored.status is AssetStatus.FAILED
    assert stored.error_message == "Kie.ai failed the task: badinput \ufffdhere"
