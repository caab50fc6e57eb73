"""The client address and scheme come from X-Forwarded-For / X-Forwarded-Proto only when the proxy sent them.

In-process (the app as `create_app` builds it, reached through ASGI with a chosen peer address); the real Nginx in
front of a real Uvicorn is in test_nginx.py.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx

from core.comments import GUEST_COMMENTS_PER_ADDRESS
from core.settings import Settings
from tests.builders import app_client, register
from tests.review.helpers import make_storyboard, share

PROXY = "127.0.0.1"  # FORWARDED_ALLOW_IPS' default
STRANGER = "198.51.100.7"  # a client reaching the API directly, not through the proxy


@contextlib.asynccontextmanager
async def peer_client(app: Any, peer: str) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=(peer, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


def spoofed() -> dict[str, str]:
    """A different made-up client address on every request (what bypassed the guest-comment limit)."""
    return {
        "X-Forwarded-For": f"203.0.113.{uuid.uuid4().int % 250 + 1}, 192.0.2.{uuid.uuid4().int % 250 + 1}"
    }


async def _comment(
    client: httpx.AsyncClient, token: str, box_ref: str, headers: dict[str, str]
) -> httpx.Response:
    return await client.post(
        f"/api/public/{token}/comments/",
        json={"author_name": "Dana", "text": "note", "box_ref": box_ref},
        headers=headers,
    )


async def _shared_board(client: httpx.AsyncClient, sessionmaker: Any, storage: Any) -> tuple[str, str]:
    headers = await register(client)
    board = await make_storyboard(client, headers, sessionmaker, storage)
    link = await share(client, headers, board.project["id"])
    box_ref = (await client.get(f"/api/public/{link['token']}/")).json()["boxes"][0]["ref"]
    return link["token"], box_ref


async def test_a_spoofed_forwarded_for_from_a_direct_client_does_not_escape_the_guest_comment_limit(
    app: Any, client: httpx.AsyncClient, sessionmaker: Any, storage: Any
) -> None:
    token, box_ref = await _shared_board(client, sessionmaker, storage)
    async with peer_client(app, STRANGER) as stranger:
        for _ in range(GUEST_COMMENTS_PER_ADDRESS.limit):
            accepted = await _comment(stranger, token, box_ref, spoofed())
            assert accepted.status_code == 201, accepted.text
        refused = await _comment(stranger, token, box_ref, spoofed())
    assert refused.status_code == 429, refused.text
    assert "from your address" in refused.json()["detail"]


async def test_the_proxys_forwarded_for_names_the_client(
    app: Any, client: httpx.AsyncClient, sessionmaker: Any, storage: Any
) -> None:
    """Behind the proxy every request comes from its address: the limit is per client it names, not per proxy."""
    token, box_ref = await _shared_board(client, sessionmaker, storage)
    first, second = {"X-Forwarded-For": "203.0.113.10"}, {"X-Forwarded-For": "203.0.113.11"}
    async with peer_client(app, PROXY) as proxy:
        for _ in range(GUEST_COMMENTS_PER_ADDRESS.limit):
            assert (await _comment(proxy, token, box_ref, first)).status_code == 201
        assert (await _comment(proxy, token, box_ref, first)).status_code == 429
        other_client = await _comment(proxy, token, box_ref, second)
    assert other_client.status_code == 201, other_client.text


async def test_the_trusted_addresses_come_from_the_setting(
    settings: Settings, client: httpx.AsyncClient, sessionmaker: Any, storage: Any
) -> None:
    """FORWARDED_ALLOW_IPS takes CIDRs (compose's network); 127.0.0.1 is then just another direct client."""
    token, box_ref = await _shared_board(client, sessionmaker, storage)
    compose_like = settings.model_copy(update={"forwarded_allow_ips": "172.30.0.0/24"})
    async with app_client(compose_like, peer="172.30.0.9") as proxy:
        for _ in range(GUEST_COMMENTS_PER_ADDRESS.limit):
            assert (
                await _comment(proxy, token, box_ref, {"X-Forwarded-For": "203.0.113.20"})
            ).status_code == 201
        assert (await _comment(proxy, token, box_ref, {"X-Forwarded-For": "203.0.113.21"})).status_code == 201
    async with app_client(compose_like, peer=PROXY) as local:
        for _ in range(GUEST_COMMENTS_PER_ADDRESS.limit):
            assert (await _comment(local, token, box_ref, spoofed())).status_code == 201
        assert (await _comment(local, token, box_ref, spoofed())).status_code == 429


async def test_hsts_only_when_the_proxy_says_https(app: Any) -> None:
    async with peer_client(app, PROXY) as proxy, peer_client(app, STRANGER) as stranger:
        over_tls = await proxy.get("/api/auth/me/", headers={"X-Forwarded-Proto": "https"})
        plain = await proxy.get("/api/auth/me/")
        claimed = await stranger.get("/api/auth/me/", headers={"X-Forwarded-Proto": "https"})
    assert over_tls.headers["Strict-Transport-Security"].startswith("max-age=")
    assert "Strict-Transport-Security" not in plain.headers
    assert "Strict-Transport-Security" not in claimed.headers
