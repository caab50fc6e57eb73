"""Serves the SPA's static export (`web/out`) from the API, so `make dev` has one URL.

Client routes without a file of their own (`/review/<token>/`) get the page that renders them. The API, the
WebSockets, the docs and the admin keep their paths: the catch-all route never matches them.
"""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, Response
from starlette.convertors import Convertor, register_url_convertor

logger = logging.getLogger("api.spa")

DEFAULT_DIST = Path(__file__).resolve().parent.parent / "web" / "out"
RESERVED_PREFIXES = ("api", "ws", "docs", "redoc", "admin", "openapi.json")
# Routes whose static export is one shell for every value of a dynamic segment (see generateStaticParams).
DYNAMIC_SHELLS = {"review": "review/_/index.html"}


class SpaPathConvertor(Convertor[str]):
    regex = r"(?!(?:" + "|".join(p.replace(".", r"\.") for p in RESERVED_PREFIXES) + r")(?:/|$)).*"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("spa_path", SpaPathConvertor())


def resolve_spa_file(dist: Path, path: str) -> tuple[Path, int] | None:
    """The file to answer `path` with, and its status; None when there is nothing (not even a 404 page)."""
    root = dist.resolve()
    clean = path.strip("/")
    candidates = [clean, f"{clean}/index.html", f"{clean}.html"] if clean else ["index.html"]
    first = clean.split("/", 1)[0]
    if first in DYNAMIC_SHELLS and "/" in clean:
        candidates.append(DYNAMIC_SHELLS[first])
    for candidate in candidates:
        file = (root / candidate).resolve()
        if file.is_file() and file.is_relative_to(root):
            return file, 200
    not_found = root / "404.html"
    return (not_found, 404) if not_found.is_file() else None


def mount_spa(app: FastAPI, dist: Path = DEFAULT_DIST) -> None:
    """Adds the catch-all GET route for the SPA; call it after every other route and mount."""
    if not (dist / "index.html").is_file():
        logger.info("SPA not built (%s missing): the API serves no web pages; run `make web-build`", dist)
        return

    async def spa(request: Request, path: str) -> Response:
        found = resolve_spa_file(dist, path)
        if found is None:
            return Response(status_code=404)
        file, status = found
        immutable = path.startswith("_next/static/")
        headers = {"Cache-Control": "public, max-age=31536000, immutable" if immutable else "no-cache"}
        return FileResponse(file, status_code=status, headers=headers)

    app.add_api_route("/{path:spa_path}", spa, methods=["GET", "HEAD"], include_in_schema=False, name="spa")
