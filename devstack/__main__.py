"""`python -m devstack` (what `make dev` runs): the whole product on this machine, stopped cleanly by Ctrl-C.

Starts the embedded services (unless their URLs are set in the environment), migrates the database, starts the
Kie.ai simulator when KIE_API_KEY is unset, then the API (which also serves the built SPA) and the worker.
Prints every URL, then `READY <api url>` once the API reports healthy. From then on it supervises: a process that
exits (API, worker, simulator or a backing service) is announced and restarted after a backoff on the same port and
data, while everything else keeps running. `<data-dir>/devstack.json` lists the current pid of each process.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from devstack.services import RunningService, free_port, port_open, spawn, wait_until
from devstack.stack import migrate, start_stack
from devstack.supervisor import MAX_DELAY_SECONDS, RESET_AFTER_SECONDS, Supervisor

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = ROOT / ".data"


def _persistent_secret(path: Path) -> str:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def api_command(port: int) -> list[str]:
    """How `make dev` runs the API (tests run it the same way to read its real log output)."""
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "api.main:create_app",
        "--factory",
        "--no-proxy-headers",  # the app reads them, from FORWARDED_ALLOW_IPS only
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "info",
    ]


def _start_app_process(
    name: str, cmd: list[str], env: dict[str, str], log_dir: Path, url: str | None, port: int | None
) -> RunningService:
    """One of our processes (API, worker, simulator), restartable like the backing services."""

    def ready(proc: subprocess.Popen[bytes]) -> None:
        if port is not None:
            wait_until(lambda: port_open(port), name, timeout=60, proc=proc)

    log_path = log_dir / f"{name}.log"

    def launch() -> subprocess.Popen[bytes]:
        return spawn(cmd, log_path, env=env, cwd=ROOT)

    return RunningService(name, launch(), url or "", log_path, launch=launch, ready=ready)


def health_accepted(status_code: int, body: str, worker_expected: bool) -> bool:
    """Up: 200; without a worker (`--no-worker`), also a 503 whose only failing check is the worker."""
    if status_code == 200:
        return True
    if worker_expected or status_code != 503:
        return False
    try:
        checks = json.loads(body)["checks"]
        failing = {name for name, check in checks.items() if not check["ok"]}
    except (ValueError, KeyError, TypeError, AttributeError):
        return False
    return failing == {"worker"}


def _wait_healthy(url: str, services: list[RunningService], worker_expected: bool, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        for service in services:
            if service.process.poll() is not None:
                raise RuntimeError(
                    f"{service.name} exited with code {service.process.returncode}; see {service.log_path}"
                )
        try:
            response = httpx.get(f"{url}/api/health/", timeout=5)
            if health_accepted(response.status_code, response.text, worker_expected):
                return
            last = response.text
        except httpx.HTTPError as exc:
            last = str(exc)
        time.sleep(0.2)
    raise TimeoutError(f"the API did not become healthy in {timeout:.0f} s: {last}")


def write_state(path: Path, services: list[RunningService]) -> None:
    """`<data-dir>/devstack.json`: the launcher's pid and each service's current pid, URL and restart count."""
    state = {
        "pid": os.getpid(),
        "services": {
            s.name: {"pid": s.process.pid, "url": s.url or None, "restarts": s.restarts} for s in services
        },
    }
    partial = path.with_suffix(".json.partial")
    partial.write_text(json.dumps(state, indent=2) + "\n")
    partial.replace(path)  # readers never see half a file


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
    parser.add_argument(
        "--restart-delay",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help="wait this long before restarting a process that exited; doubles while it keeps crashing "
        f"(at most {MAX_DELAY_SECONDS:g} s), back to this once it stayed up {RESET_AFTER_SECONDS:g} s",
    )
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
    apps: list[RunningService] = []
    state_path = data_dir / "devstack.json"
    stopping = False

    def request_stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    supervisor: Supervisor | None = None
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
            apps.append(
                _start_app_process(
                    "kie-simulator",
                    [sys.executable, "-m", "kie_simulator", "--host", "127.0.0.1", "--port", str(sim_port)],
                    env,
                    logs,
                    env["KIE_BASE_URL"],
                    sim_port,
                )
            )
        apps.append(
            _start_app_process(
                "api",
                api_command(args.api_port),
                env,
                logs,
                api_url,
                args.api_port,
            )
        )
        if not args.no_worker:
            apps.append(_start_app_process("worker", [sys.executable, "-m", "worker"], env, logs, None, None))
        services = [*stack.running, *apps]
        write_state(state_path, services)
        _wait_healthy(api_url, apps, worker_expected=not args.no_worker, timeout=60)
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
        print(f"  Processes        {state_path}  (a process that exits is restarted)")
        print(f"READY {api_url}", flush=True)
        supervisor = Supervisor(
            services,
            restart_delay=args.restart_delay,
            say=lambda line: print(line, flush=True),
            on_restart=lambda _: write_state(state_path, services),
        )
        while not stopping:
            supervisor.check()
            time.sleep(0.2)
        return 0
    except Exception as exc:
        print(f"make dev failed: {exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        print("stopping…", flush=True)
        if supervisor is not None:
            supervisor.stop()
        for app in reversed(apps):
            app.stop()
        stack.stop()
        print("stopped.", flush=True)


if __name__ == "__main__":
    sys.exit(main())
