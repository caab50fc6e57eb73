"""A private product for fault tests: its own PostgreSQL, Redis, Temporal and S3 (so killing them hurts no other
test), the Kie.ai simulator, `python -m worker` and the API as a Uvicorn subprocess, all on free ports.

`kill(name)` SIGKILLs a backing service's whole process group and reaps it; `restart(name)` starts it again on the
same port and data directory through `RunningService.restart()`, the primitive `make dev`'s supervisor uses.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import httpx
import psycopg

from devstack import services
from devstack.services import RunningService, free_port
from devstack.stack import Stack, migrate, start_stack
from tests.pipeline.fixtures import SimulatorProcess, start_simulator, stop_process

ROOT = Path(__file__).resolve().parents[2]
INFRA_RETRY_WINDOW_SECONDS = 120
INFRA_RETRY_MAX_INTERVAL_SECONDS = 1


@dataclass
class FaultStack:
    base: Path
    stack: Stack
    simulator: SimulatorProcess
    env: dict[str, str]
    api_port: int
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def ws_url(self, path: str) -> str:
        return f"ws://127.0.0.1:{self.api_port}{path}"

    # --- our own processes ------------------------------------------------------------------------------------

    def _spawn(self, name: str, cmd: list[str]) -> subprocess.Popen[bytes]:
        process = services.spawn(cmd, self.base / "logs" / f"{name}.log", env=self.env, cwd=ROOT)
        self.processes[name] = process
        return process

    def start_worker(self) -> None:
        process = self._spawn("worker", [sys.executable, "-m", "worker"])
        log = self.base / "logs" / "worker.log"
        services.wait_until(
            lambda: "worker listening" in log.read_text(errors="replace"), "the worker", 60, process
        )

    def start_api(self) -> None:
        process = self._spawn(
            "api",
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                "api.main:create_app",
                "--host=127.0.0.1",
                f"--port={self.api_port}",
                "--log-level=warning",
                "--no-access-log",
            ],
        )
        services.wait_until(
            lambda: httpx.get(f"{self.api_url}/api/health/", timeout=5).status_code == 200,
            "the API",
            60,
            process,
        )

    def log_tail(self, name: str, chars: int = 3000) -> str:
        path = self.base / "logs" / f"{name}.log"
        if not path.exists():
            path = self.stack.data_dir / "logs" / f"{name}.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""

    # --- backing services -------------------------------------------------------------------------------------

    def service(self, name: str) -> RunningService:
        return next(s for s in self.stack.running if s.name == name)

    def kill(self, name: str) -> None:
        """SIGKILL the service's whole process group (PostgreSQL's backends, SeaweedFS's servers) and reap it."""
        process = self.service(name).process
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)

    def restart(self, name: str) -> None:
        """Start a killed service again on the same port and data directory (what `make dev`'s supervisor does)."""
        self.service(name).restart()

    # --- what the tests check ---------------------------------------------------------------------------------

    def asset_rows(self, box_id: int) -> list[dict[str, Any]]:
        url = self.env["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(url) as conn:
            cursor = conn.execute(
                "SELECT id, status, error_message, provider_task_id, file_key, thumbnail_key FROM asset WHERE box_id = %s",
                (box_id,),
            )
            names = [c.name for c in cursor.description or []]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def object_keys(self, prefix: str) -> list[str]:
        env = self.env
        client = boto3.client(
            "s3",
            endpoint_url=env["S3_ENDPOINT_URL"],
            aws_access_key_id=env["S3_ACCESS_KEY"],
            aws_secret_access_key=env["S3_SECRET_KEY"],
            region_name="us-east-1",
        )
        response = client.list_objects_v2(Bucket=env["S3_BUCKET"], Prefix=prefix)
        return sorted(item["Key"] for item in response.get("Contents", []))

    def stop(self) -> None:
        for process in self.processes.values():
            stop_process(process)
        stop_process(self.simulator.process)
        self.stack.stop()


def start_fault_stack(base: Path) -> FaultStack:
    stack = start_stack(
        base / "stack", fixed_ports=False, database_name="aiam_faults", bucket="aiam-faults", environ={}
    )
    simulator: SimulatorProcess | None = None
    faults: FaultStack | None = None
    try:
        migrate(stack.env["DATABASE_URL"])
        simulator = start_simulator(free_port(), hmac_key=secrets.token_urlsafe(24))
        api_port = free_port()
        env = {
            **os.environ,
            **stack.env,
            "PYTHONPATH": str(ROOT),
            "ENVIRONMENT": "test",
            "JWT_SECRET": secrets.token_urlsafe(32),
            "TEMPORAL_TASK_QUEUE": f"faults-{uuid.uuid4().hex[:8]}",
            "KIE_BASE_URL": simulator.url,
            "KIE_SIMULATOR_KEY": simulator.api_key,
            "KIE_WEBHOOK_HMAC_KEY": simulator.hmac_key,
            "KIE_TIMEOUT_SECONDS": "3",
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{api_port}",
            "RECONCILE_INTERVAL_SECONDS": "86400",
            "REDIS_HEALTH_CHECK_SECONDS": "1",
            "INFRA_RETRY_WINDOW_SECONDS": str(INFRA_RETRY_WINDOW_SECONDS),
            "INFRA_RETRY_MAX_INTERVAL_SECONDS": str(INFRA_RETRY_MAX_INTERVAL_SECONDS),
        }
        env.pop("KIE_API_KEY", None)
        faults = FaultStack(base=base, stack=stack, simulator=simulator, env=env, api_port=api_port)
        faults.start_worker()
        faults.start_api()
    except BaseException:
        if faults is not None:
            faults.stop()
        else:
            if simulator is not None:
                stop_process(simulator.process)
            stack.stop()
        raise
    return faults
