"""The storyboard export: a .docx with a title and one table row per asset (shot, thumbnail, prompt, model, seed,
status), built from thumbnails only, page by page, into a spooled temporary file the API streams back.
Every shot has at least one row: a shot with nothing to show yet gets a placeholder row, so the storyboard stays whole.
"""

from __future__ import annotations

import asyncio
import logging
import re
import tempfile
import time
import unicodedata
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import IO, Any
from xml.sax.saxutils import escape

import sqlalchemy as sa
from botocore.exceptions import BotoCoreError, ClientError
from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.section import WD_ORIENT
from docx.image.image import Image as DocxImage
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.opc.packuri import PackURI
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls
from docx.oxml.shape import CT_Inline
from docx.parts.image import ImagePart
from docx.shared import Inches, Length
from docx.table import Table, _Cell
from sqlalchemy.orm import aliased
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from core.contract import AssetKind, AssetStatus
from core.db import release_connection
from core.errors import S3Unavailable, UpstreamUnavailable
from core.models import AIModel, Asset, Box, Project
from core.storage import Storage

logger = logging.getLogger(__name__)

DOCX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PAGE_SIZE = 100
DOWNLOAD_THREADS = 8  # below botocore's default pool of 10 connections
SPOOL_MAX_BYTES = 16 * 1024 * 1024
STREAM_CHUNK_BYTES = 64 * 1024
THUMBNAIL_BOX = Inches(1.5)
NO_VALUE = "—"
NO_HEADLINER = "No image selected yet"
NO_ASSETS = "No images yet"
PLACEHOLDER_FILL = "E7E7E3"  # the grey box that stands where a shot's picture will be
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
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
class ExportAsset:
    asset_id: int
    kind: AssetKind
    status: AssetStatus
    prompt: str
    seed: int | None
    model: ModelInfo | None
    is_headliner: bool

    @property
    def seed_text(self) -> str:
        # A seed the model ignores would be a lie in a storyboard: only models that take one show it.
        if self.seed is None or self.model is None or not self.model.supports_seed:
            return NO_VALUE
        return str(self.seed)


@dataclass(frozen=True)
class ExportRow:
    """One table row: an asset of a shot, or (asset None) the placeholder of a shot with nothing to show yet."""

    position: int
    box_code: str
    box_title: str
    asset: ExportAsset | None
    thumbnail_key: str | None
    page_key: tuple[int, int, datetime, int]  # where the next page starts (keyset pagination)


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


