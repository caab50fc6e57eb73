"""`make dev` under fire: SIGKILL the worker, then the API, in the middle of generations; the launcher restarts each,
every generation completes exactly once, a live socket resumes with `since`, and Ctrl-C leaves nothing behind.

A launcher run (`--free-ports --restart-delay 4`) with the Kie.ai simulator, driven as a user would: through the
API. Each fault prints `FAULT <name>: completed=N failed=N stuck=N api=<what a REST read answered while down>
recovery=<s>` (`pytest -s` shows them); recovery is the time from the kill until the launcher said the process was
back. A second run waits an hour before any restart, so Ctrl-C surely comes during PostgreSQL's backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import httpx
import psutil
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from devstack.services import free_port, gone
from tests.builders import make_box, make_project, register
from tests.devstack.helpers import start_postmaster_by_hand

ROOT = Path(__file__).resolve().parents[2]
RESTART_DELAY = 4
PATIENT_RESTART_DELAY = 3600  # no restart can happen while the test works by hand
STEP_SECONDS = 2  # the simulator spends this long in each of its states: a generation takes ~6 s
GENERATIONS = 4
FINAL = {"COMPLETED", "FAILED"}
EXTERNAL = {"DATABASE_URL", "REDIS_URL", "TEMPORAL_ADDRESS", "S3_ENDPOINT_URL", "KIE_API_KEY", "KIE_BASE_URL"}


@dataclass
class Launcher:
    process: subprocess.Popen[str]
    data_dir: Path
    lines: list[tuple[float, str]] = field(default_factory=list)

    def read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append((time.monotonic(), line.rstrip("\n")))

    def output(self) -> str:
        return "\n".join(line for _, line in self.lines)

    def wait_line(self, starts: str, after: float = 0.0, timeout: float = 60) -> float:
        """When the launcher printed a line starting with `starts` (after `after`)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for at, line in list(self.lines):
                if at >= after and line.startswith(starts):
                    return at
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"the launcher never printed {starts!r}:\n{self.output()}")

    def state(self) -> dict[str, Any]:
        state: dict[str, Any] = json.loads((self.data_dir / "devstack.json").read_text())
        return state

    def pid(self, name: str) -> int:
        return int(self.state()["services"][name]["pid"])


@contextlib.contextmanager
def running_launcher(data_dir: Path, restart_delay: float) -> Iterator[Launcher]:
    env = {k: v for k, v in os.environ.items() if k not in EXTERNAL}
    env["PYTHONPATH"] = str(ROOT)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "devstack",
            "--data-dir",
            str(data_dir),
            "--api-port",
            str(free_port()),
            "--free-ports",
            "--restart-delay",
            str(restart_delay),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    running = Launcher(process, data_dir)
    threading.Thread(target=running.read, daemon=True).start()
    try:
        running.wait_line("READY ", timeout=120)
        yield running
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        stray = [
            p for p in psutil.process_iter(["cmdline"]) if str(data_dir) in " ".join(p.info["cmdline"] or [])
        ]
        for leftover in stray:  # never leave a test's servers running, even when it failed
            leftover.kill()


@pytest.fixture
def launcher(tmp_path: Path) -> Iterator[Launcher]:
    with running_launcher(tmp_path / "data", RESTART_DELAY) as running:
        yield running


@pytest.fixture
def patient_launcher(tmp_path: Path) -> Iterator[Launcher]:
    with running_launcher(tmp_path / "data", PATIENT_RESTART_DELAY) as running:
        yield running


async def rest_answer(api_url: str, headers: dict[str, str], box_id: int) -> str:
    """What a REST read (the box's assets) answered while something was down: its status, or why it did not."""
    try:
        async with httpx.AsyncClient(base_url=api_url) as fresh:  # a new connection, as a browser would open
            response = await fresh.get(f"/api/boxes/{box_id}/assets/", headers=headers, timeout=5)
    except httpx.ConnectError:
        return "refused"
    except (httpx.ReadError, httpx.RemoteProtocolError):
        return "reset"  # connected, then dropped without an answer
    except httpx.HTTPError as exc:
        return type(exc).__name__
    return f"{response.status_code}"


async def until_gone(pid: int, within: float = 10.0) -> None:
    """Wait until a killed process has exited (its sockets closed); the launcher restarts it only seconds later."""
    deadline = time.monotonic() + within
    while not gone(pid):
        assert time.monotonic() < deadline, f"process {pid} still alive {within} s after SIGKILL"
        await asyncio.sleep(0.01)


async def start_generations(
    http: httpx.AsyncClient, headers: dict[str, str], box_id: int, tag: str
) -> dict[int, str]:
    started: dict[int, str] = {}
    for n in range(GENERATIONS):
        prompt = f"dunes at dawn {tag} #{n} [sim:steps={STEP_SECONDS}]"
        response = await http.post(
            f"/api/boxes/{box_id}/generate/",
            json={"model": "google/nano-banana", "prompt": prompt},
            headers=headers,
        )
        assert response.status_code == 202, response.text
        started[response.json()["asset_id"]] = prompt
    return started


