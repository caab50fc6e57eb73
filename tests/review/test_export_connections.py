"""The export holds no pooled database connection while it downloads thumbnails (S3 may be slow)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from core.db import create_engine, create_sessionmaker
from core.export import ExportScope, build_storyboard
from core.models import Project
from core.settings import Settings
from core.storage import Storage
from tests.builders import make_asset, make_box, make_project, register


class ConnectionsSeenStorage(Storage):
    """The real S3 adapter, noting how many pooled connections were checked out at each download."""

    def __init__(self, settings: Settings, engine: AsyncEngine) -> None:
        super().__init__(settings)
        self.engine = engine
        self.checked_out: list[int] = []

    def get_bytes(self, key: str) -> bytes:
        self.checked_out.append(self.engine.sync_engine.pool.checkedout())  # type: ignore[attr-defined]
        return super().get_bytes(key)


async def test_no_connection_is_held_while_thumbnails_download(client, sessionmaker, storage, settings):
    headers = await register(client)
    project = await make_project(client, headers)
    for n in range(3):
        box = await make_box(client, headers, project["id"])
        await make_asset(sessionmaker, box["id"], storage=storage, prompt=f"shot {n}")
    engine = create_engine(settings)
    watching = ConnectionsSeenStorage(settings, engine)
    try:
        async with create_sessionmaker(engine)() as session:
            owned = await session.get(Project, project["id"])
            assert owned is not None
            export = await build_storyboard(session, watching, owned, ExportScope.ALL)
            export.file.close()
    finally:
        await engine.dispose()
    assert len(watching.checked_out) == 3
    assert watching.checked_out == [0, 0, 0]
