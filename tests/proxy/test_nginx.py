"""The production proxy for real: Debian's nginx runs the project's own docker/nginx.conf in front of the test
stack's API (Uvicorn on a port, started as the image starts it: without Uvicorn's proxy headers) and the SPA.

The config is a template for the `web` image; `render` changes only what differs here (the upstream hosts, the
bucket, the static root, the listen port, the log path) and keeps every location and header as shipped. `make
test` runs pytest before `web-build`, so the SPA is `web/out` when it is built and a stand-in export otherwise (the
test checks Nginx's headers and routing, not the pages).
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import uvicorn
from websockets.asyncio.client import connect

from core.comments import GUEST_COMMENTS_PER_ADDRESS
from core.settings import Settings
from devstack.services import free_port
from tests.builders import register
from tests.review.helpers import make_storyboard, share

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "docker" / "nginx.conf"
BUILT_SPA = ROOT / "web" / "out"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
MIME_TYPES = Path("/etc/nginx/mime.types")
TIMEOUT = 15.0

pytestmark = pytest.mark.skipif(
    not Path(NGINX).is_file(), reason="nginx is missing: `make pytest` installs it (scripts/ensure-nginx.sh)"
)


def render(template: str, *, api: str, s3: str, bucket: str, root: Path, port: int, log: Path) -> str:
    """docker/nginx.conf with this machine's addresses and paths; everything else as shipped."""
    replacements = [
        ("server api:8000;", f"server {api};"),
        ("server minio:9000;", f"server {s3};"),
        ("${S3_BUCKET}", bucket),
        ("${CSP_MEDIA_SOURCES}", ""),  # the bucket is on the proxy's origin, as in docker-compose.yml
        ("root /usr/share/nginx/html;", f"root {root};"),
        ("/var/log/nginx/access.log", str(log)),
    ]
    for old, new in replacements:
        assert old in template, f"docker/nginx.conf no longer has {old!r}: update render()"
        template = template.replace(old, new)
    listens = re.findall(r"^\s*listen [^;]+;\n", template, flags=re.M)
    assert listens, "docker/nginx.conf listens nowhere"
    template = template.replace(listens[0], f"    listen 127.0.0.1:{port};\n", 1)
    for extra in listens[1:]:
        template = template.replace(extra, "", 1)
    return template