def simulator_tasks(sim_url: str, tag: str) -> list[dict[str, Any]]:
    tasks: list[dict[str, Any]] = httpx.get(f"{sim_url}/_sim/tasks", timeout=10).json()
    return [t for t in tasks if tag in (t.get("prompt") or "")]


async def wait_until_submitted(sim_url: str, tag: str) -> None:
    async with asyncio.timeout(60):
        while len(simulator_tasks(sim_url, tag)) < GENERATIONS:  # noqa: ASYNC110
            await asyncio.sleep(0.2)


async def settle(
    http: httpx.AsyncClient, headers: dict[str, str], ids: list[int], within: float
) -> dict[int, str]:
    """Each asset's status once all are final, or after `within` seconds (what is not final then is stuck)."""
    deadline = time.monotonic() + within
    statuses: dict[int, str] = {}
    while True:
        for asset_id in ids:
            try:
                response = await http.get(f"/api/assets/{asset_id}/", headers=headers, timeout=5)
                if response.status_code == 200:
                    statuses[asset_id] = response.json()["status"]
            except httpx.HTTPError:
                pass
        if all(statuses.get(i) in FINAL for i in ids) or time.monotonic() > deadline:
            return statuses
        await asyncio.sleep(0.3)


def fault_line(name: str, statuses: dict[int, str], ids: list[int], api: str, recovery: float) -> str:
    completed = sum(statuses.get(i) == "COMPLETED" for i in ids)
    failed = sum(statuses.get(i) == "FAILED" for i in ids)
    stuck = len(ids) - completed - failed
    return (
        f"FAULT {name}: completed={completed} failed={failed} stuck={stuck} api={api} recovery={recovery:.1f}"
    )


async def assert_exactly_once(
    http: httpx.AsyncClient,
    headers: dict[str, str],
    box_id: int,
    started: dict[int, str],
    sim_url: str,
    tag: str,
    s3: Any,
) -> None:
    """One simulator task per asset, one row per generation in the box, the files in S3."""
    tasks = simulator_tasks(sim_url, tag)
    assert sorted(t["prompt"] for t in tasks) == sorted(started.values())
    listed = await http.get(f"/api/boxes/{box_id}/assets/", headers=headers)
    assert listed.status_code == 200, listed.text
    assert sorted(a["id"] for a in listed.json()["items"]) == sorted(started)
    for asset_id in started:
        objects = s3["client"].list_objects_v2(Bucket=s3["bucket"], Prefix=f"assets/{asset_id}/")
        assert sorted(o["Key"] for o in objects.get("Contents", [])) == [
            f"assets/{asset_id}/original.png",
            f"assets/{asset_id}/thumbnail.jpg",
        ]


async def next_message(ws: ClientConnection, timeout: float = 30) -> dict[str, Any]:  # noqa: ASYNC109
    while True:
        message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if message.get("type") != "ping":
            return message


