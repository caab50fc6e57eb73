"""Builders for review tests: a project with shots, headliners, videos and hidden variants, and its share link."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from core.contract import AssetKind
from core.models import Asset, SharedLink
from core.storage import Storage
from tests.builders import make_asset, make_box, make_project


@dataclass
class Shot:
    box: dict[str, Any]
    headliner: Asset | None = None
    video: Asset | None = None
    hidden: list[Asset] = field(default_factory=list)


@dataclass
class Storyboard:
    project: dict[str, Any]
    shots: list[Shot]


async def set_headliner(
    client: httpx.AsyncClient, headers: dict[str, str], box_id: int, asset_id: int
) -> None:
    response = await client.patch(f"/api/boxes/{box_id}/", json={"headliner_id": asset_id}, headers=headers)
    assert response.status_code == 200, response.text


async def make_storyboard(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    sessionmaker: async_sessionmaker[AsyncSession],
    storage: Storage,
    *,
    name: str = "Spot",
) -> Storyboard:
    """Shot 1: headliner image + a video from it + a hidden variant; shot 2: headliner only; shot 3: nothing chosen."""
    project = await make_project(client, headers, name=name)
    shots = []
    for index, title in enumerate(("Opening", "Close-up", "Wide"), start=1):
        box = await make_box(client, headers, project["id"], title=title)
        shot = Shot(box=box)
        if index <= 2:
            shot.headliner = await make_asset(
                sessionmaker, box["id"], storage=storage, prompt=f"{name} headliner prompt {index}"
            )
            assert shot.headliner.id is not None
            await set_headliner(client, headers, box["id"], shot.headliner.id)
        if index == 1:
            assert shot.headliner is not None
            shot.video = await make_asset(
                sessionmaker,
                box["id"],
                storage=storage,
                kind=AssetKind.VIDEO,
                model="bytedance/seedance-1.5-pro",
                prompt=f"{name} video prompt",
                source_asset_id=shot.headliner.id,
            )
        shot.hidden.append(
            await make_asset(
                sessionmaker, box["id"], storage=storage, prompt=f"{name} secret variant {index}"
            )
        )
        shots.append(shot)
    return Storyboard(project=project, shots=shots)


async def share(
    client: httpx.AsyncClient, headers: dict[str, str], project_id: int, **body: Any
) -> dict[str, Any]:
    response = await client.post(f"/api/projects/{project_id}/share-links/", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def expire_link(sessionmaker: async_sessionmaker[AsyncSession], link_id: int) -> None:
    async with sessionmaker() as session:
        await session.exec(
            sa.update(SharedLink)
            .where(SharedLink.id == link_id)  # type: ignore[arg-type]
            .values(expires_at=datetime.now(UTC) - timedelta(minutes=1))
        )
        await session.commit()


def future(days: int = 7) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()
