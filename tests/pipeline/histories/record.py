"""Record GenerateAssetWorkflow histories with the code of another tree, for the replay test.

    git worktree add /tmp/old7f 7fbda62
    cd /tmp/old7f && PYTHONPATH=/tmp/old7f <repo>/.venv/bin/python <repo>/tests/pipeline/histories/record.py \
        <repo>/tests/pipeline/histories 7fbda62

It uses that tree's own FakeWorld (tests/pipeline/test_workflow.py): a completed generation (one poll, then the
callback) and one cancelled while its result was being saved (after ingest).
"""

from __future__ import annotations

import asyncio
import os
import pathlib
import sys

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from core.contract import KieCallbackSignal
from tests.pipeline.test_workflow import TASK_ID, FakeWorld, start, worker


async def record(out: pathlib.Path, suffix: str) -> None:
    server = os.path.join(os.path.dirname(sys.executable), "temporal-test-server")
    async with await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter, test_server_existing_path=server
    ) as env:
        world = FakeWorld(states=["generating", "success"])
        w, queue = worker(env, world)
        async with w:
            run = await start(env, queue)
            while not world.fetch_times:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
            await run.handle.signal("kie_callback", KieCallbackSignal(task_id=TASK_ID, state="success"))
            await run.handle.result()
            history = await run.handle.fetch_history()
        (out / f"completed_{suffix}.json").write_text(history.to_json())
        world = FakeWorld(states=["success"], complete_hangs=True)
        w, queue = worker(env, world)
        async with w:
            run = await start(env, queue)
            while not world.completing:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
            await run.handle.cancel()
            try:
                await run.handle.result()
            except Exception as error:  # the cancellation, expected
                print("cancelled:", type(error).__name__)
            history = await run.handle.fetch_history()
        (out / f"cancelled_after_ingest_{suffix}.json").write_text(history.to_json())


if __name__ == "__main__":
    asyncio.run(record(pathlib.Path(sys.argv[1]), sys.argv[2]))
