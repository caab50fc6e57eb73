"""The SPA's static export is served with a fallback for client routes, without shadowing the API."""

from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.spa import mount_spa


def make_dist(root: Path) -> Path:
    dist = root / "out"
    (dist / "login").mkdir(parents=True)
    (dist / "review" / "_").mkdir(parents=True)
    (dist / "_next" / "static").mkdir(parents=True)
    (dist / "index.html").write_text("home")
    (dist / "404.html").write_text("not found page")
    (dist / "login" / "index.html").write_text("login page")
    (dist / "review" / "_" / "index.html").write_text("review shell")
    (dist / "_next" / "static" / "app.js").write_text("js")
    (root / "secret.txt").write_text("secret")
    return dist


def make_client(tmp_path: Path) -> TestClient:
    app = FastAPI()

    @app.get("/api/ping/")
    async def ping() -> dict[str, bool]:
        return {"ok": True}

    mount_spa(app, make_dist(tmp_path))

    @app.get("/admin/")  # registered after the SPA, like a late mount: must still be reachable
    async def admin() -> dict[str, str]:
        return {"admin": "yes"}

    return TestClient(app)


def test_pages_and_client_routes(tmp_path: Path) -> None:
    client = make_client(tmp_path)
    assert client.get("/").text == "home"
    assert client.get("/login/").text == "login page"
    review = client.get("/review/3f1c2d0e-token/")
    assert (review.status_code, review.text) == (200, "review shell")
    asset = client.get("/_next/static/app.js")
    assert "immutable" in asset.headers["cache-control"]
    missing = client.get("/no/such/page/")
    assert (missing.status_code, missing.text) == (404, "not found page")


def test_api_docs_admin_are_not_shadowed(tmp_path: Path) -> None:
    client = make_client(tmp_path)
    assert client.get("/api/ping/").json() == {"ok": True}
    unknown_api = client.get("/api/nope/")
    assert unknown_api.status_code == 404
    assert unknown_api.headers["content-type"].startswith("application/json")
    assert client.get("/admin/").json() == {"admin": "yes"}
    assert client.post("/api/nope/").status_code == 404


def test_no_file_outside_the_export(tmp_path: Path) -> None:
    client = make_client(tmp_path)
    for path in ("/../secret.txt", "/%2e%2e/secret.txt", "/review/..%2F..%2Fsecret.txt"):
        assert "secret" not in client.get(path).text


def test_nothing_mounted_without_a_build(tmp_path: Path) -> None:
    app = FastAPI()
    mount_spa(app, tmp_path / "missing")
    assert TestClient(app).get("/").status_code == 404
