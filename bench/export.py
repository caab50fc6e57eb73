"""Storyboard export benchmark: a 300-shot project with 1024-px images, exported through the API in both scopes.

Starts PostgreSQL, Redis and S3 (`bench.harness`: no Temporal), fills the project (per shot: a headliner image, a
second image variant and a video animated from the headliner; 256-px JPEG thumbnails), then times
`GET /api/projects/{id}/export/?scope=...` and samples the process RSS while it runs. Prints, never asserts.

    PYTHONPATH=. .venv/bin/python -m bench.export [--shots 300]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from docx import Document
from PIL import Image, ImageDraw

from bench.harness import (
    PeakRss,
    Server,
    api_server,
    app_env,
    create_project,
    embedded_services,
    make_owner,
    settings_of,
)

TARGET_SECONDS = 10.0
TARGET_RSS_MB = 300.0
IMAGE_SIZE = 1024
THUMBNAIL_SIZE = 256


def shot_images(index: int) -> tuple[bytes, bytes]:
    """A distinct 1024-px PNG and its 256-px JPEG thumbnail (distinct so the .docx cannot deduplicate them)."""
    image = Image.new(
        "RGB", (IMAGE_SIZE, IMAGE_SIZE), ((index * 37) % 256, (index * 91) % 256, (index * 53) % 256)
    )
    draw = ImageDraw.Draw(image)
    for step in range(0, IMAGE_SIZE, 64):
        draw.line([(0, step), (IMAGE_SIZE, (step + index * 7) % IMAGE_SIZE)], fill=(255, 255, 255), width=3)
        draw.ellipse([step, step, step + 40 + index % 50, step + 40], outline=(0, 0, 0), width=4)
    draw.text((40, 40), f"shot {index}", fill=(255, 255, 255))
    original = io.BytesIO()
    image.save(original, format="PNG", compress_level=1)
    image.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE))
    thumbnail = io.BytesIO()
    image.save(thumbnail, format="JPEG", quality=85)
    return original.getvalue(), thumbnail.getvalue()


async def fill_project(app: Any, shots: int) -> tuple[int, dict[str, str]]:
    from sqlmodel import select
    from sqlmodel.ext.asyncio.session import AsyncSession

    from core.boxes import format_code
    from core.contract import AssetKind, AssetStatus
    from core.models import AIModel, Asset, Box, Project
    from core.storage import Storage, asset_file_key, asset_thumbnail_key

    state = app.state
    storage: Storage = state.storage
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
        headers = await make_owner(client)
        project_id = await create_project(client, headers, "Bench spot")

    images: list[tuple[int, str, str]] = []  # (index, original key, thumbnail key): generated at upload time
    placeholders: list[str] = []
    session: AsyncSession
    async with state.sessionmaker() as session:
        project = await session.get(Project, project_id)
        assert project is not None
        models = {m.provider_model_id: m.id for m in (await session.exec(select(AIModel))).all()}
        for shot in range(shots):
            box = Box(
                project_id=project_id,
                position=shot + 1,
                code=format_code((shot + 1) * 10),
                title=f"Shot {shot + 1}",
            )
            session.add(box)
            await session.flush()
            assets = []
            for variant in range(2):
                asset = Asset(
                    box_id=box.id,  # type: ignore[arg-type]
                    kind=AssetKind.IMAGE,
                    status=AssetStatus.COMPLETED,
                    prompt=f"Shot {shot + 1}, variant {variant + 1}: a lighthouse keeper at dusk, 35 mm, rain",
                    model_id=models["google/nano-banana"],
                    params={"aspect_ratio": "1:1"},
                    mime_type="image/png",
                    width=IMAGE_SIZE,
                    height=IMAGE_SIZE,
                )
                session.add(asset)
                await session.flush()
                assert asset.id is not None
                asset.file_key = asset_file_key(asset.id, "png")
                asset.thumbnail_key = asset_thumbnail_key(asset.id)
                images.append((shot * 2 + variant, asset.file_key, asset.thumbnail_key))
                assets.append(asset)
            headliner = assets[0]
            video = Asset(
                box_id=box.id,  # type: ignore[arg-type]
                kind=AssetKind.VIDEO,
                status=AssetStatus.COMPLETED,
                prompt=f"Shot {shot + 1}: slow push-in",
                model_id=models["bytedance/seedance-1.5-pro"],
                source_asset_id=headliner.id,
                mime_type="video/mp4",
            )
            session.add(video)
            await session.flush()
            assert video.id is not None
            video.file_key = asset_file_key(video.id, "mp4")
            placeholders.append(video.file_key)
            box.headliner_id = headliner.id
        await session.commit()

    def upload(item: tuple[int, str, str]) -> int:
        index, original_key, thumbnail_key = item
        original, thumbnail = shot_images(index)
        storage.put_bytes(original_key, original, "image/png")
        storage.put_bytes(thumbnail_key, thumbnail, "image/jpeg")
        return len(original) + len(thumbnail)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=4) as pool:
        total = sum(pool.map(upload, images))
        list(
            pool.map(
                lambda key: storage.put_bytes(key, b"\x00\x00\x00\x18ftypmp42", "video/mp4"), placeholders
            )
        )
    print(
        f"generated and uploaded {len(images)} images of {IMAGE_SIZE} px with {THUMBNAIL_SIZE}-px thumbnails "
        f"({total / 1e6:.0f} MB) in {time.perf_counter() - started:.1f} s"
    )
    return project_id, headers


async def export_both_scopes(api: Server, project_id: int, headers: dict[str, str]) -> None:
    """Export through a fresh API process (real HTTP), so the RSS sampled is the server's alone, not the bench's."""
    async with httpx.AsyncClient(base_url=api.url, timeout=300) as client:
        print(f"API process RSS when idle: {api.rss() / 1e6:.1f} MB")
        for scope in ("headliners", "all"):
            with PeakRss(api.pid, interval=0.005) as sampler:
                started = time.perf_counter()
                response = await client.get(
                    f"/api/projects/{project_id}/export/", params={"scope": scope}, headers=headers
                )
                elapsed = time.perf_counter() - started
            assert response.status_code == 200, response.text
            document = Document(io.BytesIO(response.content))
            rows = len(document.tables[0].rows) - 1
            images = len(document.inline_shapes)
            print(
                f"scope={scope:<10} rows={rows:<4} images={images:<4} size={len(response.content) / 1e6:5.1f} MB  "
                f"time={elapsed:5.2f} s (target ≤ {TARGET_SECONDS:.0f} s)  "
                f"API peak RSS={sampler.peak / 1e6:6.1f} MB (target ≤ {TARGET_RSS_MB:.0f} MB; "
                f"+{(sampler.peak - sampler.baseline) / 1e6:.1f} MB during this export)"
            )


async def run(shots: int) -> None:
    from api.main import create_app

    with embedded_services("export", temporal=False) as stack:
        env = app_env(stack)
        app = create_app(settings_of(env))
        async with app.router.lifespan_context(app):
            project_id, headers = await fill_project(app, shots)
        with api_server(env, stack.data_dir / "logs") as api:
            await export_both_scopes(api, project_id, headers)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--shots", type=int, default=300)
    args = parser.parse_args()
    asyncio.run(run(args.shots))


if __name__ == "__main__":
    main()
