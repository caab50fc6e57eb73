"""Backing services under supervision: a SIGKILLed PostgreSQL or Redis comes back on the same port with its data.

Real servers from the wheels, real SIGKILLs. `RunningService.restart()` is the primitive the launcher uses; the
`Supervisor` watches services, restarts the ones that exit after a backoff and stops everything on Ctrl-C.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import psycopg
import pytest
from redis import Redis
from temporalio.api.workflowservice.v1 import ListNamespacesRequest

from devstack.services import (
    RunningService,
    free_port,
    gone,
    start_postgres,
    start_redis,
    start_s3,
    start_temporal,
    wait_until,
)
from devstack.supervisor import Supervisor
from tests.devstack.helpers import start_postmaster_by_hand


def supervise_until(supervisor: Supervisor, check: Callable[[], bool], timeout: float) -> None:
    def step() -> bool:
        supervisor.check()
        return check()

    wait_until(step, "the supervisor's restart", timeout)


def is_zombie(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def appended(directory: Path, data: bytes) -> bool:
    return any(data in path.read_bytes() for path in directory.rglob("*.aof*"))


def plain(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def count_rows(url: str) -> int:
    with psycopg.connect(plain(url), connect_timeout=5) as conn:
        row = conn.execute("SELECT count(*) FROM survivors").fetchone()
        assert row is not None
        return int(row[0])


@pytest.fixture
def postgres(tmp_path: Path) -> Iterator[RunningService]:
    service = start_postgres(tmp_path / "postgres", free_port(), tmp_path / "logs" / "postgres.log")
    yield service
    service.stop()


@pytest.fixture
def redis_service(tmp_path: Path) -> Iterator[RunningService]:
    service = start_redis(tmp_path / "redis", free_port(), tmp_path / "logs" / "redis.log")
    yield service
    service.stop()


def test_persisted_redis_says_it_saves_and_keeps_data_through_a_sigkill(
    redis_service: RunningService, tmp_path: Path
) -> None:
    client = Redis.from_url(redis_service.url, socket_timeout=5)
    config = client.config_get("*")
    assert config["appendonly"] == "yes"
    assert config["appendfsync"] == "everysec"
    assert config["save"] == "60 1"
    client.xadd("events:project:1", {"type": "asset_status_changed", "n": "1"})
    client.set("kept", "yes")
    client.close()
    # What Redis has written to its append-only file survives a SIGKILL (the OS keeps it).
    wait_until(
        lambda: appended(tmp_path / "redis", b"kept"), "the append-only file to hold the writes", timeout=10
    )
    old_pid = redis_service.process.pid
    os.kill(old_pid, signal.SIGKILL)

    redis_service.restart()

    assert redis_service.process.pid != old_pid
    assert not is_zombie(old_pid)
    client = Redis.from_url(redis_service.url, socket_timeout=5)  # same port, same directory
    assert client.get("kept") == b"yes"
    assert client.xlen("events:project:1") == 1
    client.close()


def test_ephemeral_redis_saves_nothing(tmp_path: Path) -> None:
    service = start_redis(tmp_path / "redis", free_port(), tmp_path / "redis.log", persist=False)
    try:
        config = Redis.from_url(service.url, socket_timeout=5).config_get("*")
        assert config["appendonly"] == "no"
        assert config["save"] == ""
    finally:
        service.stop()


def test_a_sigkilled_postmaster_is_restarted_by_the_supervisor_on_its_port_with_its_data(
    postgres: RunningService,
) -> None:
    with psycopg.connect(plain(postgres.url), autocommit=True) as conn:
        conn.execute("CREATE TABLE survivors (n int)")
        conn.execute("INSERT INTO survivors SELECT generate_series(1, 100)")
    # An open session: its backend outlives a killed postmaster and holds the shared memory.
    holder = psycopg.connect(plain(postgres.url), autocommit=True)
    lines: list[str] = []
    supervisor = Supervisor([postgres], restart_delay=0.2, say=lines.append)
    old_pid = postgres.process.pid
    os.kill(old_pid, signal.SIGKILL)
    try:
        supervise_until(supervisor, lambda: any(" is back" in line for line in lines), timeout=60)
        assert count_rows(postgres.url) == 100
    finally:
        holder.close()
        supervisor.stop()

    assert any(line.startswith("postgres exited with code -9") for line in lines), lines
    assert any("restarting in" in line and "postgres.log" in line for line in lines), lines
    assert postgres.process.pid != old_pid
    assert not is_zombie(old_pid)
    assert gone(postgres.process.pid)  # and the supervisor's stop stopped the restarted one


def test_restart_brings_postgres_back_on_the_same_port_with_the_data(postgres: RunningService) -> None:
    with psycopg.connect(plain(postgres.url), autocommit=True) as conn:
        conn.execute("CREATE TABLE survivors (n int)")
        conn.execute("INSERT INTO survivors SELECT generate_series(1, 100)")
    holder = psycopg.connect(plain(postgres.url), autocommit=True)
    backends = psutil.Process(postgres.process.pid).children()
    try:
        os.kill(postgres.process.pid, signal.SIGKILL)
        postgres.restart()
        assert count_rows(postgres.url) == 100
        assert postgres.restarts == 1
        assert all(gone(b.pid) for b in backends)  # what was left of the old group is gone
    finally:
        holder.close()


def test_stop_also_stops_a_postmaster_started_by_hand_on_the_data_dir(postgres: RunningService) -> None:
    """The launcher's postgres died and someone started one by hand on its data dir: Ctrl-C stops that one too."""
    os.kill(postgres.process.pid, signal.SIGKILL)
    postgres.process.wait(10)
    port = int(postgres.url.split(":")[-1].split("/")[0])
    postmaster = start_postmaster_by_hand(
        Path(postgres.extra["pgdata"]), Path(postgres.extra["socket_dir"]), port
    )

    try:
        supervisor = Supervisor([postgres], restart_delay=30, say=lambda _: None)
        supervisor.stop()

        wait_until(lambda: gone(postmaster), "the hand-started postmaster to stop", timeout=5)
    finally:
        if not gone(postmaster):  # never leave it running, even when the test fails
            os.kill(postmaster, signal.SIGKILL)


