"""Security headers from the API (what `make dev` serves: the API, the SPA through api/spa.py, docs and admin), and
a health report without exception text."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from api.spa import mount_spa
from core.settings import Settings
from tests.builders import app_client


def directives(policy: str) -> dict[str, list[str]]:
    parsed = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            parsed[words[0]] = words[1:]
    return parsed


@pytest.fixture
def spa_client(settings: Settings, tmp_path: Path) -> Any:
    """The app with a stand-in static export mounted (web/out may not be built when pytest runs)."""
    from api.main import create_app

    (tmp_path / "review" / "_").mkdir(parents=True)
    (tmp_path / "index.html").write_text("<!doctype html><title>home</title>")
    (tmp_path / "review" / "_" / "index.html").write_text("<!doctype html><title>review</title>")
    app = create_app(settings)
    mount_spa(app, tmp_path)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def test_spa_pages_carry_a_policy_the_static_export_runs_under(
    spa_client: Any, settings: Settings
) -> None:
    async with spa_client as client:
        home = await client.get("/")
        review = await client.get("/review/0b8f3c7e-1111-4222-8333-944455556666/")
    assert home.status_code == review.status_code == 200
    s3 = urlsplit(settings.s3_endpoint_url)
    for page in (home, review):
        policy = directives(page.headers["Content-Security-Policy"])
        assert policy["default-src"] == ["'self'"]
        assert policy["frame-ancestors"] == ["'none'"]
        assert policy["object-src"] == ["'none'"]
        # Next's static export bootstraps with inline scripts; no eval in a production build
        assert "'unsafe-inline'" in policy["script-src"] and "'unsafe-eval'" not in policy["script-src"]
        # presigned media from the S3 origin (another origin under `make dev`), previews from blob: and data:
        for kind in ("img-src", "media-src"):
            assert f"{s3.scheme}://{s3.netloc}" in policy[kind], policy
        assert {"blob:", "data:"} <= set(policy["img-src"])
        assert "'self'" in policy["connect-src"]
        assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert review.headers["Referrer-Policy"] == "no-referrer"
    assert home.headers["Referrer-Policy"] == "same-origin"


async def test_api_answers_carry_a_policy_that_allows_nothing(client: httpx.AsyncClient) -> None:
    owner = await client.get("/api/auth/me/")
    public = await client.get("/api/public/0b8f3c7e-1111-4222-8333-944455556666/")
    assert owner.status_code == 401 and public.status_code == 404
    for answer in (owner, public):
        policy = directives(answer.headers["Content-Security-Policy"])
        assert policy["default-src"] == ["'none'"]
        assert policy["frame-ancestors"] == ["'none'"]
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert public.headers["Referrer-Policy"] == "no-referrer"
    assert owner.headers["Referrer-Policy"] == "same-origin"


async def test_docs_and_admin_get_a_policy_their_pages_work_under(client: httpx.AsyncClient) -> None:
    docs = await client.get("/docs")
    assert docs.status_code == 200
    policy = directives(docs.headers["Content-Security-Policy"])
    assert "https://cdn.jsdelivr.net" in policy["script-src"]  # Swagger UI's bundle
    assert "https://cdn.jsdelivr.net" in policy["style-src"]
    assert policy["frame-ancestors"] == ["'none'"]

    admin = await client.get("/admin/login")
    assert admin.status_code == 200
    policy = directives(admin.headers["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'", "'unsafe-inline'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert admin.headers["X-Content-Type-Options"] == "nosniff"


async def test_health_tells_anonymous_callers_which_check_failed_but_not_why(settings: Settings) -> None:
    cut_off = settings.model_copy(update={"redis_url": "redis://127.0.0.1:9/0"})
    async with app_client(cut_off) as client:
        response = await client.get("/api/health/")
    assert response.status_code == 503
    redis = response.json()["checks"]["redis"]
    assert redis["ok"] is False
    assert redis["error"] == "Redis did not answer; the API log has the detail."
    assert "127.0.0.1" not in response.text and "Error" not in response.text
