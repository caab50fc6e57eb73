"""The production proxy for real: Debian's nginx runs the project's own docker/nginx.conf in front of the test
stack's API (Uvicorn on a port, started as the image starts it: without Uvicorn's proxy headers) and the SPA.

The config is a template for the `web` image; `render` changes only what differs here (the upstream hosts, the
bucket, the static root, the listen port, the log path) and keeps every location and header as shipped. `make
test` runs pytest before `web-build`, so the SPA is `web/out` when it is built and a stand-in export otherwise (the
test checks Nginx's headers and routing, not the pages). What Nginx sends upstream (client address, scheme, Host)
is read from an upstream that echoes it, standing where the API stands; `behind_a_tls_proxy` fills in the lines
docs/deploy.md has an operator fill in for a TLS proxy in front.
"""

from __future__ import annotations

import asyncio
import contextlib
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

    def ws_url(self, path: str) -> str:
        return self.url.replace("http://", "ws://", 1) + path

    def access_lines(self) -> list[str]:
        return self.access_log.read_text().splitlines() if self.access_log.exists() else []


TLS_PROXY_MARKER = "#   192.0.2.10 1;"


def behind_a_tls_proxy(site: str, proxy: str) -> str:
    """The config as docs/deploy.md has an operator change it for a TLS proxy at `proxy`: the proxy named in the
    `geo` block (its X-Forwarded-Proto believed) and as `set_real_ip_from` (its X-Forwarded-For names the client)."""
    real_ip = "    #   set_real_ip_from 192.0.2.10;\n    #   real_ip_header X-Forwarded-For;\n    #   real_ip_recursive on;\n"
    assert TLS_PROXY_MARKER in site and real_ip in site, (
        "docker/nginx.conf changed: update behind_a_tls_proxy()"
    )
    site = site.replace(TLS_PROXY_MARKER, f"{proxy} 1;", 1)
    filled = (
        f"    set_real_ip_from {proxy};\n    real_ip_header X-Forwarded-For;\n    real_ip_recursive on;\n"
    )
    return site.replace(real_ip, filled, 1)


@contextlib.contextmanager
def serving(app: Any, name: str, **options: Any) -> Iterator[int]:
    """Uvicorn on a free port in a thread of its own (started as the image starts it: without proxy headers)."""
    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        proxy_headers=False,
        log_level="warning",
        timeout_graceful_shutdown=3,
        **options,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=name, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, f"{name} did not start"
            time.sleep(0.05)
        yield port
    finally:
        server.should_exit = True
        thread.join(15)


@contextlib.contextmanager
def nginx(
    prefix: Path, settings: Settings, api_port: int, *, tls_proxy: str | None = None
) -> Iterator[Proxied]:
    """docker/nginx.conf (rendered for this machine) in front of whatever listens on `api_port`."""
    prefix.mkdir(parents=True, exist_ok=True)
    port = free_port()
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
    if tls_proxy is not None:
        site = behind_a_tls_proxy(site, tls_proxy)
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
        yield Proxied(url=url, access_log=prefix / "access.log", error_log=error_log)
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture(scope="module")
def api_port(settings: Settings) -> Iterator[int]:
    """The test stack's API as the image runs it: the app reads X-Forwarded-* itself (FORWARDED_ALLOW_IPS:
    127.0.0.1, Nginx here)."""
    from api.main import create_app

    with serving(create_app(settings), "uvicorn-behind-nginx", lifespan="on") as port:
        yield port


@pytest.fixture(scope="module")
def proxied(settings: Settings, api_port: int, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxied]:
    """Nginx as shipped, in front of the API."""
    with nginx(tmp_path_factory.mktemp("nginx"), settings, api_port) as proxy:
        yield proxy


@pytest.fixture(scope="module")
def proxied_behind_tls(
    settings: Settings, api_port: int, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Proxied]:
    """Nginx configured for a TLS proxy at 127.0.0.1 (this test plays it), in front of the API."""
    with nginx(tmp_path_factory.mktemp("nginx-tls"), settings, api_port, tls_proxy="127.0.0.1") as proxy:
        yield proxy