def wrapper(prefix: Path, site: str) -> str:
    """What the nginx image's own /etc/nginx/nginx.conf puts around conf.d/*.conf, for one unprivileged process."""
    temp = {name: prefix / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
    for path in temp.values():
        path.mkdir(exist_ok=True)
    return f"""
daemon off;
master_process off;
pid {prefix / "nginx.pid"};
error_log {prefix / "error.log"} notice;
events {{ worker_connections 256; }}
http {{
    include {MIME_TYPES};
    default_type application/octet-stream;
    client_body_temp_path {temp["body"]};
    proxy_temp_path {temp["proxy"]};
    fastcgi_temp_path {temp["fastcgi"]};
    uwsgi_temp_path {temp["uwsgi"]};
    scgi_temp_path {temp["scgi"]};
{site}
}}
"""


def stand_in_spa(root: Path) -> Path:
    for page in ("index.html", "404.html", "review/_/index.html", "login/index.html"):
        (root / page).parent.mkdir(parents=True, exist_ok=True)
        (root / page).write_text(f"<!doctype html><title>{page}</title><script>self.__next_f=[]</script>")
    (root / "_next" / "static" / "chunks").mkdir(parents=True)
    (root / "_next" / "static" / "chunks" / "main-0123abcd.js").write_text("console.log('hi');\n")
    return root


@dataclass
class Proxied:
    url: str
    access_log: Path
    error_log: Path
    api_port: int

    def ws_url(self, path: str) -> str:
        return self.url.replace("http://", "ws://", 1) + path

    def access_lines(self) -> list[str]:
        return self.access_log.read_text().splitlines() if self.access_log.exists() else []


@pytest.fixture(scope="module")
def proxied(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxied]:
    from api.main import create_app

    prefix = tmp_path_factory.mktemp("nginx")
    api_port, port = free_port(), free_port()
    # As the image runs it: the app reads X-Forwarded-* itself (FORWARDED_ALLOW_IPS: 127.0.0.1, Nginx here).
    config = uvicorn.Config(
        create_app(settings),
        host="127.0.0.1",
        port=api_port,
        lifespan="on",
        proxy_headers=False,
        log_level="warning",
        timeout_graceful_shutdown=3,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn-behind-nginx", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the API did not start"
        time.sleep(0.05)

    spa = BUILT_SPA if (BUILT_SPA / "index.html").is_file() else stand_in_spa(prefix / "spa")
    s3 = urlsplit(settings.s3_endpoint_url).netloc
    site = render(
        TEMPLATE.read_text(),
        api=f"127.0.0.1:{api_port}",
        s3=s3,
        bucket=settings.s3_bucket,
        root=spa,
        port=port,
        log=prefix / "access.log",
    )
    conf = prefix / "nginx.conf"
    conf.write_text(wrapper(prefix, site))
    error_log = prefix / "error.log"
    check = subprocess.run(
        [NGINX, "-t", "-p", str(prefix), "-c", str(conf), "-e", str(error_log)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert check.returncode == 0, check.stderr
    process = subprocess.Popen(
        [NGINX, "-p", str(prefix), "-c", str(conf), "-e", str(error_log)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 15
        while True:
            assert process.poll() is None, process.stderr.read() if process.stderr else "nginx exited"
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "nginx did not answer"
            time.sleep(0.05)
        yield Proxied(url=url, access_log=prefix / "access.log", error_log=error_log, api_port=api_port)
    finally:
        process.terminate()
        process.wait(10)
        server.should_exit = True
        thread.join(15)


@pytest.fixture
async def http(proxied: Proxied) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=proxied.url, timeout=TIMEOUT) as client:
        yield client


@pytest.fixture
async def review(client: httpx.AsyncClient, sessionmaker: Any, storage: Any) -> dict[str, Any]:
    """An owner's bearer, a project with shots, and a live share link (made in-process, read through Nginx)."""
    headers = await register(client)
    board = await make_storyboard(client, headers, sessionmaker, storage)
    link = await share(client, headers, board.project["id"])
    return {"headers": headers, "project_id": board.project["id"], "token": link["token"]}


def policy(response: httpx.Response) -> dict[str, list[str]]:
    values = response.headers.get_list("Content-Security-Policy")
    assert len(values) == 1, f"{response.url}: {values}"  # Nginx and the API must not both send one
    return {part.split()[0]: part.split()[1:] for part in values[0].split(";") if part.strip()}


async def test_sockets_upgrade_through_nginx_and_receive_their_snapshot(
    proxied: Proxied, review: dict[str, Any]
) -> None:
    bearer = review["headers"]["Authorization"].removeprefix("Bearer ")
    owner_path = f"/ws/projects/{review['project_id']}/?token={bearer}"
    async with connect(proxied.ws_url(owner_path), open_timeout=TIMEOUT) as socket:
        first = json.loads(await socket.recv(decode=True))
    assert first["type"] == "snapshot", first
    async with connect(proxied.ws_url(f"/ws/public/{review['token']}/"), open_timeout=TIMEOUT) as socket:
        first = json.loads(await socket.recv(decode=True))
    assert first["type"] == "snapshot", first


async def test_nginx_access_log_names_no_token(
    proxied: Proxied, http: httpx.AsyncClient, review: dict[str, Any]
) -> None:
    token = review["token"]
    bearer = review["headers"]["Authorization"].removeprefix("Bearer ")
    async with connect(proxied.ws_url(f"/ws/public/{token}/"), open_timeout=TIMEOUT) as socket:
        await socket.recv()
    async with connect(
        proxied.ws_url(f"/ws/projects/{review['project_id']}/?token={bearer}"), open_timeout=TIMEOUT
    ) as socket:
        await socket.recv()
    assert (await http.get(f"/review/{token}/")).status_code == 200
    assert (await http.get(f"/api/public/{token}/")).status_code == 200
    # Nginx writes a socket's line when it closes: wait for both.
    for _ in range(100):  # at most 5 s
        if sum(" 101 " in line for line in proxied.access_lines()) >= 2:
            break
        await asyncio.sleep(0.05)
    lines = proxied.access_lines()
    socket_lines = [line for line in lines if " 101 " in line]
    assert any("/ws/public/" in line for line in socket_lines), lines
    assert any(f"/ws/projects/{review['project_id']}/" in line for line in socket_lines), lines
    assert any("/review/" in line for line in lines) and any("/api/public/" in line for line in lines)
    log = "\n".join(lines)
    assert token not in log and bearer not in log and "token=" not in log


async def test_a_spoofed_forwarded_for_does_not_reach_the_api(
    http: httpx.AsyncClient, review: dict[str, Any]
) -> None:
    """Every request names another client; Nginx overwrites the header, so all count against 127.0.0.1."""
    token = review["token"]
    box_ref = (await http.get(f"/api/public/{token}/")).json()["boxes"][0]["ref"]

    async def comment() -> httpx.Response:
        spoofed = f"203.0.113.{uuid.uuid4().int % 250 + 1}"
        return await http.post(
            f"/api/public/{token}/comments/",
            json={"author_name": "Dana", "text": "note", "box_ref": box_ref},
            headers={"X-Forwarded-For": spoofed, "X-Real-IP": spoofed},
        )

    for _ in range(GUEST_COMMENTS_PER_ADDRESS.limit):
        accepted = await comment()
        assert accepted.status_code == 201, accepted.text
    refused = await comment()
    assert refused.status_code == 429, refused.text
    assert "from your address" in refused.json()["detail"]


async def test_security_headers_on_the_spa_the_api_and_review_answers(
    proxied: Proxied, http: httpx.AsyncClient, review: dict[str, Any]
) -> None:
    token = review["token"]
    home = await http.get("/")
    page = await http.get(f"/review/{token}/")
    missing = await http.get("/no-such-page/")
    api = await http.get("/api/auth/me/", headers=review["headers"])
    public = await http.get(f"/api/public/{token}/")
    assert (home.status_code, page.status_code, missing.status_code) == (200, 200, 404)
    assert api.status_code == public.status_code == 200
    for answer in (home, page, missing, api, public):
        assert answer.headers.get_list("X-Content-Type-Options") == ["nosniff"], answer.url
        assert policy(answer)["frame-ancestors"] == ["'none'"], answer.url
        assert len(answer.headers.get_list("Referrer-Policy")) == 1, answer.url
        assert "Strict-Transport-Security" not in answer.headers  # plain HTTP
    for spa in (home, page, missing):
        assert "'unsafe-eval'" not in policy(spa)["script-src"]
        assert "'self'" in policy(spa)["connect-src"]
    assert policy(api)["default-src"] == ["'none'"]
    assert page.headers["Referrer-Policy"] == public.headers["Referrer-Policy"] == "no-referrer"

    chunk = await http.get("/_next/static/chunks/main-0123abcd.js") if not BUILT_SPA.exists() else None
    if chunk is not None:
        assert chunk.headers.get_list("Cache-Control") == ["public, max-age=31536000, immutable"]
        assert chunk.headers["X-Content-Type-Options"] == "nosniff"

    # Behind a TLS proxy (it sends X-Forwarded-Proto: https): HSTS from Nginx and from the API, once each.
    for path in ("/", "/api/auth/me/"):
        over_tls = await http.get(path, headers={"X-Forwarded-Proto": "https", **review["headers"]})
        assert len(over_tls.headers.get_list("Strict-Transport-Security")) == 1, path


async def test_media_from_the_bucket_cannot_run_scripts_on_the_origin(
    http: httpx.AsyncClient, settings: Settings
) -> None:
    """Uploaded files are served on the app's origin: an HTML or SVG upload must not become a page that runs."""
    answer = await http.get(f"/{settings.s3_bucket}/no-such-key.html")
    assert answer.status_code in (403, 404), answer.text
    media = policy(answer)
    assert media["default-src"] == ["'none'"] and "sandbox" in media
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
