"""Small builders: each test makes its own user and everything under it."""

from __future__ import annotations

import contextlib
import io
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
from PIL import Image
from sqlalchemy import event
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlalchemy.orm import Session
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.contract import AssetKind, AssetStatus
from core.models import AIModel, Asset, Membership, StudioRole, User
from core.settings import Settings
from core.storage import Storage, asset_file_key, asset_thumbnail_key

PASSWORD = "correct horse battery"


@contextlib.asynccontextmanager
async def app_client(settings: Settings, peer: str = "127.0.0.1") -> AsyncIterator[httpx.AsyncClient]:
    """An API app of its own with these settings (e.g. a service cut off), its lifespan run, reached in-process
    from the address `peer`."""
    from api.main import create_app

    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=(peer, 123))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


@contextlib.contextmanager
def connection_lost_at_commit(sessionmaker: async_sessionmaker[AsyncSession]) -> Iterator[Callable[[], None]]:
    """Yields `arm()`: after each call, the next commit of a session of this sessionmaker's class (any app in the
    process) first kills its own PostgreSQL backend, so the commit fails as when the database goes away right then
    (after the route returned, at the session dependency's commit)."""
    armed = [False]

    def terminate_own_backend(session: Session) -> None:
        if armed[0]:
            armed[0] = False
            session.connection().exec_driver_sql("SELECT pg_terminate_backend(pg_backend_pid())")

    def arm() -> None:
        armed[0] = True

    sync_session = sessionmaker.class_.sync_session_class
    event.listen(sync_session, "before_commit", terminate_own_backend)
    try:
        yield arm
    finally:
        event.remove(sync_session, "before_commit", terminate_own_backend)


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}@example.com"


async def register(client: httpx.AsyncClient, **overrides: Any) -> dict[str, str]:
    """Register a fresh user, log in, and return the Authorization header."""
    body = {"email": unique_email(), "password": PASSWORD, "display_name": "Test User", **overrides}
    response = await client.post("/api/auth/register/", json=body)
    assert response.status_code == 201, response.text
    login = await client.post("/api/auth/login/", json={"email": body["email"], "password": body["password"]})
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


async def lift_spend_limits(
    client: httpx.AsyncClient, headers: dict[str, str], sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """For a test about something else that starts more generations at once than the default running cap."""
    user_id = (await client.get("/api/auth/me/", headers=headers)).json()["id"]
    async with sessionmaker() as session:
        user = await session.get(User, user_id)
        assert user is not None
        user.daily_credit_budget, user.max_running_generations = 1e9, 1000
        session.add(user)
        await session.commit()


async def add_member(
    sessionmaker: async_sessionmaker[AsyncSession], studio_id: int, user_id: int, role: StudioRole | str
) -> None:
    """Put the user in the studio with `role`, straight in the database (the invite flow has its own tests)."""
    async with sessionmaker() as session:
        session.add(Membership(studio_id=studio_id, user_id=user_id, role=StudioRole(role)))
        await session.commit()


async def make_project(
    client: httpx.AsyncClient, headers: dict[str, str], **overrides: Any
) -> dict[str, Any]:
    response = await client.post("/api/projects/", json={"name": "Spot", **overrides}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def make_box(
    client: httpx.AsyncClient, headers: dict[str, str], project_id: int, **overrides: Any
) -> dict[str, Any]:
    response = await client.post(
        f"/api/projects/{project_id}/boxes/", json={"title": "Shot", **overrides}, headers=headers
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def png_bytes(size: tuple[int, int] = (64, 48), color: str = "orange") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


async def model_id(sessionmaker: async_sessionmaker[AsyncSession], provider_model_id: str) -> int:
    async with sessionmaker() as session:
        model = (
            await session.exec(select(AIModel).where(AIModel.provider_model_id == provider_model_id))
        ).one()
        assert model.id is not None
        return model.id


async def make_asset(
    sessionmaker: async_sessionmaker[AsyncSession],
    box_id: int,
    *,
    storage: Storage | None = None,
    status: AssetStatus = AssetStatus.COMPLETED,
    kind: AssetKind = AssetKind.IMAGE,
    model: str = "google/nano-banana",
    **overrides: Any,
) -> Asset:
    """Insert an asset row directly; with `storage`, a COMPLETED image also gets real S3 objects."""
    async with sessionmaker() as session:
        asset = Asset(
            box_id=box_id,
            kind=kind,
            status=status,
            prompt=overrides.pop("prompt", "a red fox at dawn"),
            model_id=await model_id(sessionmaker, model),
            params=overrides.pop("params", {"aspect_ratio": "1:1"}),
            **overrides,
        )
        session.add(asset)
        await session.flush()
        assert asset.id is not None
        if storage is not None and status is AssetStatus.COMPLETED:
            data = png_bytes()
            asset.file_key = asset_file_key(asset.id, "png")
            asset.thumbnail_key = asset_thumbnail_key(asset.id)
            storage.put_bytes(asset.file_key, data, "image/png")
            storage.put_bytes(asset.thumbnail_key, data, "image/jpeg")
            asset.mime_type, asset.size_bytes, asset.width, asset.height = "image/png", len(data), 64, 48
        session.add(asset)
        await session.commit()
        await session.refresh(asset)
        return asset
