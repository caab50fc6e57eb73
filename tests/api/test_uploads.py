"""Uploads are decoded safely: truncated files and pixel bombs answer 422 before any large allocation, thumbnails
of big JPEGs are decoded at reduced scale, and an upload over Kie.ai's 10 MB input limit is stored as a copy Kie.ai
accepts. Inputs over that limit that exist anyway are refused up front by edit and animate."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from PIL import Image
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from core.models import Asset
from core.settings import Settings
from core.storage import Storage
from tests.builders import make_asset, make_box, make_project, register

ROOT = Path(__file__).resolve().parents[2]


async def setup_box(client: httpx.AsyncClient) -> tuple[dict[str, str], dict]:
    headers = await register(client)
    project = await make_project(client, headers)
    return headers, await make_box(client, headers, project["id"])


def encoded(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def noise_png(width: int, height: int) -> bytes:
    """A PNG that does not compress: about 3 bytes per pixel."""
    return encoded(Image.frombytes("RGB", (width, height), os.urandom(width * height * 3)), "PNG")


async def upload(
    client: httpx.AsyncClient, headers: dict[str, str], box: dict, data: bytes
) -> httpx.Response:
    return await client.post(
        f"/api/boxes/{box['id']}/upload/", files={"file": ("image", data, "image/png")}, headers=headers
    )


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
async def test_a_truncated_image_is_refused(client: httpx.AsyncClient, fmt: str) -> None:
    headers, box = await setup_box(client)
    whole = encoded(Image.frombytes("RGB", (256, 256), os.urandom(256 * 256 * 3)), fmt)
    response = await upload(client, headers, box, whole[: len(whole) // 2])
    assert response.status_code == 422, response.text
    assert "not a complete image" in response.json()["detail"]


@pytest.mark.parametrize("side", [9000, 7000])
async def test_an_image_with_too_many_pixels_is_refused_from_its_header(
    client: httpx.AsyncClient, side: int
) -> None:
    headers, box = await setup_box(client)
    bomb = encoded(Image.new("1", (side, side)), "PNG")  # a few KB that would decode to 100+ MB
    assert len(bomb) < 100_000
    response = await upload(client, headers, box, bomb)
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert f"{side} x {side}" in detail and "at most 25 megapixels" in detail


def read_in_fresh_process(image_path: Path, max_pixels: int) -> tuple[str, float]:
    """Whether a fresh process read or refused the image, and how many MB its peak RSS grew meanwhile."""
    script = f"""
import json, resource, sys
from core.media import UnsupportedMedia, read_image
data = open({str(image_path)!r}, "rb").read()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    read_image(data, max_pixels={max_pixels})
    outcome = "read"
except UnsupportedMedia:
    outcome = "refused"
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"outcome": outcome, "growth_mb": (after - before) / 1024}}))
"""
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=True,
    )
    facts = json.loads(result.stdout)
    return str(facts["outcome"]), float(facts["growth_mb"])


def test_reading_a_big_jpeg_decodes_it_at_thumbnail_scale(tmp_path: Path) -> None:
    path = tmp_path / "big.jpg"
    path.write_bytes(encoded(Image.new("RGB", (6000, 6000), "teal"), "JPEG"))  # 36 Mpx: 108 MB as RGB
    outcome, growth = read_in_fresh_process(path, max_pixels=40_000_000)
    assert outcome == "read" and growth < 40, growth


@pytest.mark.parametrize("mode", ["1", "P"])
def test_a_palette_or_1_bit_image_under_the_cap_is_shrunk_before_its_colour_conversion(
    tmp_path: Path, mode: str
) -> None:
    # 24.5 Mpx that compress to a few KB: a full-size RGB copy would be 73 MB on top of the 24.5 MB decode.
    path = tmp_path / f"flat-{mode}.png"
    path.write_bytes(encoded(Image.new(mode, (4900, 5000)), "PNG"))
    outcome, growth = read_in_fresh_process(path, max_pixels=25_000_000)
    assert outcome == "read" and growth < 50, growth


def test_a_pixel_bomb_is_refused_before_decoding(tmp_path: Path) -> None:
    path = tmp_path / "bomb.png"
    path.write_bytes(encoded(Image.new("1", (9000, 9000)), "PNG"))
    outcome, growth = read_in_fresh_process(path, max_pixels=40_000_000)
    assert outcome == "refused" and growth < 20, growth


async def test_an_upload_over_kies_input_limit_is_stored_as_a_copy_kie_accepts(
    client: httpx.AsyncClient, storage: Storage, settings: Settings
) -> None:
    headers, box = await setup_box(client)
    original = noise_png(2000, 2000)
    assert settings.kie_max_input_bytes < len(original) < settings.max_upload_bytes
    response = await upload(client, headers, box, original)
    assert response.status_code == 201, response.text
    asset = response.json()
    assert asset["mime_type"] == "image/jpeg" and (asset["width"], asset["height"]) == (2000, 2000)
    stored = storage.get_bytes(f"assets/{asset['id']}/original.jpg")
    assert len(stored) == asset["size_bytes"] <= settings.kie_max_input_bytes
    with Image.open(io.BytesIO(stored)) as image:
        assert image.size == (2000, 2000)

    # With transparency the copy is a WebP, which keeps it.
    rgba = Image.frombytes("RGBA", (1800, 1800), os.urandom(1800 * 1800 * 4))
    response = await upload(client, headers, box, encoded(rgba, "PNG"))
    assert response.status_code == 201, response.text
    assert response.json()["mime_type"] == "image/webp"
    assert response.json()["size_bytes"] <= settings.kie_max_input_bytes


async def test_edit_and_animate_refuse_an_input_image_over_kies_limit(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], storage: Storage
) -> None:
    headers, box = await setup_box(client)
    image = await make_asset(sessionmaker, box["id"], storage=storage)
    async with sessionmaker() as session:  # e.g. stored before uploads were fitted to the limit
        await session.exec(sa.update(Asset).where(Asset.id == image.id).values(size_bytes=12_300_000))  # type: ignore[call-overload]
        await session.commit()
    edit = await client.post(
        f"/api/boxes/{box['id']}/generate/",
        json={"model": "google/nano-banana-edit", "prompt": "add a hat", "input_asset_ids": [image.id]},
        headers=headers,
    )
    assert edit.status_code == 422, edit.text
    assert "12.3 MB" in edit.json()["detail"] and "up to 10 MB" in edit.json()["detail"]
    animate = await client.post(
        f"/api/assets/{image.id}/animate/", json={"prompt": "push in"}, headers=headers
    )
    assert animate.status_code == 422, animate.text
    assert "12.3 MB" in animate.json()["detail"]
