"""The nightly retention run as the product sees it: expired, unselected assets lose their files and rows;
everything a user kept (or still needs) survives, even if the run crashes half-way and is run again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from temporalio import activity
from temporalio.client import WorkflowFailureError
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError
from temporalio.worker import Replayer, Worker

from core import retention
from core.contract import AssetKind, AssetStatus, PurgePageInput, PurgePageResult, RetentionInput
from core.db import session_scope
from tests.builders import make_asset, make_box, make_project, register
from tests.retention.conftest import retention_activities
from tests.retention.helpers import (
    DAY,
    assert_kept,
    assert_purged,
    objects_exist,
    pending_keys,
    retention_days,
    row_exists,
    run_retention,
)
from workflows.retention import RetentionWorkflow

VIDEO_MODEL = "bytedance/seedance-1.5-pro"


@pytest.fixture
def now() -> datetime:
    # The injected clock: "now" for the run; assets are placed relative to it.
    return datetime.now(UTC)


async def test_purges_expired_unselected_assets_and_keeps_every_protected_one(
    client, sessionmaker, storage, temporal_client, retention_queue, now
):
    days = await retention_days(sessionmaker)
    old = now - (days + 1) * DAY
    headers = await register(client)
    project = await make_project(client, headers)
    box = await make_box(client, headers, project["id"])
    other_box = await make_box(client, headers, project["id"])

    async def asset(**overrides):
        return await make_asset(
            sessionmaker, overrides.pop("box_id", box["id"]), storage=storage, **overrides
        )

    expired = await asset(created_at=old)
    just_expired = await asset(created_at=now - days * DAY - timedelta(minutes=1))
    not_yet_expired = await asset(created_at=now - days * DAY + timedelta(minutes=1))
    failed_expired = await asset(created_at=old, status=AssetStatus.FAILED, error_message="Kie.ai said no")
    favourite = await asset(created_at=old, is_favorite=True)
    headliner = await asset(created_at=old)
    response = await client.patch(
        f"/api/boxes/{box['id']}/", json={"headliner_id": headliner.id}, headers=headers
    )
    assert response.status_code == 200, response.text
    running = await asset(created_at=old, status=AssetStatus.RUNNING)
    pending = await asset(created_at=old, status=AssetStatus.PENDING)

    # A video's source image stays while the video is protected, and goes with it otherwise.
    source_of_favourite_video = await asset(created_at=old)
    favourite_video = await asset(
        created_at=old,
        kind=AssetKind.VIDEO,
        model=VIDEO_MODEL,
        is_favorite=True,
        source_asset_id=source_of_favourite_video.id,
    )
    source_of_headliner_video = await asset(created_at=old, box_id=other_box["id"])
    headliner_video = await asset(
        created_at=old,
        box_id=other_box["id"],
        kind=AssetKind.VIDEO,
        model=VIDEO_MODEL,
        source_asset_id=source_of_headliner_video.id,
    )
    response = await client.patch(
        f"/api/boxes/{other_box['id']}/", json={"headliner_id": headliner_video.id}, headers=headers
    )
    assert response.status_code == 200, response.text
    source_of_running_video = await asset(created_at=old)
    running_video = await asset(
        created_at=now,
        kind=AssetKind.VIDEO,
        model=VIDEO_MODEL,
        status=AssetStatus.RUNNING,
        source_asset_id=source_of_running_video.id,
    )
    source_of_plain_video = await asset(created_at=old)
    plain_video = await asset(
        created_at=old, kind=AssetKind.VIDEO, model=VIDEO_MODEL, source_asset_id=source_of_plain_video.id
    )
    # The input image of an edit that is still generating.
    input_of_running_edit = await asset(created_at=old)
    running_edit = await asset(
        created_at=now,
        status=AssetStatus.PENDING,
        model="google/nano-banana-edit",
        input_asset_ids=[input_of_running_edit.id],
    )

    result = await run_retention(temporal_client, retention_queue, now)

    for gone in (expired, just_expired, failed_expired, source_of_plain_video, plain_video):
        await assert_purged(sessionmaker, storage, gone)
    for kept in (
        not_yet_expired,
        favourite,
        headliner,
        running,
        pending,
        source_of_favourite_video,
        favourite_video,
        source_of_headliner_video,
        headliner_video,
        source_of_running_video,
        running_video,
        input_of_running_edit,
        running_edit,
    ):
        await assert_kept(sessionmaker, storage, kept)
    assert result.totals.assets_deleted >= 5
    assert result.retention_days == days
    assert result.cutoff == now - days * DAY
    assert await pending_keys(sessionmaker, [expired.id, plain_video.id]) == []

    # A second run finds nothing more of ours to delete and keeps the protected ones.
    await run_retention(temporal_client, retention_queue, now)
    for kept in (not_yet_expired, favourite, headliner, source_of_favourite_video, source_of_headliner_video):
        await assert_kept(sessionmaker, storage, kept)


async def test_the_injected_clock_decides_what_has_expired(
    client, sessionmaker, storage, temporal_client, retention_queue, now
):
    days = await retention_days(sessionmaker)
    headers = await register(client)
    project = await make_project(client, headers)
    box = await make_box(client, headers, project["id"])
    young = await make_asset(sessionmaker, box["id"], storage=storage, created_at=now - 2 * DAY)

    await run_retention(temporal_client, retention_queue, now)
    await assert_kept(sessionmaker, storage, young)

    await run_retention(temporal_client, retention_queue, now + days * DAY)
    await assert_purged(sessionmaker, storage, young)


async def test_a_run_that_crashes_after_its_first_page_is_finished_by_the_next_run(
    client, sessionmaker, storage, temporal_client, now
):
    days = await retention_days(sessionmaker)
    headers = await register(client)
    project = await make_project(client, headers)
    box = await make_box(client, headers, project["id"])
    doomed = [
        await make_asset(sessionmaker, box["id"], storage=storage, created_at=now - (days + 3) * DAY)
        for _ in range(5)
    ]
    favourite = await make_asset(
        sessionmaker, box["id"], storage=storage, created_at=now - (days + 3) * DAY, is_favorite=True
    )
    calls: list[PurgePageInput] = []

    @activity.defn(name="purge_retention_page")
    async def purge_then_crash(payload: PurgePageInput) -> PurgePageResult:
        calls.append(payload)
        if len(calls) > 1:
            raise ApplicationError("the worker died", non_retryable=True)
        return await retention.purge_page_rows(
            sessionmaker,
            cutoff=payload.cutoff,
            now=payload.now,
            after_id=payload.after_id,
            limit=payload.limit,
        )

    plan, drain, _, delete_objects = retention_activities(sessionmaker, storage)
    queue = f"retention-crash-{box['id']}"
    async with Worker(
        temporal_client,
        task_queue=queue,
        workflows=[RetentionWorkflow],
        activities=[plan, drain, purge_then_crash, delete_objects],
    ):
        with pytest.raises(WorkflowFailureError):
            await run_retention(temporal_client, queue, now, page_size=2)
    assert len(calls) == 2

    # Half done: whatever still has a row still has its objects; a purged row's objects are gone or queued.
    remaining = [a for a in doomed if await row_exists(sessionmaker, a.id)]
    assert len(remaining) >= 3
    for asset in doomed:
        if asset in remaining:
            assert objects_exist(storage, asset) == [True, True]
        elif any(objects_exist(storage, asset)):
            assert len(await pending_keys(sessionmaker, [asset.id])) == 2
    await assert_kept(sessionmaker, storage, favourite)

    async with Worker(
        temporal_client,
        task_queue=queue + "-again",
        workflows=[RetentionWorkflow],
        activities=retention_activities(sessionmaker, storage),
    ):
        await run_retention(temporal_client, queue + "-again", now, page_size=2)
    for asset in doomed:
        await assert_purged(sessionmaker, storage, asset)
    await assert_kept(sessionmaker, storage, favourite)


async def test_a_crash_between_deleting_rows_and_objects_leaves_queued_keys_that_the_next_run_deletes(
    client, sessionmaker, storage, temporal_client, retention_queue, now
):
    days = await retention_days(sessionmaker)
    headers = await register(client)
    project = await make_project(client, headers)
    box = await make_box(client, headers, project["id"])
    doomed = [
        await make_asset(sessionmaker, box["id"], storage=storage, created_at=now - (days + 1) * DAY)
        for _ in range(3)
    ]
    ids = [a.id for a in doomed]

    # The first half of a page, committed, then the process dies before it reaches S3.
    async with session_scope(sessionmaker) as session:
        deleted = await retention.delete_purgeable_rows(
            await session.connection(), cutoff=now - days * DAY, now=now, after_id=min(ids) - 1, limit=3
        )
    assert set(ids) <= set(deleted.asset_ids)
    for asset in doomed:
        assert not await row_exists(sessionmaker, asset.id)  # nothing visible points at the objects...
        assert objects_exist(storage, asset) == [True, True]  # ...which are still there, queued
    assert len(await pending_keys(sessionmaker, ids)) == 6

    result = await run_retention(temporal_client, retention_queue, now)

    assert result.totals.leftover_objects_deleted >= 6
    for asset in doomed:
        await assert_purged(sessionmaker, storage, asset)
    assert await pending_keys(sessionmaker, ids) == []


async def test_protection_added_while_the_run_holds_the_page_is_respected(client, sessionmaker, storage, now):
    """A favourite set after the candidates were read but before they are deleted keeps the asset."""
    days = await retention_days(sessionmaker)
    headers = await register(client)
    project = await make_project(client, headers)
    box = await make_box(client, headers, project["id"])
    asset = await make_asset(sessionmaker, box["id"], storage=storage, created_at=now - (days + 1) * DAY)

    response = await client.patch(f"/api/assets/{asset.id}/", json={"is_favorite": True}, headers=headers)
    assert response.status_code == 200, response.text
    async with session_scope(sessionmaker) as session:
        # The delete statement re-checks every rule itself, whatever ids it is handed.
        connection = await session.connection()
        rows = await connection.execute(
            retention._DELETE_PAGE, {"ids": [asset.id], "cutoff": now - days * DAY, "now": now}
        )
        assert rows.all() == []
    await assert_kept(sessionmaker, storage, asset)


async def test_a_long_run_continues_as_new_and_replays_deterministically(
    client, sessionmaker, storage, temporal_client, retention_queue, now
):
    days = await retention_days(sessionmaker)
    headers = await register(client)
    project = await make_project(client, headers)
    box = await make_box(client, headers, project["id"])
    doomed = [
        await make_asset(sessionmaker, box["id"], storage=storage, created_at=now - (days + 2) * DAY)
        for _ in range(5)
    ]
    handle = await temporal_client.start_workflow(
        RetentionWorkflow.run,
        RetentionInput(now=now, page_size=1, pages_per_run=2),
        id=f"retention-can-{box['id']}",
        task_queue=retention_queue,
    )

    result = await handle.result()

    assert result.totals.pages >= 6  # five pages with one asset each, then the empty one, across three runs
    assert result.totals.assets_deleted >= 5
    assert result.totals.objects_deleted >= 10
    for asset in doomed:
        await assert_purged(sessionmaker, storage, asset)
    # Every run of the chain replays against the current workflow code (no non-determinism).
    replayer = Replayer(workflows=[RetentionWorkflow], data_converter=pydantic_data_converter)
    runs = 0
    async for history in temporal_client.list_workflows(f"WorkflowId = '{handle.id}'").map_histories():
        await replayer.replay_workflow(history)
        runs += 1
    assert runs >= 3
