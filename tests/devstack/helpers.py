"""What the devstack tests share: a postmaster started by hand on a devstack data dir."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from devstack.services import PG_SYSTEM_USER, gone, pg_bin


def start_postmaster_by_hand(pg_data: Path, socket_dir: Path, port: int) -> int:
    """`pg_ctl start` on the data dir, as a developer would after a crash; returns the postmaster's pid."""
    for stale in [pg_data / "postmaster.pid", *socket_dir.glob(f".s.PGSQL.{port}*")]:
        stale.unlink(missing_ok=True)
    subprocess.run(
        [
            str(pg_bin() / "pg_ctl"),
            "start",
            "-w",
            "-D",
            str(pg_data),
            "-l",
            str(pg_data.parent / "by-hand.log"),
            "-o",
            f"-h 127.0.0.1 -p {port} -k {socket_dir}",
        ],
        check=True,
        capture_output=True,
        user=PG_SYSTEM_USER if os.geteuid() == 0 else None,
    )
    pid = int((pg_data / "postmaster.pid").read_text().split()[0])
    assert not gone(pid)
    return pid
