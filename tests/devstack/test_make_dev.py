"""The `make dev` launcher, run as a user would: it comes up healthy with every URL, and Ctrl-C leaves nothing."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil

from devstack.services import free_port

ROOT = Path(__file__).resolve().parents[2]


def test_launcher_starts_everything_and_stops_cleanly(tmp_path):
    api_port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "DATABASE_URL",
            "REDIS_URL",
            "TEMPORAL_ADDRESS",
            "S3_ENDPOINT_URL",
            "KIE_API_KEY",
            "KIE_BASE_URL",
        }
    }
    env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.Popen(
        [sys.executable, "-m", "devstack", "--data-dir", str(tmp_path / "data"), "--api-port", str(api_port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 120
        assert proc.stdout is not None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith("READY "):
                break
        output = "".join(lines)
        assert any(line.startswith("READY ") for line in lines), output

        api = f"http://127.0.0.1:{api_port}"
        health = httpx.get(f"{api}/api/health/", timeout=10)
        assert health.status_code == 200, health.text
        assert all(check["ok"] for check in health.json()["checks"].values())
        assert httpx.get(f"{api}/docs", timeout=10).status_code == 200
        ui_url = next(line.split()[-1] for line in lines if "Temporal UI" in line)
        assert httpx.get(ui_url, timeout=10).status_code == 200
        s3_url = next(line.split()[1] for line in lines if line.strip().startswith("S3 "))
        assert httpx.get(s3_url, timeout=10).status_code in {200, 403}  # answers; credentials are required
        children = psutil.Process(proc.pid).children(recursive=True)
        assert len(children) >= 5, [c.name() for c in children]
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            raise
    assert proc.returncode == 0
    time.sleep(0.5)
    leftovers = [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]
    assert not leftovers, [(c.pid, c.name()) for c in leftovers]
    data_dir = str(tmp_path / "data")
    stray = [p for p in psutil.process_iter(["cmdline"]) if data_dir in " ".join(p.info["cmdline"] or [])]
    assert not stray, stray