def xml_safe(text: str) -> str:
    """Word documents cannot hold most control characters; a prompt that contains one must not break the export."""
    return _NOT_XML.sub("", text)


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
    """Rows in shot order (then oldest first within a shot), PAGE_SIZE at a time with keyset pagination.

    Boxes are outer-joined to their assets, so a shot without a headliner (or, for `all`, without any asset) still
    yields one row, with no asset. Such a row is alone in its shot, so the box's own creation time and asset id 0
    stand in for the asset's in the page key.
    """
    source = aliased(Asset)
    shown = (
        col(Asset.id) == col(Box.headliner_id)
        if scope is ExportScope.HEADLINERS
        else col(Asset.box_id) == col(Box.id)
    )
    created_key = sa.func.coalesce(col(Asset.created_at), col(Box.created_at))
    asset_key = sa.func.coalesce(col(Asset.id), 0)
    key = (col(Box.position), col(Box.id), created_key, asset_key)
    query = (
        sa.select(
            *key,
            col(Box.code),
            col(Box.title),
            col(Box.headliner_id),
            col(Asset.id),
            col(Asset.kind),
            col(Asset.status),
            col(Asset.prompt),
            col(Asset.seed),
            col(Asset.model_id),
            col(Asset.thumbnail_key),
            col(source.thumbnail_key),
        )
        .select_from(Box)
        .outerjoin(Asset, shown)
        .outerjoin(source, col(source.id) == col(Asset.source_asset_id))
        .where(col(Box.project_id) == project_id)
        .order_by(*key)
        .limit(PAGE_SIZE)
    )
    after: tuple[int, int, datetime, int] | None = None
    while True:
        page_query = query
        if after is not None:
            page_query = query.where(sa.tuple_(*key) > sa.tuple_(*after))
        connection = await session.connection()
        rows: list[Any] = list((await connection.execute(page_query)).all())
        # Each page is its own short read (keyset pagination needs no snapshot): while its thumbnails download
        # and it is written into the document, no pooled connection is held.
        await release_connection(session)
        if not rows:
            return
        page = []
        for (
            position,
            box_id,
            created,
            asset_order,
            code,
            title,
            headliner_id,
            asset_id,
            kind,
            status,
            prompt,
            seed,
            model_id,
            thumbnail_key,
            source_thumbnail_key,
        ) in rows:
            asset = None
            if asset_id is not None:
                asset = ExportAsset(
                    asset_id=asset_id,
                    kind=kind,
                    status=status,
                    prompt=prompt,
                    seed=seed,
                    model=models.get(model_id) if model_id is not None else None,
                    is_headliner=headliner_id == asset_id,
                )
            # A video shows the image it was animated from; its own poster frame only when that image is gone.
            picture = (source_thumbnail_key or thumbnail_key) if kind is AssetKind.VIDEO else thumbnail_key
            page.append(
                ExportRow(
                    position=position,
                    box_code=code,
                    box_title=title,
                    asset=asset,
                    thumbnail_key=picture,
                    page_key=(position, box_id, created, asset_order),
                )
            )
        yield page
        if len(rows) < PAGE_SIZE:
            return
        after = page[-1].page_key


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
        raise S3Unavailable("The file store (S3) is unreachable; try the export again.") from exc


