"""Reusable generation-pipeline fixtures: the Kie.ai simulator, a live API on a real port, and a worker.

Everything here is session-scoped and isolated from the plain `app`/`client` fixtures: the pipeline app has its own
settings (`pipeline_settings`: its own task queue, the simulator as Kie.ai, an HMAC key for callbacks, and its own
public URL so the simulator's callbacks reach it). Use:

- `pipeline_client`: an httpx client on the live pipeline API (real HTTP). `register(pipeline_client)` etc. work.
- `pipeline_worker`: the real worker registry (`worker.registry`) running in-process on the pipeline task queue.
- `kie_simulator`: a `python -m kie_simulator` subprocess (`.url`, `.tasks()`, `.hmac_key`, `.api_key`).
- `wait_for_asset(client, headers, asset_id, statuses)`: poll the API until the asset reaches a final status.

Another test package uses them by importing the fixtures into its own conftest (each importing package gets its
own isolated set: its own simulator, API port and task queue):

    from tests.pipeline.fixtures import (  # noqa: F401
        kie_simulator, pipeline_api_port, pipeline_app, pipeline_client, pipeline_settings, pipeline_worker,
    )
"""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
import uvicorn
from fastapi import FastAPI
from pydantic import SecretStr
from temporalio.worker import Worker

from core.settings import Settings
from devstack.services import free_port
from worker import registry
from worker.deps import WorkerDeps, open_worker_deps

ROOT = Path(__file__).resolve().parents[2]
SIMULATOR_STEP_SECONDS = 0.05
FINAL = ("COMPLETED", "FAILED")


@dataclass
class SimulatorProcess:
    url: str
    api_key: str
    hmac_key: str
    process: subprocess.Popen[bytes]

    def tasks(self, prompt_contains: str | None = None) -> list[dict[str, Any]]:
        tasks: list[dict[str, Any]] = httpx.get(f"{self.url}/_sim/tasks", timeout=10).json()
        if prompt_contains is not None:
            tasks = [t for t in tasks if prompt_contains in (t.get("prompt") or "")]
        return tasks


def start_simulator(
    port: int, *, hmac_key: str, step_seconds: float = SIMULATOR_STEP_SECONDS, extra: list[str] | None = None
) -> SimulatorProcess:
    api_key = "aiam-local-simulator"
    cmd = [
        sys.executable,
        "-m",
        "kie_simulator",
        # `--opt=value`: a random key may start with "-", which argparse would take for an option (exit code 2).
        f"--port={port}",
        f"--api-key={api_key}",
        f"--hmac-key={hmac_key}",
        f"--step-seconds={step_seconds}",
        *(extra or []),
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    log = Path(tempfile.gettempdir()) / f"kie-simulator-{port}.log"
    with log.open("wb") as errors:  # the child keeps its own descriptor
        process = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=errors)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            said = log.read_bytes()[-2000:].decode(errors="replace")
            raise RuntimeError(f"the simulator exited with code {process.returncode}: {said}")
        try:
            if httpx.get(f"{url}/_sim/health", timeout=1).status_code == 200:
                return SimulatorProcess(url, api_key, hmac_key, process)
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise TimeoutError("the simulator did not start")


def stop_process(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


@pytest.fixture(scope="session")
def kie_simulator() -> Iterator[SimulatorProcess]:
    simulator = start_simulator(free_port(), hmac_key=secrets.token_urlsafe(24))
    yield simulator
    stop_process(simulator.process)


@pytest.fixture(scope="session")
def pipeline_api_port() -> int:
    return free_port()


@pytest.fixture(scope="session")
def pipeline_settings(
    settings: Settings, kie_simulator: SimulatorProcess, pipeline_api_port: int
) -> Settings:
    return settings.model_copy(
        update={
            "temporal_task_queue": f"pipeline-{uuid.uuid4().hex[:8]}",
            "kie_base_url": kie_simulator.url,
            "kie_api_key": None,
            "kie_simulator_key": kie_simulator.api_key,
            "kie_webhook_hmac_key": SecretStr(kie_simulator.hmac_key),
            "kie_timeout_seconds": 3.0,
            "public_base_url": f"http://127.0.0.1:{pipeline_api_port}",
        }
    )


def pipeline_env(
    settings_env: dict[str, str], pipeline_settings: Settings, **overrides: str
) -> dict[str, str]:
    """The environment for a `python -m worker` (or API) subprocess that joins the pipeline set-up."""
    key = pipeline_settings.kie_webhook_hmac_key
    return {
        **os.environ,
        **settings_env,
        "PYTHONPATH": str(ROOT),
        "TEMPORAL_TASK_QUEUE": pipeline_settings.temporal_task_queue,
        "KIE_BASE_URL": pipeline_settings.kie_base_url,
        "KIE_SIMULATOR_KEY": pipeline_settings.kie_simulator_key,
        "KIE_WEBHOOK_HMAC_KEY": key.get_secret_value() if key else "",
        "KIE_TIMEOUT_SECONDS": str(pipeline_settings.kie_timeout_seconds),
        "PUBLIC_BASE_URL": pipeline_settings.public_base_url,
        **overrides,
    }


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def pipeline_app(pipeline_settings: Settings, pipeline_api_port: int) -> AsyncIterator[FastAPI]:
    """The API on a real port (the simulator's callbacks need one), with the pipeline settings."""
    from api.main import create_app

    application = create_app(pipeline_settings)
    config = uvicorn.Config(
        application, host="127.0.0.1", port=pipeline_api_port, log_level="warning", access_log=False
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(300):
        if server.started:
            break
        if task.done():
            task.result()
        await asyncio.sleep(0.05)
    yield application
    server.should_exit = True
    await task


@pytest_asyncio.fixture(loop_scope="session")
async def pipeline_client(
    pipeline_app: FastAPI, pipeline_settings: Settings
) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=pipeline_settings.public_base_url, timeout=30) as http:
        yield http


@asynccontextmanager
async def running_worker(settings: Settings) -> AsyncIterator[WorkerDeps]:
    """The real worker registry on the settings' task queue, in this process."""
    async with (
        open_worker_deps(settings) as deps,
        Worker(
            deps.temporal,
            task_queue=settings.temporal_task_queue,
            workflows=registry.workflows(),
            activities=registry.activities(deps),
        ),
    ):
        yield deps


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def pipeline_worker(pipeline_settings: Settings) -> AsyncIterator[WorkerDeps]:
    """The real registry's workflows and activities on the pipeline task queue, in this process."""
    async with running_worker(pipeline_settings) as deps:
        yield deps


async def wait_for_asset(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    asset_id: int,
    statuses: tuple[str, ...] = FINAL,
    timeout: float = 60,  # noqa: ASYNC109
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        response = await client.get(f"/api/assets/{asset_id}/", headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        if body["status"] in statuses:
            return body
        await asyncio.sleep(0.1)
    raise AssertionError(f"asset {asset_id} stayed {body.get('status')} (wanted {statuses}): {body}")
