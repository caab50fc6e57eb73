"""Container healthcheck for the worker: exit 0 while a worker in this container polls its task queue.

Temporal lists the recent pollers of a task queue; the SDK's default worker identity is `<pid>@<hostname>`,
and the hostname of a container is its id, so a poller with this hostname is this container's worker.
"""

from __future__ import annotations

import asyncio
import socket
import sys

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from core.settings import get_settings


async def polling_here(hostname: str) -> bool:
    settings = get_settings()
    client = await Client.connect(settings.temporal_address, namespace=settings.temporal_namespace)
    for queue_type in (TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY):
        response = await client.workflow_service.describe_task_queue(
            DescribeTaskQueueRequest(
                namespace=settings.temporal_namespace,
                task_queue=TaskQueue(name=settings.temporal_task_queue),
                task_queue_type=queue_type,
            )
        )
        if not any(poller.identity.endswith(f"@{hostname}") for poller in response.pollers):
            return False
    return True


def main() -> int:
    hostname = sys.argv[1] if len(sys.argv) > 1 else socket.gethostname()
    try:
        healthy = asyncio.run(asyncio.wait_for(polling_here(hostname), timeout=4))
    except Exception as exc:
        print(f"unhealthy: {type(exc).__name__}: {exc}")
        return 1
    print("healthy" if healthy else f"unhealthy: no worker on this host ({hostname}) polls the task queue")
    return 0 if healthy else 1


if __name__ == "__main__":
    raise SystemExit(main())
