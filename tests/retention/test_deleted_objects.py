"""A user's delete never waits for, or fails on, S3: the rows go at once, the objects after the commit, and what
S3 refused stays queued until the next reconciler or retention run deletes it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from core.contract import ReconcileInput, reconcile_workflow_id, task_queue
from devstack.services import free_port
from tests.builders import app_client, make_asset, make_box, make_project, register
from tests.retention.helpers import objects_exist, pending_keys, row_exists, run_retention
from workflows.reconcile import ReconcileAssetsWorkflow


async def test_a_delete_while_s3_is_unreachable_succeeds_and_the_next_run_deletes_the_objects(
    settings, sessionmaker, storage, temporal_client, retention_queue
):
    unreachable = settings.model_copy(update={"s3_endpoint_url": f"http://127.0.0.1:{free_port()}"})
    async with app_client(unreachable) as client:
        headers = await register(client)
        project = await make_project(client, headers)
        box = await make_box(client, headers, project["id"])
        other = await make_box(client, headers, project["id"])
        in_box = [await make_asset(sessionmaker, box["id"], storage=storage) for _ in range(2)]
        alone = await make_asset(sessionmaker, other["id"], storage=storage)
        in_project = await make_asset(sessionmaker, other["id"], storage=storage)

        assert (await client.delete(f"/api/boxes/{box['id']}/", headers=headers)).status_code == 204
        assert (await client.delete(f"/api/assets/{alone.id}/", headers=headers)).status_code == 204
        deleted = await client.delete(f"/api/projects/{project['id']}/", headers=headers)
        assert deleted.status_code == 204

    doomed = [*in_box, alone, in_project]
    for asset in doomed:
        assert not await row_exists(sessionmaker, asset.id)  # the rows went at once...
        # ...the objects could not go, and wait in the queue
        assert objects_exist(storage, asset) == [True, True]
    assert len(await pending_keys(sessionmaker, [a.id for a in doomed])) == 2 * len(doomed)

    result = await run_retention(temporal_client, retention_queue, datetime.now(UTC))

    assert result.totals.leftover_objects_deleted >= 2 * len(doomed)
    for asset in doomed:
        assert objects_exist(storage, asset) == [False, False]
    assert await pending_keys(sessionmaker, [a.id for a in doomed]) == []


async def test_objects_s3_refused_at_delete_time_are_deleted_by_the_next_reconciler_run(
    settings, sessionmaker, storage, app_worker
):
    """Minutes, not a night: the reconciler's schedule (every RECONCILE_INTERVAL_SECONDS) drains the queue too."""
    unreachable = settings.model_copy(update={"s3_endpoint_url": f"http://127.0.0.1:{free_port()}"})
    async with app_client(unreachable) as client:
        headers = await register(client)
        project = await make_project(client, headers)
        box = await make_box(client, headers, project["id"])
        doomed = [await make_asset(sessionmaker, box["id"], storage=storage) for _ in range(2)]
        assert (await client.delete(f"/api/boxes/{box['id']}/", headers=headers)).status_code == 204
    for asset in doomed:
        assert objects_exist(storage, asset) == [True, True]

    result = await app_worker.temporal.execute_workflow(
        ReconcileAssetsWorkflow.run,
        ReconcileInput(now=datetime.now(UTC)),
        id=reconcile_workflow_id(uuid.uuid4().hex[:8]),
        task_queue=task_queue(settings),
    )

    assert result.leftover_objects_deleted >= 2 * len(doomed)
    for asset in doomed:
        assert objects_exist(storage, asset) == [False, False]
    assert await pending_keys(sessionmaker, [a.id for a in doomed]) == []