async def echo_headers(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """An upstream that answers with the request line's path and every header it received, in order (duplicates
    kept): what Nginx sends the API. HTTP gets it as JSON; a WebSocket is accepted and gets it as its one message."""
    seen = json.dumps(
        {
            "path": scope["path"],
            "headers": [[k.decode("latin-1"), v.decode("latin-1")] for k, v in scope["headers"]],
        }
    )
    if scope["type"] == "http":
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": seen.encode()})
    elif scope["type"] == "websocket":
        assert (await receive())["type"] == "websocket.connect"
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.send", "text": seen})
        await send({"type": "websocket.close", "code": 1000})


@pytest.fixture(scope="module")
def echo_port() -> Iterator[int]:
    with serving(echo_headers, "echo-behind-nginx", lifespan="off") as port:
        yield port


@pytest.fixture(scope="module")
def echoed(settings: Settings, echo_port: int, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxied]:
    """Nginx as shipped, with the echo upstream standing where the API stands."""
    with nginx(tmp_path_factory.mktemp("nginx-echo"), settings, echo_port) as proxy:
        yield proxy


@pytest.fixture(scope="module")
def echoed_behind_tls(
    settings: Settings, echo_port: int, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Proxied]:
    with nginx(
        tmp_path_factory.mktemp("nginx-echo-tls"), settings, echo_port, tls_proxy="127.0.0.1"
    ) as proxy:
        yield proxy


def received(seen: dict[str, Any], name: str) -> list[str]:
    """Every value of header `name` the upstream received."""
    return [value for key, value in seen["headers"] if key.lower() == name.lower()]


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
    project = (await http.get(f"/api/projects/{review['project_id']}/", headers=review["headers"])).json()
    invite = await http.post(
        f"/api/studios/{project['studio_id']}/invites/", json={"role": "viewer"}, headers=review["headers"]
    )
    assert invite.status_code == 201, invite.text
    invite_token = invite.json()["token"]
    assert (await http.get(f"/api/join/{invite_token}/")).status_code == 200

    # Nginx writes a line when it finalises the request (a socket's when it closes), which can come after the
    # client has its answer: wait until all five are there.
    def seen(lines: list[str]) -> list[bool]:
        socket_lines = [line for line in lines if " 101 " in line]
        return [
            any("/ws/public/" in line for line in socket_lines),
            any(f"/ws/projects/{review['project_id']}/" in line for line in socket_lines),
            any("/review/" in line for line in lines),
            any("/api/public/" in line for line in lines),
            any("/api/join/" in line for line in lines),
        ]

    for _ in range(100):  # at most 5 s
        if all(seen(proxied.access_lines())):
            break
        await asyncio.sleep(0.05)
    lines = proxied.access_lines()
    assert seen(lines) == [True, True, True, True, True], lines
    log = "\n".join(lines)
    assert token not in log and bearer not in log and "token=" not in log and invite_token not in log


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


SPOOFED = {"X-Forwarded-For": "6.6.6.6", "X-Real-IP": "6.6.6.6", "X-Forwarded-Proto": "https"}
PROXIED_PATHS = ("/api/x/", "/openapi.json", "/docs", "/redoc", "/admin/x")


def assert_nginx_named_the_client(seen: dict[str, Any], proxy: Proxied, client: str, scheme: str) -> None:
    where = seen["path"]
    assert received(seen, "X-Forwarded-For") == [client], where
    assert received(seen, "X-Real-IP") == [client], where
    assert received(seen, "X-Forwarded-Proto") == [scheme], where
    assert received(seen, "Host") == [urlsplit(proxy.url).netloc], where  # the browser's, not `aiam_api`


async def test_a_spoofed_forwarded_for_on_a_socket_upgrade_does_not_reach_the_api(echoed: Proxied) -> None:
    """Nginx's own X-Forwarded-For/X-Real-IP/X-Forwarded-Proto and the browser's Host on a WebSocket upgrade, as
    on every other request: /ws/ sets headers of its own, which drops the server block's unless it repeats them."""
    for path in ("/ws/projects/1/", "/ws/public/some-token/"):
        async with connect(echoed.ws_url(path), additional_headers=SPOOFED, open_timeout=TIMEOUT) as socket:
            seen = json.loads(await socket.recv(decode=True))
        assert seen["path"] == path
        assert [value.lower() for value in received(seen, "Upgrade")] == ["websocket"]
        assert_nginx_named_the_client(seen, echoed, "127.0.0.1", "http")


async def test_every_proxied_location_names_the_client_itself(echoed: Proxied) -> None:
    async with httpx.AsyncClient(base_url=echoed.url, timeout=TIMEOUT) as client:
        for path in PROXIED_PATHS:
            answer = await client.get(path, headers=SPOOFED)
            assert answer.status_code == 200, path
            seen = answer.json()
            assert seen["path"] == path
            assert_nginx_named_the_client(seen, echoed, "127.0.0.1", "http")
            assert received(seen, "Upgrade") == [], path


async def test_behind_a_tls_proxy_its_forwarded_headers_name_the_client_and_the_scheme(
    echoed_behind_tls: Proxied,
) -> None:
    """The documented TLS-proxy set-up (this test is that proxy): its X-Forwarded-For names the client and its
    X-Forwarded-Proto the scheme, on sockets as on the rest; what Nginx passes on is still one address."""
    told = {"X-Forwarded-For": "198.51.100.9", "X-Forwarded-Proto": "https"}
    async with httpx.AsyncClient(base_url=echoed_behind_tls.url, timeout=TIMEOUT) as tls_proxy:
        for path in PROXIED_PATHS:
            seen = (await tls_proxy.get(path, headers=told)).json()
            assert_nginx_named_the_client(seen, echoed_behind_tls, "198.51.100.9", "https")
    ws_url = echoed_behind_tls.ws_url("/ws/projects/1/")
    async with connect(ws_url, additional_headers=told, open_timeout=TIMEOUT) as socket:
        seen = json.loads(await socket.recv(decode=True))
    assert_nginx_named_the_client(seen, echoed_behind_tls, "198.51.100.9", "https")
    # Anyone else reaching Nginx directly (another loopback address here) is not believed.
    stranger = httpx.AsyncHTTPTransport(local_address="127.0.0.2")
    async with httpx.AsyncClient(
        base_url=echoed_behind_tls.url, transport=stranger, timeout=TIMEOUT
    ) as client:
        seen = (await client.get("/api/x/", headers=told)).json()
    assert_nginx_named_the_client(seen, echoed_behind_tls, "127.0.0.2", "http")


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

    # Nginx faces the internet here: a client claiming https is not believed, by Nginx or by the API.
    for path in ("/", "/api/auth/me/"):
        claimed = await http.get(path, headers={"X-Forwarded-Proto": "https", **review["headers"]})
        assert claimed.status_code == 200, path
        assert "Strict-Transport-Security" not in claimed.headers, path


async def test_behind_a_tls_proxy_its_https_brings_hsts_once(
    proxied_behind_tls: Proxied, review: dict[str, Any]
) -> None:
    """Configured as docs/deploy.md says for a TLS proxy (this test plays it): HSTS from Nginx and from the API,
    once each."""
    async with httpx.AsyncClient(base_url=proxied_behind_tls.url, timeout=TIMEOUT) as tls_proxy:
        for path in ("/", "/api/auth/me/"):
            over_tls = await tls_proxy.get(path, headers={"X-Forwarded-Proto": "https", **review["headers"]})
            assert over_tls.status_code == 200, path
            assert over_tls.headers.get_list("Strict-Transport-Security") == ["max-age=31536000"], path
            plain = await tls_proxy.get(path, headers={"X-Forwarded-Proto": "http", **review["headers"]})
            assert "Strict-Transport-Security" not in plain.headers, path


async def test_media_from_the_bucket_cannot_run_scripts_on_the_origin(
    http: httpx.AsyncClient, settings: Settings
) -> None:
    """Uploaded files are served on the app's origin: an HTML or SVG upload must not become a page that runs."""
    answer = await http.get(f"/{settings.s3_bucket}/no-such-key.html")
    assert answer.status_code in (403, 404), answer.text
    media = policy(answer)
    assert media["default-src"] == ["'none'"] and "sandbox" in media
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