async def test_the_launcher_restarts_a_killed_worker_and_api_and_no_generation_is_lost(
    launcher: Launcher,
) -> None:
    state = launcher.state()
    assert state["pid"] == launcher.process.pid
    assert set(state["services"]) == {"postgres", "redis", "temporal", "s3", "kie-simulator", "api", "worker"}
    assert all(s["restarts"] == 0 for s in state["services"].values())
    api_url = state["services"]["api"]["url"]
    sim_url = state["services"]["kie-simulator"]["url"]
    access, secret = (launcher.data_dir / "s3-credentials").read_text().split()
    s3 = {
        "bucket": "aiam-dev",
        "client": boto3.client(
            "s3",
            endpoint_url=state["services"]["s3"]["url"],
            aws_access_key_id=access,
            aws_secret_access_key=secret,
            region_name="us-east-1",
        ),
    }
    faults: list[str] = []

    async with httpx.AsyncClient(base_url=api_url, timeout=30) as http:
        headers = await register(http)
        project = await make_project(http, headers)
        ws_url = (
            f"{api_url.replace('http', 'ws')}/ws/projects/{project['id']}/"
            f"?token={headers['Authorization'].removeprefix('Bearer ')}"
        )

        # --- the worker, SIGKILLed while Kie.ai works on four generations ---------------------------------
        box = await make_box(http, headers, project["id"])
        tag = uuid.uuid4().hex[:8]
        started = await start_generations(http, headers, box["id"], tag)
        await wait_until_submitted(sim_url, tag)
        worker_pid = launcher.pid("worker")
        killed_at = time.monotonic()
        os.kill(worker_pid, signal.SIGKILL)
        answer = await rest_answer(
            api_url, headers, box["id"]
        )  # the API keeps serving; only the worker is gone
        answered_at = time.monotonic()
        back_at = launcher.wait_line("worker is back", after=killed_at)
        assert "worker exited with code -9 (SIGKILL); restarting in 4 s" in launcher.output()
        statuses = await settle(http, headers, list(started), within=90)
        faults.append(fault_line("worker", statuses, list(started), answer, back_at - killed_at))
        print(faults[-1], flush=True)
        assert answered_at < back_at and answer == "200", (
            f"with the worker down a REST read answered {answer}"
        )
        assert all(statuses[i] == "COMPLETED" for i in started), statuses
        await assert_exactly_once(http, headers, box["id"], started, sim_url, tag, s3)
        assert gone(worker_pid)
        assert launcher.state()["services"]["worker"]["restarts"] == 1
        assert launcher.pid("worker") != worker_pid

        # --- the API, SIGKILLed while a socket watches four generations -----------------------------------
        box = await make_box(http, headers, project["id"])
        tag = uuid.uuid4().hex[:8]
        ws = await connect(ws_url, open_timeout=30)
        await next_message(ws)  # the snapshot
        started = await start_generations(http, headers, box["id"], tag)
        seen: dict[int, list[str]] = {asset_id: [] for asset_id in started}
        last_id = None
        while not all("RUNNING" in s for s in seen.values()):
            event = await next_message(ws)
            if event["type"] == "asset_status_changed" and event["data"]["asset_id"] in seen:
                seen[event["data"]["asset_id"]].append(event["data"]["status"])
                last_id = event["id"]
        await wait_until_submitted(sim_url, tag)
        api_pid = launcher.pid("api")
        killed_at = time.monotonic()
        os.kill(api_pid, signal.SIGKILL)
        # SIGKILL is delivered asynchronously: a read racing the exit can reach the dying listener and be reset.
        await until_gone(api_pid)
        answer = await rest_answer(api_url, headers, box["id"])
        with pytest.raises(ConnectionClosed):  # the socket went down with the API
            while True:
                await next_message(ws, timeout=10)
        back_at = launcher.wait_line("api is back", after=killed_at)

        # The client reconnects where it stopped and gets what happened meanwhile, then the rest live.
        ws = await connect(f"{ws_url}&since={last_id}", open_timeout=30)
        snapshot = await next_message(ws)
        assert snapshot["type"] == "snapshot"
        assert snapshot["data"]["resume"]["since"] == last_id
        assert snapshot["data"]["resume"]["complete"] is True
        async with asyncio.timeout(90):
            while not all(FINAL & set(s) for s in seen.values()):
                event = await next_message(ws)
                if event["type"] == "asset_status_changed" and event["data"]["asset_id"] in seen:
                    seen[event["data"]["asset_id"]].append(event["data"]["status"])
        await ws.close()
        statuses = await settle(http, headers, list(started), within=30)
        faults.append(fault_line("api", statuses, list(started), answer, back_at - killed_at))
        print(faults[-1], flush=True)
        # Nothing may answer while the API is down: mostly the connection is refused; on some runs (seen on fresh
        # clones, cause not found: the killed process had exited) it is accepted and reset without an answer.
        assert answer in {"refused", "reset"}, f"with the API down a REST read got {answer}, not no answer"
        assert all(statuses[i] == "COMPLETED" for i in started), statuses
        assert all(s.count("COMPLETED") == 1 and "FAILED" not in s for s in seen.values()), seen
        await assert_exactly_once(http, headers, box["id"], started, sim_url, tag, s3)
        assert gone(api_pid)
        assert launcher.state()["services"]["api"]["restarts"] == 1


def test_ctrl_c_during_a_restart_backoff_also_stops_a_postgres_started_by_hand(
    patient_launcher: Launcher,
) -> None:
    """PostgreSQL was killed and, while the launcher waits to restart it, someone started one on its data dir."""
    launcher = patient_launcher
    postgres = launcher.state()["services"]["postgres"]
    killed_at = time.monotonic()
    os.kill(postgres["pid"], signal.SIGKILL)
    launcher.wait_line("postgres exited with code -9", after=killed_at, timeout=10)
    pg_dir = launcher.data_dir / "postgres"
    port = int(postgres["url"].split(":")[-1].split("/")[0])
    by_hand = start_postmaster_by_hand(pg_dir / "pgdata", pg_dir / "socket", port)
    pids = [s["pid"] for s in launcher.state()["services"].values()] + [by_hand]
    children = psutil.Process(launcher.process.pid).children(recursive=True)
    launcher.process.send_signal(signal.SIGINT)
    launcher.process.wait(60)
    assert launcher.process.returncode == 0, launcher.output()
    # Ctrl-C came during the backoff: only the hand-started postmaster ran, and it is stopped too.
    assert "postgres is back" not in launcher.output()
    assert all(gone(pid) for pid in pids), [p for p in pids if not gone(p)]
    assert all(gone(child.pid) for child in children), [c.pid for c in children if not gone(c.pid)]