def crashing(tmp_path: Path, script: str) -> RunningService:
    """A service whose process runs `script` in a shell, again on every restart."""

    def launch() -> subprocess.Popen[bytes]:
        return subprocess.Popen(["sh", "-c", script], start_new_session=True)

    return RunningService("crasher", launch(), "", tmp_path / "crasher.log", launch=launch)


class Clock:
    """The supervisor's time, moved by the test: backoff and reset without waiting for them."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def exits(lines: list[str]) -> list[str]:
    return [line for line in lines if " exited with code " in line]


def crash_and_come_back(supervisor: Supervisor, clock: Clock, lines: list[str], stay_up: float) -> str:
    """Let the crasher (which exits at once) be noticed, wait out its announced delay on the clock, see it back,
    then let it stay up `stay_up` seconds of clock; returns the line that announced the crash."""
    crashes, backs = len(exits(lines)), sum(" is back" in line for line in lines)
    supervise_until(supervisor, lambda: len(exits(lines)) > crashes, timeout=30)
    announced = exits(lines)[-1]
    clock.now += float(announced.split("restarting in ")[1].split(" s")[0])
    supervise_until(supervisor, lambda: sum(" is back" in line for line in lines) > backs, timeout=30)
    clock.now += stay_up
    return announced


def test_the_restart_delay_doubles_while_a_service_keeps_crashing_up_to_a_limit(tmp_path: Path) -> None:
    lines: list[str] = []
    clock = Clock()
    service = crashing(tmp_path, "exit 3")
    supervisor = Supervisor([service], restart_delay=4, say=lines.append, clock=clock)
    try:
        announced = [crash_and_come_back(supervisor, clock, lines, stay_up=0) for _ in range(5)]
    finally:
        supervisor.stop()
    assert announced == [
        f"crasher exited with code 3; restarting in {delay} s (log: {tmp_path / 'crasher.log'})"
        for delay in (4, 8, 16, 30, 30)
    ]
    assert "crasher is back (pid" in lines[1]
    assert service.restarts == 5


def test_the_restart_delay_starts_over_once_a_service_stayed_up(tmp_path: Path) -> None:
    lines: list[str] = []
    clock = Clock()
    service = crashing(tmp_path, "exit 3")
    supervisor = Supervisor([service], restart_delay=1, reset_after=10, say=lines.append, clock=clock)
    try:
        announced = [crash_and_come_back(supervisor, clock, lines, stay_up=up) for up in (9, 10, 0, 0)]
    finally:
        supervisor.stop()
    # Up 9 s is not long enough to start over; up 10 s is; then it doubles again.
    assert [line.split("; ")[1].split(" (")[0] for line in announced] == [
        "restarting in 1 s",
        "restarting in 2 s",
        "restarting in 1 s",
        "restarting in 2 s",
    ]


def test_temporal_and_s3_come_back_on_their_urls_with_their_data(tmp_path: Path) -> None:
    import asyncio

    import boto3
    from temporalio.client import Client

    temporal = start_temporal(tmp_path / "temporal", free_port(), free_port(), tmp_path / "temporal.log")
    s3 = start_s3(tmp_path / "s3", free_port(), tmp_path / "s3.log", "aiam-local", "local-secret-1", "kept")
    client = boto3.client(
        "s3",
        endpoint_url=s3.url,
        aws_access_key_id="aiam-local",
        aws_secret_access_key="local-secret-1",
        region_name="us-east-1",
    )

    async def namespaces() -> list[str]:
        connected = await Client.connect(temporal.url)
        listed = await connected.workflow_service.list_namespaces(ListNamespacesRequest())
        return [n.namespace_info.name for n in listed.namespaces]

    try:
        client.put_object(Bucket="kept", Key="a.txt", Body=b"still here")
        for service in (temporal, s3):
            old_pid = service.process.pid
            os.kill(old_pid, signal.SIGKILL)
            service.restart()
            assert service.process.pid != old_pid
            assert not is_zombie(old_pid)
        assert client.get_object(Bucket="kept", Key="a.txt")["Body"].read() == b"still here"
        assert "default" in asyncio.run(namespaces())
    finally:
        s3.stop()
        temporal.stop()


def test_ctrl_c_during_a_restart_stops_the_process_being_started(tmp_path: Path) -> None:
    spawned: list[subprocess.Popen[bytes]] = []

    def launch() -> subprocess.Popen[bytes]:
        spawned.append(subprocess.Popen(["sleep", "300"], start_new_session=True))
        return spawned[-1]

    def ready(proc: subprocess.Popen[bytes]) -> None:  # never ready: the restart is still going on at Ctrl-C
        wait_until(lambda: False, "a server that never listens", timeout=120, proc=proc)

    service = RunningService("slow", launch(), "", tmp_path / "slow.log", launch=launch, ready=ready)
    supervisor = Supervisor([service], restart_delay=0.1, say=lambda _: None)
    os.kill(service.process.pid, signal.SIGKILL)
    supervise_until(supervisor, lambda: len(spawned) == 2, timeout=30)

    supervisor.stop()

    assert all(gone(process.pid) for process in spawned)
    assert service.process is spawned[1]  # the launcher tracked the new process as soon as it existed


def test_cleaning_up_after_a_reaped_process_spares_a_new_group_that_reuses_its_pid(tmp_path: Path) -> None:
    """Once the leader is reaped its pid may belong to a new, unrelated session: that one must not be killed."""
    stranger = subprocess.Popen(["sleep", "300"], start_new_session=True)
    leader = subprocess.Popen(["true"], start_new_session=True)
    leader.wait(10)
    leader.pid = stranger.pid  # what the kernel does when it hands the reaped pid to a new session leader
    service = RunningService("reaped", leader, "", tmp_path / "reaped.log")
    try:
        service.kill_leftovers()
        with pytest.raises(subprocess.TimeoutExpired):  # a SIGKILL would have ended it well within this
            stranger.wait(2)
    finally:
        stranger.kill()
        stranger.wait(10)


def test_cleaning_up_after_a_reaped_leader_kills_what_it_left_in_its_group(tmp_path: Path) -> None:
    leader = subprocess.Popen(
        ["sh", "-c", "sleep 300 & echo $!"], start_new_session=True, stdout=subprocess.PIPE
    )
    assert leader.stdout is not None
    left = int(leader.stdout.readline())
    leader.wait(10)
    service = RunningService("reaped", leader, "", tmp_path / "reaped.log")
    try:
        service.kill_leftovers()
        wait_until(lambda: gone(left), "the process the leader left behind to be killed", timeout=5)
    finally:
        if not gone(left):
            os.kill(left, signal.SIGKILL)
