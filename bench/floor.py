"""The floor for bench/pipeline.py: a bare workflow running N no-op activities one after another."""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow


@activity.defn(name="bench_noop")
async def bench_noop(index: int) -> int:
    return index


@workflow.defn(name="BenchFloorWorkflow")
class BenchFloorWorkflow:
    @workflow.run
    async def run(self, activities: int) -> int:
        for index in range(activities):
            await workflow.execute_activity(bench_noop, index, start_to_close_timeout=timedelta(seconds=30))
        return activities
