"""The storyboard export: a .docx with a title and one table row per asset (shot, thumbnail, prompt, model, seed,
status), built from thumbnails only, page by page, into a spooled temporary file the API streams back.
"""

from __future__ import annotations

import asyncio
import io
import re
import tempfile
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import IO, Any

import sqlalchemy as sa
from botocore.exceptions import BotoCoreError, ClientError
from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.section import WD_ORIENT
from docx.shared import Inches, Pt
from docx.table import Table
from PIL import Image
from sqlalchemy.orm import aliased
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from core.errors import UpstreamUnavailable
from core.models import AIModel, Asset, AssetKind, AssetStatus, Box, Project
from core.storage import Storage

DOCX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PAGE_SIZE = 100
SPOOL_MAX_BYTES = 16 * 1024 * 1024
STREAM_CHUNK_BYTES = 64 * 1024
THUMBNAIL_BOX = Inches(1.5)
NO_VALUE = "—"
HEADER = ("Shot", "Image", "Prompt", "Model", "Seed", "Status")
COLUMN_WIDTHS = (Inches(0.8), Inches(1.7), Inches(3.6), Inches(1.4), Inches(0.9), Inches(1.1))


class ExportScope(StrEnum):
    HEADLINERS = "headliners"
    ALL = "all"


@dataclass(frozen=True)
class ModelInfo:
    name: str
    supports_seed: bool


@dataclass(frozen=True)
class ExportRow:
    position: int
    box_title: str
    asset_id: int
    created_at: datetime
    kind: AssetKind
    status: AssetStatus
    prompt: str
    seed: int | None
    model: ModelInfo | None
    thumbnail_key: str | None
    is_headliner: bool

    @property
    def seed_text(self) -> str:
        # A seed the model ignores would be a lie in a storyboard: only models that take one show it.
        if self.seed is None or self.model is None or not self.model.supports_seed:
            return NO_VALUE
        return str(self.seed)


@dataclass
class ExportFile:
    """The finished document in a spooled temporary file, ready to stream; iterate once, it closes itself."""

    file: IO[bytes]
    size: int
    filename: str

    def chunks(self) -> Iterator[bytes]:
        try:
            self.file.seek(0)
            while chunk := self.file.read(STREAM_CHUNK_BYTES):
                yield chunk
        finally:
            self.file.close()


def export_filename(project: Project, scope: ExportScope) -> str:
    ascii_name = unicodedata.normalize("NFKD", project.name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^A-Za-z0-9]+", "-", ascii_name).strip("-").lower()[:60] or "project"
    return f"storyboard-{slug}-{scope.value}.docx"


async def _load_models(session: AsyncSession) -> dict[int, ModelInfo]:
    connection = await session.connection()
    rows = (
        await connection.execute(
            sa.select(col(AIModel.id), col(AIModel.display_name), col(AIModel.capabilities))
        )
    ).all()
    return {
        model_id: ModelInfo(name=name, supports_seed=bool((capabilities or {}).get("supports_seed")))
        for model_id, name, capabilities in rows
    }


async def _iter_pages(
    session: AsyncSession, project_id: int, scope: ExportScope, models: dict[int, ModelInfo]
) -> Any:
    """Rows in shot order (then oldest first within a shot), PAGE_SIZE at a time with keyset pagination."""
    source = aliased(Asset)
    query = (
        sa.select(
            col(Box.position),
            col(Box.title),
            col(Box.headliner_id),
            col(Asset.id),
            col(Asset.created_at),
            col(Asset.kind),
            col(Asset.status),
            col(Asset.prompt),
            col(Asset.seed),
            col(Asset.model_id),
            col(Asset.thumbnail_key),
            col(source.thumbnail_key),
        )
        .select_from(Asset)
        .join(Box, col(Box.id) == col(Asset.box_id))
        .outerjoin(source, col(source.id) == col(Asset.source_asset_id))
        .where(col(Box.project_id) == project_id)
        .order_by(col(Box.position), col(Asset.created_at), col(Asset.id))
        .limit(PAGE_SIZE)
    )
    if scope is ExportScope.HEADLINERS:
        query = query.where(col(Box.headliner_id) == col(Asset.id))
    after: tuple[int, datetime, int] | None = None
    connection = await session.connection()
    while True:
        page_query = query
        if after is not None:
            page_query = query.where(
                sa.tuple_(col(Box.position), col(Asset.created_at), col(Asset.id)) > sa.tuple_(*after)
            )
        rows: list[Any] = list((await connection.execute(page_query)).all())
        if not rows:
            return
        page = []
        for (
            position,
            title,
            headliner_id,
            asset_id,
            created_at,
            kind,
            status,
            prompt,
            seed,
            model_id,
            thumbnail_key,
            source_thumbnail_key,
        ) in rows:
            # A video shows the image it was animated from; its own poster frame only when that image is gone.
            key = (source_thumbnail_key or thumbnail_key) if kind is AssetKind.VIDEO else thumbnail_key
            page.append(
                ExportRow(
                    position=position,
                    box_title=title,
                    asset_id=asset_id,
                    created_at=created_at,
                    kind=kind,
                    status=status,
                    prompt=prompt,
                    seed=seed,
                    model=models.get(model_id) if model_id is not None else None,
                    thumbnail_key=key,
                    is_headliner=headliner_id == asset_id,
                )
            )
        yield page
        if len(rows) < PAGE_SIZE:
            return
        last = page[-1]
        after = (last.position, last.created_at, last.asset_id)