def _new_document(project: Project, scope: ExportScope) -> tuple[DocumentObject, Table]:
    document = Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = section.page_height, section.page_width
    for margin in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, margin, Inches(0.5))
    name = xml_safe(project.name)
    document.core_properties.title = f"{name} — storyboard"
    document.add_heading(name, level=0)
    label = "headliners" if scope is ExportScope.HEADLINERS else "all assets"
    document.add_paragraph(f"Storyboard ({label}), exported {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    if project.description:
        document.add_paragraph(xml_safe(project.description))
    table = document.add_table(rows=1, cols=len(HEADER))
    table.style = "Table Grid"
    table.autofit = False
    for column, cell, text, width in zip(
        table.columns, table.rows[0].cells, HEADER, COLUMN_WIDTHS, strict=True
    ):
        column.width = width
        cell.width = width
        cell.paragraphs[0].add_run(text).bold = True
    return document, table


class PictureInserter:
    """Embeds pictures in constant time each.

    python-docx's `add_picture` rescans the whole document for the next shape id, re-hashes every embedded image to
    deduplicate and scans every relationship, which makes a table of n pictures cost O(n²); this keeps the counters
    and the dedup table here.
    Identical thumbnails (a video and its source image) still share one image part.
    """

    def __init__(self, document: DocumentObject) -> None:
        self.part = document.part
        self.package = self.part.package
        self.shared: dict[str, tuple[str, DocxImage]] = {}
        self.next_shape_id = self.part.next_id
        self.next_image_number = len(self.package.image_parts) + 1
        self.next_rel_number = len(self.part.rels) + 1

    def _image_part(self, image: DocxImage) -> tuple[str, DocxImage]:
        found = self.shared.get(image.sha1)
        if found is None:
            partname = PackURI(f"/word/media/image{self.next_image_number}.{image.ext}")
            self.next_image_number += 1
            image_part = ImagePart.from_image(image, partname)
            self.package.image_parts.append(image_part)
            rels = self.part.rels
            while f"rId{self.next_rel_number}" in rels:
                self.next_rel_number += 1
            rid = f"rId{self.next_rel_number}"
            rels.add_relationship(RELATIONSHIP_TYPE.IMAGE, image_part, rid)
            found = (rid, image)
            self.shared[image.sha1] = found
        return found

    def add(self, cell: Any, data: bytes | None, box: Length = THUMBNAIL_BOX) -> None:
        """Put the picture, scaled to fit a `box`-sized square, in the cell; "—" when there is none or it is corrupt."""
        paragraph = cell.paragraphs[0]
        if data is None:
            paragraph.add_run(NO_VALUE)
            return
        try:
            rid, image = self._image_part(DocxImage.from_blob(data))
            landscape = image.px_width >= image.px_height
            cx, cy = image.scaled_dimensions(box if landscape else None, None if landscape else box)
        except Exception:
            paragraph.add_run(NO_VALUE)  # a missing or corrupt thumbnail must not sink the whole storyboard
            return
        inline = CT_Inline.new_pic_inline(self.next_shape_id, rid, image.filename, cx, cy)
        self.next_shape_id += 1
        paragraph.add_run()._r.add_drawing(inline)


def _runs(text: str, *, bold: bool = False, small: bool = False) -> str:
    """WordprocessingML runs for plain text: escaped, line breaks as <w:br/>, tabs as <w:tab/>."""
    props = ("<w:b/>" if bold else "") + ('<w:sz w:val="16"/>' if small else "")
    rpr = f"<w:rPr>{props}</w:rPr>" if props else ""
    parts = []
    for number, line in enumerate(xml_safe(text).split("\n")):
        pieces = [
            f'<w:t xml:space="preserve">{escape(piece)}</w:t>' if piece else "" for piece in line.split("\t")
        ]
        parts.append(("<w:br/>" if number else "") + "<w:tab/>".join(pieces))
    return f"<w:r>{rpr}{''.join(parts)}</w:r>"


def _cell(width: Length, *paragraphs: str, fill: str | None = None) -> str:
    body = "".join(f"<w:p>{runs}</w:p>" for runs in paragraphs) or "<w:p/>"
    shading = (
        f'<w:shd w:val="clear" w:color="auto" w:fill="{fill}"/><w:vAlign w:val="center"/>' if fill else ""
    )
    return f'<w:tc><w:tcPr><w:tcW w:w="{width.twips}" w:type="dxa"/>{shading}</w:tcPr>{body}</w:tc>'


def _row_xml(row: ExportRow, scope: ExportScope) -> str:
    shot = [_runs(row.box_code, bold=True)] + ([_runs(row.box_title, small=True)] if row.box_title else [])
    widths = COLUMN_WIDTHS
    asset = row.asset
    if asset is None:
        waiting = NO_HEADLINER if scope is ExportScope.HEADLINERS else NO_ASSETS
        cells = [
            _cell(widths[0], *shot),
            _cell(widths[1], _runs(waiting, small=True), fill=PLACEHOLDER_FILL),
            *(_cell(width, _runs(NO_VALUE)) for width in widths[2:]),
        ]
        return f"<w:tr {nsdecls('w')}>{''.join(cells)}</w:tr>"
    notes = asset.kind.value + (", headliner" if asset.is_headliner else "")
    cells = [
        _cell(widths[0], *shot),
        _cell(widths[1], ""),
        _cell(widths[2], _runs(asset.prompt if xml_safe(asset.prompt).strip() else NO_VALUE)),
        _cell(widths[3], _runs(asset.model.name if asset.model is not None else NO_VALUE)),
        _cell(widths[4], _runs(asset.seed_text)),
        _cell(widths[5], _runs(asset.status.value), _runs(notes, small=True)),
    ]
    return f"<w:tr {nsdecls('w')}>{''.join(cells)}</w:tr>"


def _add_rows(
    table: Table,
    pictures: PictureInserter,
    rows: list[ExportRow],
    images: list[bytes | None],
    scope: ExportScope,
) -> None:
    # Rows are written as XML directly: python-docx's cell/run API costs several ms per row, this a fraction of one.
    for row, data in zip(rows, images, strict=True):
        tr = parse_xml(_row_xml(row, scope))
        table._tbl.append(tr)
        if row.asset is not None:
            pictures.add(_Cell(tr.tc_lst[1], table), data)


def _save(document: DocumentObject) -> tuple[IO[bytes], int]:
    spooled = tempfile.SpooledTemporaryFile(max_size=SPOOL_MAX_BYTES, mode="w+b")  # noqa: SIM115 — closed by chunks()
    try:
        document.save(spooled)
        size = spooled.tell()
    except BaseException:
        spooled.close()
        raise
    return spooled, size


async def _download(pool: ThreadPoolExecutor, storage: Storage, keys: list[str | None]) -> list[bytes | None]:
    """Download a page of thumbnails in parallel; a key used twice (a video and its source image) is fetched once."""
    loop = asyncio.get_running_loop()
    unique = list(dict.fromkeys(key for key in keys if key))
    blobs = await asyncio.gather(
        *(loop.run_in_executor(pool, _fetch_thumbnail, storage, key) for key in unique)
    )
    by_key = dict(zip(unique, blobs, strict=True))
    return [by_key[key] if key else None for key in keys]


async def build_storyboard(
    session: AsyncSession, storage: Storage, project: Project, scope: ExportScope
) -> ExportFile:
    """Build the document page by page: each page's thumbnails are downloaded in parallel, embedded, and let go.

    The next page's thumbnails download while the current page is written into the document.
    """
    assert project.id is not None
    started = time.perf_counter()
    timings = {"download": 0.0, "write": 0.0}
    models = await _load_models(session)
    await release_connection(session)
    document, table = await asyncio.to_thread(_new_document, project, scope)
    pictures = PictureInserter(document)
    rows_written = 0

    async def timed_download(page: list[ExportRow]) -> list[bytes | None]:
        begin = time.perf_counter()
        images = await _download(pool, storage, [row.thumbnail_key for row in page])
        timings["download"] += time.perf_counter() - begin
        return images

    with ThreadPoolExecutor(max_workers=DOWNLOAD_THREADS, thread_name_prefix="export-s3") as pool:
        pending: tuple[list[ExportRow], asyncio.Task[list[bytes | None]]] | None = None
        try:
            async for page in _iter_pages(session, project.id, scope, models):
                previous, pending = pending, (page, asyncio.create_task(timed_download(page)))
                if previous is not None:
                    rows_written += await _write_page(table, pictures, previous, scope, timings)
            if pending is not None:
                rows_written += await _write_page(table, pictures, pending, scope, timings)
                pending = None
        finally:
            if pending is not None:
                pending[1].cancel()
    if rows_written == 0:  # every shot has a row, so only a project without shots gets here
        document.add_paragraph("This project has no shots yet.")
    file, size = await asyncio.to_thread(_save, document)
    logger.info(
        "storyboard export project=%s scope=%s rows=%d size=%.1f MB in %.2f s (downloads %.2f s, writing %.2f s)",
        project.id,
        scope.value,
        rows_written,
        size / 1e6,
        time.perf_counter() - started,
        timings["download"],
        timings["write"],
    )
    return ExportFile(file=file, size=size, filename=export_filename(project, scope))


async def _write_page(
    table: Table,
    pictures: PictureInserter,
    pending: tuple[list[ExportRow], asyncio.Task[list[bytes | None]]],
    scope: ExportScope,
    timings: dict[str, float],
) -> int:
    page, task = pending
    images = await task
    begin = time.perf_counter()
    await asyncio.to_thread(_add_rows, table, pictures, page, images, scope)
    timings["write"] += time.perf_counter() - begin
    return len(page)
