"""What every bench shares: the embedded services, our processes (API, simulator, worker), a user and a project
made through the API, and the figures' format. A bench script holds only what it measures.

The services and processes start the way `make dev` starts them (`devstack/`): the same launcher, the same
`uvicorn` command line for the API, each process in its own session with its log in the bench's data directory.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil
import uvicorn

from core.settings import Settings
from devstack.__main__ import api_command
from devstack.services import RunningService, free_port, spawn, start_service, wait_until
from devstack.stack import Stack, migrate, start_stack

ROOT = Path(__file__).resolve().parent.parent
NEVER_DIALLED = "127.0.0.1:9"
"""Where a bench that does not need Temporal or S3 points them instead of starting one (the discard port)."""
PASSWORD = "correct horse battery"
SERVER_START_SECONDS = 60.0


# --- the embedded services ------------------------------------------------------------------------------------


@contextlib.contextmanager
def embedded_services(
    name: str, *, temporal: bool = True, s3: bool = True, keep: Path | None = None
) -> Iterator[Stack]:
    """PostgreSQL and Redis (and Temporal, S3 unless told not to) on free ports, migrated; stopped on exit.

    Data lives in a temporary directory removed afterwards, or in `keep`, which is kept."""
    base = keep.resolve() if keep is not None else Path(tempfile.mkdtemp(prefix=f"aiam-bench-{name}-"))
    environ: dict[str, str] = {}
    if not temporal:
        environ["TEMPORAL_ADDRESS"] = NEVER_DIALLED
    if not s3:
        environ["S3_ENDPOINT_URL"] = f"http://{NEVER_DIALLED}"
    print(f"starting the embedded services under {base} …", flush=True)
    started = time.perf_counter()
    stack = start_stack(
        base, fixed_ports=False, database_name="aiam_bench", bucket="aiam-bench", environ=environ
    )
    try:
        migrate(stack.env["DATABASE_URL"])
        print(f"services ready and migrated in {time.perf_counter() - started:.1f} s", flush=True)
        yield stack
    finally:
        stack.stop()
        if keep is None:
            shutil.rmtree(base, ignore_errors=True)


def app_env(stack: Stack, **overrides: str) -> dict[str, str]:
    """The settings environment of an API or worker on these services: a fresh JWT secret and task queue."""
    return {
        **stack.env,
        "ENVIRONMENT": "test",
        "JWT_SECRET": secrets.token_urlsafe(32),
        "TEMPORAL_TASK_QUEUE": f"bench-{uuid.uuid4().hex[:6]}",
        **overrides,
    }


def settings_of(env: dict[str, str]) -> Settings:
    """The same settings for code in this process (never the developer's `.env`)."""
    return Settings(_env_file=None, **{key.lower(): value for key, value in env.items()})  # type: ignore[arg-type]


# --- our processes --------------------------------------------------------------------------------------------


@dataclass
class Server:
    """A process of ours serving HTTP on `url`, started by `server()`."""

    service: RunningService
    port: int

    @property
    def url(self) -> str:
        return self.service.url

    @property
    def pid(self) -> int:
        return self.service.process.pid

    def cpu_seconds(self) -> float:
        """User + system CPU time the process has used so far."""
        times = psutil.Process(self.pid).cpu_times()
        return float(times.user + times.system)

    def rss(self) -> int:
        """The process's resident memory now, in bytes."""
        return int(psutil.Process(self.pid).memory_info().rss)


@contextlib.contextmanager
def server(
    name: str,
    command: Callable[[int], list[str]],
    env: dict[str, str],
    log_dir: Path,
    *,
    ready_path: str = "/",
) -> Iterator[Server]:
    """Run `command(port)` on a free port (in its own session, from the repository root, output appended to
    `log_dir/<name>.log`) until it answers any HTTP status on `ready_path`; stop its whole group on exit."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = log_dir / f"{name}.log"
    process_env = {**os.environ, **env, "PYTHONPATH": str(ROOT)}

    def launch() -> subprocess.Popen[bytes]:
        return spawn(command(port), log_path, env=process_env, cwd=ROOT)

    def ready(process: subprocess.Popen[bytes]) -> None:
        wait_until(lambda: bool(httpx.get(url + ready_path, timeout=2)), name, SERVER_START_SECONDS, process)

    try:
        service = start_service(name, url, log_path, launch, ready)
    except (RuntimeError, TimeoutError) as exc:
        said = log_path.read_bytes()[-3000:].decode(errors="replace") if log_path.exists() else ""
        raise RuntimeError(f"{exc}; the end of {log_path}:\n{said}") from exc
    try:
        yield Server(service, port)
    finally:
        service.stop()


def api_server(
    env: dict[str, str], log_dir: Path, *options: str, name: str = "api"
) -> contextlib.AbstractContextManager[Server]:
    """The API as `make dev` runs it (`devstack.__main__.api_command`), without per-request logging."""
    return server(
        name,
        lambda port: [*api_command(port), "--log-level", "warning", "--no-access-log", *options],
        env,
        log_dir,
        ready_path="/api/auth/me/",
    )


def simulator(log_dir: Path, hmac_key: str) -> contextlib.AbstractContextManager[Server]:
    """The Kie.ai simulator with no time in any state, signing its callbacks with `hmac_key`."""
    return server(
        "kie-simulator",
        lambda port: [
            sys.executable,
            "-m",
            "kie_simulator",
            # `--opt=value`: a random key may start with "-", which argparse would take for an option.
            f"--port={port}",
            "--instant",
            f"--hmac-key={hmac_key}",
        ],
        {},
        log_dir,
        ready_path="/_sim/health",
    )


def uvicorn_config(app: Any, port: int) -> uvicorn.Config:
    """How a bench serves an app object: one process, no access log."""
    return uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def serve(app: Any, port: int) -> None:
    """Serve `app` until stopped; what a bench's own server process (started by `server()`) runs."""
    uvicorn.Server(uvicorn_config(app, port)).run()


class InProcessServer:
    """An app served from this process's event loop; its URL is known before the app is made (settings such as
    `PUBLIC_BASE_URL` need it)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"

    @contextlib.asynccontextmanager
    async def serving(self, app: Any) -> AsyncIterator[None]:
        uvicorn_server = uvicorn.Server(uvicorn_config(app, self.port))
        task = asyncio.create_task(uvicorn_server.serve())
        try:
            deadline = time.monotonic() + SERVER_START_SECONDS
            while not uvicorn_server.started:
                if task.done():
                    task.result()
                    raise RuntimeError("the in-process server stopped before it served")
                if time.monotonic() > deadline:
                    raise TimeoutError("the in-process server did not start")
                await asyncio.sleep(0.05)
            yield
        finally:
            uvicorn_server.should_exit = True
            await task


@contextlib.asynccontextmanager
async def running_worker(
    settings: Settings,
    *,
    workflows: Sequence[type] = (),
    activities: Sequence[Callable[..., Any]] = (),
    **options: Any,
) -> AsyncIterator[Any]:
    """The real worker registry (plus `workflows`/`activities`) on the settings' task queue, in this process;
    yields its `WorkerDeps`."""
    from temporalio.worker import Worker

    from worker import registry
    from worker.deps import open_worker_deps

    async with (
        open_worker_deps(settings) as deps,
        Worker(
            deps.temporal,
            task_queue=settings.temporal_task_queue,
            workflows=[*registry.workflows(), *workflows],
            activities=[*registry.activities(deps), *activities],
            **options,
        ),
    ):
        yield deps


# --- a user and a project, through the API --------------------------------------------------------------------


def unique_email(prefix: str = "bench") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}@example.com"


async def register(http: httpx.AsyncClient, email: str) -> None:
    answer = await http.post(
        "/api/auth/register/", json={"email": email, "password": PASSWORD, "display_name": "Bench"}
    )
    answer.raise_for_status()


async def login(http: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    return await http.post("/api/auth/login/", json={"email": email, "password": password})


async def make_owner(http: httpx.AsyncClient, email: str | None = None) -> dict[str, str]:
    """Register a user and log in; the Authorization header."""
    email = email or unique_email()
    await register(http, email)
    answer = await login(http, email)
    answer.raise_for_status()
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


async def create_project(http: httpx.AsyncClient, headers: dict[str, str], name: str = "Bench") -> int:
    answer = await http.post("/api/projects/", json={"name": name}, headers=headers)
    answer.raise_for_status()
    return int(answer.json()["id"])


async def create_box(
    http: httpx.AsyncClient, headers: dict[str, str], project_id: int, title: str = "Shot"
) -> int:
    answer = await http.post(f"/api/projects/{project_id}/boxes/", json={"title": title}, headers=headers)
    answer.raise_for_status()
    return int(answer.json()["id"])


# --- figures --------------------------------------------------------------------------------------------------


def percentile(values: Sequence[float], share: float) -> float:
    """The value at `share` (0..1) of the sorted values at the rounded linear index `round(share * (n - 1))`, as
    board, pipeline and abuse always computed it (ws_fanout used `int(share * n)` before issue 13: its p95/p99 can
    come out one rank lower than figures recorded before)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def timing_line(name: str, seconds: Sequence[float], width: int = 40) -> str:
    """`name n= p50= p95= p99= max= mean=` in milliseconds, from durations in seconds."""
    if not seconds:
        return f"{name:<{width}} no samples"
    ms = [value * 1000 for value in seconds]
    return (
        f"{name:<{width}} n={len(ms):<6} p50={percentile(ms, 0.5):8.2f} ms  p95={percentile(ms, 0.95):8.2f} ms  "
        f"p99={percentile(ms, 0.99):8.2f} ms  max={max(ms):8.2f} ms  mean={statistics.mean(ms):8.2f} ms"
    )


def machine() -> str:
    """The CPU count and load average, which every figure should be read against."""
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return f"{os.cpu_count()} CPUs, load average {load}"


class PeakRss:
    """Samples a process's RSS (this one by default) in a thread: `baseline` on entry, `peak` while inside."""

    def __init__(self, pid: int | None = None, interval: float = 0.01) -> None:
        self.process = psutil.Process(pid)
        self.interval = interval
        self.baseline = self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakRss:
        self.baseline = self.peak = self.process.memory_info().rss
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
