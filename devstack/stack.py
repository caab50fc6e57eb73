"""The whole embedded stack: services from wheels, a database migrated to head, and the environment for the app.

`start_stack()` is shared by `python -m devstack` (`make dev`) and the pytest fixtures. A service whose URL is
already set in the environment (DATABASE_URL, REDIS_URL, TEMPORAL_ADDRESS, S3_ENDPOINT_URL) is used as it is.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from devstack import services
from devstack.services import RunningService, free_port

DEFAULT_PORTS = {"postgres": 55432, "redis": 56379, "temporal": 7233, "temporal_ui": 8233, "s3": 8333}


@dataclass
class Stack:
    data_dir: Path
    env: dict[str, str]
    running: list[RunningService] = field(default_factory=list)
    urls: dict[str, str] = field(default_factory=dict)

    def stop(self) -> None:
        for service in reversed(self.running):
            service.stop()
        self.running.clear()


def _s3_credentials(data_dir: Path) -> tuple[str, str]:
    """Local S3 credentials, made once per data dir and kept there (never committed, never a default)."""
    path = data_dir / "s3-credentials"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"aiam-local\n{secrets.token_urlsafe(24)}\n")
        path.chmod(0o600)
    access, secret = path.read_text().split()
    return access, secret


def _port(name: str, fixed_ports: bool) -> int:
    return DEFAULT_PORTS[name] if fixed_ports else free_port()


PORT_ATTEMPTS = 3


def _start(start: Callable[[], RunningService], fixed_ports: bool) -> RunningService:
    """Run `start` (which picks its ports through `_port`) and, with free ports, retry on a port lost to a race.

    `free_port()` closes the port it found, so another process can bind it before the server does; the server
    then exits with "address already in use" (Temporal even panics). Fixed ports are the user's to free: no retry.
    """
    attempts = 1 if fixed_ports else PORT_ATTEMPTS
    for attempt in range(1, attempts + 1):
        try:
            return start()
        except services.ExitedEarly as exc:
            if attempt == attempts or not services.lost_its_port(exc):
                raise
    raise AssertionError("unreachable")


def start_stack(
    data_dir: Path,
    *,
    fixed_ports: bool = True,
    database_name: str = "aiam",
    bucket: str = "aiam-dev",
    environ: dict[str, str] | None = None,
) -> Stack:
    """Start what the environment does not already provide and return the settings environment for the app."""
    environ = dict(os.environ if environ is None else environ)
    data_dir = data_dir.resolve()
    logs = data_dir / "logs"
    stack = Stack(data_dir=data_dir, env={})
    try:
        if environ.get("DATABASE_URL"):
            stack.env["DATABASE_URL"] = environ["DATABASE_URL"]
        else:
            pg = _start(
                lambda: services.start_postgres(
                    data_dir / "postgres", _port("postgres", fixed_ports), logs / "postgres.log"
                ),
                fixed_ports,
            )
            stack.running.append(pg)
            stack.env["DATABASE_URL"] = services.create_database(pg.url, database_name)

        if environ.get("REDIS_URL"):
            stack.env["REDIS_URL"] = environ["REDIS_URL"]
        else:
            redis = _start(
                lambda: services.start_redis(
                    data_dir / "redis", _port("redis", fixed_ports), logs / "redis.log"
                ),
                fixed_ports,
            )
            stack.running.append(redis)
            stack.env["REDIS_URL"] = redis.url

        if environ.get("TEMPORAL_ADDRESS"):
            stack.env["TEMPORAL_ADDRESS"] = environ["TEMPORAL_ADDRESS"]
            if environ.get("TEMPORAL_UI_URL"):
                stack.env["TEMPORAL_UI_URL"] = environ["TEMPORAL_UI_URL"]
        else:
            temporal = _start(
                lambda: services.start_temporal(
                    data_dir / "temporal",
                    _port("temporal", fixed_ports),
                    _port("temporal_ui", fixed_ports),
                    logs / "temporal.log",
                ),
                fixed_ports,
            )
            stack.running.append(temporal)
            stack.env["TEMPORAL_ADDRESS"] = temporal.url
            stack.env["TEMPORAL_UI_URL"] = temporal.extra["ui"]

        if environ.get("S3_ENDPOINT_URL"):
            for key in ("S3_ENDPOINT_URL", "S3_BUCKET", "S3_ACCESS_KEY", "S3_SECRET_KEY", "S3_REGION"):
                if environ.get(key):
                    stack.env[key] = environ[key]
        else:
            access, secret = _s3_credentials(data_dir)
            s3 = _start(
                lambda: services.start_s3(
                    data_dir / "s3", _port("s3", fixed_ports), logs / "s3.log", access, secret, bucket
                ),
                fixed_ports,
            )
            stack.running.append(s3)
            stack.env.update(
                {
                    "S3_ENDPOINT_URL": s3.url,
                    "S3_BUCKET": bucket,
                    "S3_ACCESS_KEY": access,
                    "S3_SECRET_KEY": secret,
                }
            )
    except BaseException:
        stack.stop()
        raise
    return stack


def migrate(database_url: str) -> None:
    from alembic import command
    from alembic.config import Config

    root = Path(__file__).resolve().parent.parent
    config = Config(str(root / "alembic.ini"))
    config.attributes["database_url"] = database_url
    config.attributes["skip_logging"] = True
    command.upgrade(config, "head")