def _fetch_thumbnail(storage: Storage, key: str | None) -> bytes | None:
    if not key:
        return None
    try:
        return storage.get_bytes(key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
            return None  # the row still goes into the storyboard, without a picture
        raise UpstreamUnavailable(
            "The file storage refused a thumbnail download; try the export again."
        ) from exc
    except BotoCoreError as exc:
        raise UpstreamUnavailable("The file storage is unreachable; try the export again.") from exc


def _new_document(project: Project, scope: ExportScope) -> tuple[DocumentObject, Table]:
    document = Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = section.page_height, section.page_width
    for margin in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, margin, Inches(0.5))
    document.core_properties.title = f"{project.name} — storyboard"
    document.add_heading(project.name, level=0)
    label = "headliners" if scope is ExportScope.HEADLINERS else "all assets"
    document.add_paragraph(f"Storyboard ({label}), exported {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    if project.description:
        document.add_paragraph(project.description)
    table = document.add_table(rows=1, cols=len(HEADER))
    table.style = "Table Grid"
    table.autofit = False
    for cell, text, width in zip(table.rows[0].cells, HEADER, COLUMN_WIDTHS, strict=True):
        cell.width = width
        cell.paragraphs[0].add_run(text).bold = True
    return document, table


def _add_picture(cell: Any, data: bytes | None) -> None:
    paragraph = cell.paragraphs[0]
    if data is None:
        paragraph.add_run(NO_VALUE)
        return
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
        size = {"width": THUMBNAIL_BOX} if width >= height else {"height": THUMBNAIL_BOX}
        paragraph.add_run().add_picture(io.BytesIO(data), **size)
    except Exception:
        paragraph.add_run(NO_VALUE)


def _add_rows(table: Table, rows: list[ExportRow], images: list[bytes | None]) -> None:
    for row, data in zip(rows, images, strict=True):
        cells = table.add_row().cells  # type: ignore[no-untyped-call]
        for cell, width in zip(cells, COLUMN_WIDTHS, strict=True):
            cell.width = width
        shot = cells[0].paragraphs[0]
        shot.add_run(str(row.position)).bold = True
        if row.box_title:
            title = cells[0].add_paragraph(row.box_title)
            title.runs[0].font.size = Pt(8)
        _add_picture(cells[1], data)
        cells[2].paragraphs[0].add_run(row.prompt or NO_VALUE)
        cells[3].paragraphs[0].add_run(row.model.name if row.model is not None else NO_VALUE)
        cells[4].paragraphs[0].add_run(row.seed_text)
        cells[5].paragraphs[0].add_run(row.status.value)
        notes = [row.kind.value]
        if row.is_headliner:
            notes.append("headliner")
        cells[5].add_paragraph(", ".join(notes)).runs[0].font.size = Pt(8)


def _save(document: DocumentObject) -> tuple[IO[bytes], int]:
    spooled = tempfile.SpooledTemporaryFile(max_size=SPOOL_MAX_BYTES, mode="w+b")  # noqa: SIM115 — closed by chunks()
    try:
        document.save(spooled)
        size = spooled.tell()
    except BaseException:
        spooled.close()
        raise
    return spooled, size


async def build_storyboard(
    session: AsyncSession, storage: Storage, project: Project, scope: ExportScope
) -> ExportFile:
    """Build the document page by page: each page's thumbnails are downloaded in parallel, embedded, and let go."""
    assert project.id is not None
    models = await _load_models(session)
    document, table = await asyncio.to_thread(_new_document, project, scope)
    rows_written = 0
    async for page in _iter_pages(session, project.id, scope, models):
        images = await asyncio.gather(
            *(asyncio.to_thread(_fetch_thumbnail, storage, row.thumbnail_key) for row in page)
        )
        await asyncio.to_thread(_add_rows, table, page, list(images))
        rows_written += len(page)
    if rows_written == 0:
        what = "headliners" if scope is ExportScope.HEADLINERS else "assets"
        document.add_paragraph(f"This project has no {what} yet.")
    file, size = await asyncio.to_thread(_save, document)
    return ExportFile(file=file, size=size, filename=export_filename(project, scope))
