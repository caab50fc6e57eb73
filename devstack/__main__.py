"""`python -m devstack` (what `make dev` runs): the whole product on this machine, stopped cleanly by Ctrl-C.

Starts the embedded services (unless their URLs are set in the environment), migrates the database, starts the
Kie.ai simulator when KIE_API_KEY is unset, then the API (which also serves the built SPA) and the worker.
Prints every URL, then `READY <api url>` once the API reports healthy.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from devstack.services import free_port, port_open
from devstack.stack import migrate, start_stack

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = ROOT / ".data"


def _persistent_secret(path: Path) -> str:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def _spawn(name: str, cmd: list[str], env: dict[str, str], log_dir: Path) -> subprocess.Popen[bytes]:
    log_dir.mkdir(parents=True, exist_ok=True)
    log = open(log_dir / f"{name}.log", "ab")  # noqa: SIM115 - owned by the child
    return subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )


def _stop(proc: subprocess.Popen[bytes], timeout: float = 15) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)
    except ProcessLookupError:
        pass


def _wait_healthy(url: str, procs: dict[str, subprocess.Popen[bytes]], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        for name, proc in procs.items():
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with code {proc.returncode}; see its log")
        try:
            response = httpx.get(f"{url}/api/health/", timeout=5)
            if response.status_code == 200:
                return
            last = response.text
        except httpx.HTTPError as exc:
            last = str(exc)
        time.sleep(0.2)
    raise TimeoutError(f"the API did not become healthy in {timeout:.0f} s: {last}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack", description=__doc__)
    parser.add_argument(
        "--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="where every service keeps data"
    )
    parser.add_argument("--api-port", type=int, default=int(os.environ.get("API_PORT", "8000")))
    parser.add_argument(
        "--free-ports", action="store_true", help="run the embedded services on free ports (default: fixed)"
    )
    parser.add_argument("--no-worker", action="store_true", help="do not start the Temporal worker")
    args = parser.parse_args(argv)

    data_dir: Path = args.data_dir.resolve()
    fixed_ports = not args.free_ports and data_dir == DEFAULT_DATA_DIR
    api_url = f"http://127.0.0.1:{args.api_port}"
    if port_open(args.api_port):
        print(
            f"port {args.api_port} is already in use: is another `make dev` running? (set API_PORT)",
            flush=True,
        )
        return 2

    started = time.monotonic()
    stack = start_stack(data_dir, fixed_ports=fixed_ports)
    procs: dict[str, subprocess.Popen[bytes]] = {}
    stopping = False

    def request_stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        migrate(stack.env["DATABASE_URL"])
        env = {
            **os.environ,
            **stack.env,
            "ENVIRONMENT": os.environ.get("ENVIRONMENT", "local"),
            "PUBLIC_BASE_URL": os.environ.get("PUBLIC_BASE_URL", api_url),
            "PYTHONPATH": str(ROOT),
            "PYTHONUNBUFFERED": "1",
        }
        env.setdefault("JWT_SECRET", _persistent_secret(data_dir / "jwt-secret"))
        logs = data_dir / "logs"
        simulated = not os.environ.get("KIE_API_KEY")
        if simulated and importlib.util.find_spec("kie_simulator") is not None:
            sim_port = free_port() if not fixed_ports else 8090
            env["KIE_BASE_URL"] = f"http://127.0.0.1:{sim_port}"
            procs["kie-simulator"] = _spawn(
                "kie-simulator",
                [sys.executable, "-m", "kie_simulator", "--host", "127.0.0.1", "--port", str(sim_port)],
                env,
                logs,
            )
        procs["api"] = _spawn(
            "api",
            [
                sys.executable,
                "-m",
                "uvicorn",
                "api.main:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(args.api_port),
                "--log-level",
                "info",
            ],
            env,
            logs,
        )
        if not args.no_worker:
            procs["worker"] = _spawn("worker", [sys.executable, "-m", "worker"], env, logs)
        _wait_healthy(api_url, procs, timeout=60)
        elapsed = time.monotonic() - started
        print(f"\nAI Asset Manager is up in {elapsed:.1f} s (data in {data_dir}, logs in {logs})", flush=True)
        print(f"  App (SPA)        {api_url}/")
        print(f"  API docs         {api_url}/docs")
        print(f"  Health           {api_url}/api/health/")
        print(f"  Admin            {api_url}/admin/  (create a superuser with `make superuser`)")
        if "TEMPORAL_UI_URL" in stack.env:
            print(f"  Temporal UI      {stack.env['TEMPORAL_UI_URL']}")
        print(f"  S3               {stack.env['S3_ENDPOINT_URL']}  bucket {stack.env['S3_BUCKET']}")
        if simulated:
            print(
                f"  Kie.ai           SIMULATED at {env.get('KIE_BASE_URL')} (set KIE_API_KEY for the real one)"
            )
        print(f"READY {api_url}", flush=True)
        while not stopping:
            for name, proc in procs.items():
                if proc.poll() is not None:
                    print(
                        f"{name} exited with code {proc.returncode}; stopping (see {logs / (name + '.log')})"
                    )
                    stopping = True
            time.sleep(0.3)
        return 0
    except Exception as exc:
        print(f"make dev failed: {exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        print("stopping…", flush=True)
        for proc in reversed(list(procs.values())):
            _stop(proc)
        stack.stop()
        print("stopped.", flush=True)


if __name__ == "__main__":
    sys.exit(main())
