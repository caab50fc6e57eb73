"""Download the original: a redirect to the file that tells the browser to save it under the shot's name, so it works
when the bucket is on another origin (where `<a download>` is ignored: `make dev`, an external S3 or a CDN)."""

from __future__ import annotations

import httpx

from core.contract import AssetStatus
from tests.builders import make_asset, make_box, make_project, png_bytes, register


async def test_the_original_downloads_as_an_attachment_named_after_the_shot(client, sessionmaker, storage):
    headers = await register(client)
    project = await make_project(client, headers)
    box = await make_box(client, headers, project["id"])
    asset = await make_asset(sessionmaker, box["id"], storage=storage)

    response = await client.get(f"/api/assets/{asset.id}/download/", headers=headers)
    assert response.status_code == 307
    async with httpx.AsyncClient() as browser:
        file = await browser.get(response.headers["location"])
    assert file.status_code == 200
    assert file.headers["content-disposition"] == f'attachment; filename="{box["code"]}-image-{asset.id}.png"'
    assert file.content == png_bytes()


async def test_an_asset_without_a_file_yet_is_a_409_with_a_sentence(client, sessionmaker):
    headers = await register(client)
    project = await make_project(client, headers)
    box = await make_box(client, headers, project["id"])
    running = await make_asset(sessionmaker, box["id"], status=AssetStatus.RUNNING)
    response = await client.get(f"/api/assets/{running.id}/download/", headers=headers)
    assert response.status_code == 409
    assert response.json()["detail"] == "This asset has no file to download yet (it is RUNNING)."
