"""Security headers on every answer of the API (and of the SPA, docs and admin it serves under `make dev`), and the
client address taken from X-Forwarded-For only when the proxy sent it.

Nginx (docker/nginx.conf) sends the same SPA policy on the files it serves itself; what it proxies keeps these.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from core.settings import Settings

HSTS = "max-age=31536000"
# Paths that carry a share token: the browser must not send them on (Referer) to anyone, S3 included.
REVIEW_PREFIXES = ("/review/", "/api/public/", "/ws/public/")
API_PREFIXES = ("/api/", "/ws/", "/openapi.json")
DOCS_PREFIXES = ("/docs", "/redoc")

# JSON (and the OpenAPI document): nothing to run, nothing to embed.
API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# FastAPI's Swagger UI and ReDoc load their bundles from jsDelivr and start with an inline script; ReDoc's fonts
# come from Google and its search runs in a blob: worker.
DOCS_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    "font-src 'self' https://fonts.gstatic.com; img-src 'self' data: https://fastapi.tiangolo.com "
    "https://cdn.redoc.ly; worker-src 'self' blob:; connect-src 'self'; object-src 'none'; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)
# sqladmin serves its own files, but its pages and form widgets use inline scripts and styles.
ADMIN_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; "
    "form-action 'self'"
)


def origin_of(url: str) -> str | None:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else None


def spa_policy(media_origins: Iterable[str] = ()) -> str:
    """The SPA's policy. Next.js 14's static export boots with inline scripts (`self.__next_f.push(...)`) and has
    no per-request nonce, so scripts are 'self' plus inline, never eval; style attributes are inline too. Media
    are presigned S3 URLs (another origin when S3 is not proxied on ours), upload previews are blob: URLs.
    `connect-src 'self'` covers the API and, in CSP 3 browsers, the same-origin ws:/wss: socket."""
    media = " ".join(["'self'", *sorted(set(media_origins))])
    return (
        f"default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
        f"img-src {media} blob: data:; media-src {media} blob:; font-src 'self' data:; "
        f"connect-src {media}; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; "
        f"form-action 'self'; worker-src 'self' blob:"
    )


class SecurityHeadersMiddleware:
    """Adds Content-Security-Policy (per kind of page), X-Content-Type-Options, Referrer-Policy, and HSTS when the
    request came over TLS (its scheme, which ProxyHeadersMiddleware takes from a trusted X-Forwarded-Proto)."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        media = origin_of(settings.s3_endpoint_url)
        self.spa = spa_policy([media] if media else [])

    def policy_for(self, path: str) -> str:
        if path.startswith(API_PREFIXES):
            return API_POLICY
        if path.startswith(DOCS_PREFIXES):
            return DOCS_POLICY
        if path == "/admin" or path.startswith("/admin/"):
            return ADMIN_POLICY
        return self.spa

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        policy = self.policy_for(path)
        referrer = "no-referrer" if path.startswith(REVIEW_PREFIXES) else "same-origin"
        over_tls = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", policy)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", referrer)
                if over_tls:
                    headers.setdefault("Strict-Transport-Security", HSTS)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def trusted_proxies(setting: str) -> list[str]:
    """FORWARDED_ALLOW_IPS: comma-separated addresses or CIDRs of the proxy, or `*` (only behind a firewall that
    lets nothing but the proxy reach the API)."""
    return [item.strip() for item in setting.split(",") if item.strip()]


def install_security_middleware(app: FastAPI, settings: Settings) -> None:
    """Call last: the proxy headers must be read (client address, scheme) before anything else sees the request.

    The one place forwarded headers are read: every launcher runs Uvicorn with `--no-proxy-headers` (its own
    reading would trust 127.0.0.1, or `*`, whatever FORWARDED_ALLOW_IPS says here)."""
    app.add_middleware(SecurityHeadersMiddleware, settings=settings)
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=trusted_proxies(settings.forwarded_allow_ips))
