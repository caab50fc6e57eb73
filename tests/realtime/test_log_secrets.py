"""The API's real log output (Uvicorn in its own process, run as `make dev` and the container run it) holds no
access token, socket ticket or share token after sockets and review pages were opened with them."""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from devstack.__main__ import api_command
from devstack.services import free_port
from tests.builders import make_project, register
from tests.realtime.conftest import closed_with, next_json, open_socket, token_of

ROOT = Path(__file__).resolve().parents[2]


def container_command(port: int) -> list[str]:
    """The uvicorn command of docker/api.Dockerfile's CMD, on a local port."""
    dockerfile = (ROOT / "docker" / "api.Dockerfile").read_text()
    cmd = re.search(r"exec (uvicorn [^\"]+)\"", dockerfile)
    assert cmd is not None, "the Dockerfile's CMD no longer execs uvicorn"
    args = shlex.split(cmd.group(1))
    args[args.index("--host") + 1] = "127.0.0.1"
    args[args.index("--port") + 1] = str(port)
    return [sys.executable, "-m", *args]


@pytest.fixture(params=["make dev", "container"])
def api_process(
    request: pytest.FixtureRequest, settings_env: dict[str, str], tmp_path: Path
) -> Iterator[tuple[str, Path, subprocess.Popen[bytes]]]:
    port = free_port()
    command = api_command(port) if request.param == "make dev" else container_command(port)
    log = tmp_path / "api.log"
    env = {**os.environ, **settings_env, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/api/auth/me/", timeout=2).status_code == 401:
                break
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the API did not start: {log.read_text()[-2000:]}")
        time.sleep(0.1)
    yield url, log, process
    if process.poll() is None:
        process.kill()
        process.wait(10)


async def test_no_token_ticket_or_share_token_in_the_api_log(
    api_process: tuple[str, Path, subprocess.Popen[bytes]],
) -> None:
    url, log, process = api_process
    ws_base = url.replace("http://", "ws://")
    async with httpx.AsyncClient(base_url=url, timeout=15) as http:
        headers = await register(http)
        token = token_of(headers)
        project = await make_project(http, headers)
        pid = project["id"]
        link = await http.post(f"/api/projects/{pid}/share-links/", json={}, headers=headers)
        share_token = link.json()["token"]
        answer = await http.post("/api/auth/socket-ticket/", json={"project_id": pid}, headers=headers)
        ticket = answer.json()["ticket"]
        assert (await http.get(f"/api/public/{share_token}/")).status_code == 200

    for path in (
        f"/ws/projects/{pid}/?token={token}",
        f"/ws/projects/{pid}/?ticket={ticket}&since=1-0",
        f"/ws/public/{share_token}/",
    ):
        ws = await open_socket(ws_base + path)
        assert (await next_json(ws))["type"] == "snapshot"
        await ws.close()
    # A refused socket is logged too (the ticket is used up by now).
    refused = await open_socket(f"{ws_base}/ws/projects/{pid}/?ticket={ticket}")
    assert (await closed_with(refused))[0] == 1008

    process.send_signal(signal.SIGINT)  # Uvicorn's graceful stop flushes everything
    process.wait(20)
    text = log.read_text()
    # The lines are there (so the check below reads real access lines), with the secrets taken out.
    assert f'"WebSocket /ws/projects/{pid}/?token=[redacted]" [accepted]' in text, text
    assert f'"WebSocket /ws/projects/{pid}/?ticket=[redacted]&since=1-0" [accepted]' in text, text
    assert '"WebSocket /ws/public/[redacted]/" [accepted]' in text, text
    assert '"GET /api/public/[redacted]/ HTTP/1.1" 200' in text, text
    for secret in (token, ticket, share_token):
        assert secret not in text
