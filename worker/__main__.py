"""`python -m worker`: run the Temporal worker until SIGINT/SIGTERM, then finish running activities and stop."""

from __future__ import annotations

import asyncio
import logging
import signal
from datetime import timedelta

from temporalio.worker import Worker

from core.contract import task_queue
from core.kie import warn_if_callbacks_off
from core.settings import get_settings
from worker import registry
from worker.deps import open_worker_deps

logger = logging.getLogger("worker")


async def run_worker() -> None:
    settings = get_settings()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with open_worker_deps(settings) as deps:
        for hook in registry.startup_hooks():
            await hook(deps)
        worker = Worker(
            deps.temporal,
            task_queue=task_queue(settings),
            workflows=registry.workflows(),
            activities=registry.activities(deps),
            graceful_shutdown_timeout=timedelta(seconds=10),
        )
        async with worker:
            logger.info(
                "worker listening on task queue %s at %s", task_queue(settings), settings.temporal_address
            )
            if settings.simulated_kie:
                logger.warning("KIE_API_KEY is not set: generations use the built-in Kie.ai simulator")
            warn_if_callbacks_off(settings)
            await stop.wait()
            logger.info("stopping worker")


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(run_worker())


if __name__ == "__main__":
    main()
