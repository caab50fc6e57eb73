"""Share links and the public, read-only review view a client opens with nothing but the link's token.

The public view names boxes and assets by opaque per-link refs (an HMAC of the link's token and the object id), so a
guest can point a comment at what they see without learning database ids or being able to guess other objects.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

import sqlalchemy as sa
from pydantic import BaseModel, Field, StringConstraints, field_validator
from sqlalchemy.orm import selectinload
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.activity import record_link
from core.contract import AssetKind, AssetStatus
from core.errors import Gone, InvalidInput, NotFound
from core.events import Outbox
from core.models import ActivityKind, Asset, Box, Membership, Project, SharedLink, StudioRole, User
from core.schemas import MAX_COMMENT_LENGTH, CommentText, GuestName, InputModel
from core.storage import Storage
from core.studios import ACCESS, allowed

REF_BYTES = 12
TOKEN_LENGTH = 36

LINK_NOT_FOUND = "This review link does not exist or has been revoked. Ask the studio for a new link."


# --- the owner's link schemas ---------------------------------------------------------------------------------


class SharedLinkCreate(InputModel):
    expires_at: datetime | None = Field(
        default=None,
        description="When the link stops working (ISO 8601; a time without an offset is read as UTC). "
        "Omit for a link that works until it is revoked.",
    )

    @field_validator("expires_at")
    @classmethod
    def _aware_and_future(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        if value <= datetime.now(UTC):
            raise ValueError("expires_at must be in the future")
        return value


class SharedLinkPublic(BaseModel):
    id: int
    token: uuid.UUID
    url: str
    expires_at: datetime | None
    is_expired: bool
    created_at: datetime


# --- the guest review view's schemas (Review*) ----------------------------------------------------------------
# What a guest holding only the link reads and sends (no ids, no owner data): all here, all named `Review*`.

MAX_REF_LENGTH = 64

Ref = Annotated[str, StringConstraints(min_length=1, max_length=MAX_REF_LENGTH)]


class ReviewAsset(BaseModel):
    """An asset as a guest sees it: no ids, no keys, no cost, no owner data; URLs are presigned and short-lived."""

    ref: str = Field(description="Opaque reference for commenting on this asset through this link")
    kind: AssetKind
    prompt: str
    model: str | None = Field(description="Provider model id, e.g. google/nano-banana")
    model_name: str | None = Field(description="Human-readable model name")
    file_url: str | None
    thumbnail_url: str | None
    mime_type: str | None
    width: int | None
    height: int | None
    duration_seconds: float | None


class ReviewBox(BaseModel):
    ref: str = Field(description="Opaque reference for commenting on this shot through this link")
    position: int = Field(description="Shot number")
    code: str = Field(description="The shot's code (e.g. SH010): its name in comments and exports")
    title: str
    headliner: ReviewAsset | None
    video: ReviewAsset | None = Field(
        description="The most recent completed video animated from the headliner, if any"
    )


class ReviewProject(BaseModel):
    name: str
    expires_at: datetime | None
    url_ttl_seconds: int = Field(description="Presigned URLs stop working after this; fetch the view again")
    boxes: list[ReviewBox]


class ReviewComment(BaseModel):
    """A comment as a guest sees it: refs instead of ids, and whether the studio wrote it."""

    ref: str
    box_ref: str
    asset_ref: str | None
    author_name: str
    from_studio: bool
    text: str
    created_at: datetime


class ReviewCommentCreate(InputModel):
    author_name: GuestName = Field(description="How the guest wants to be named (1-120 characters)")
    text: CommentText = Field(description=f"Plain text, 1-{MAX_COMMENT_LENGTH} characters")
    box_ref: Ref = Field(description="`ref` of a box in the public view")
    asset_ref: Ref | None = Field(
        default=None, description="`ref` of that box's headliner or video, to comment on the asset itself"
    )


# --- links ----------------------------------------------------------------------------------------------------


def share_url(public_base_url: str, token: uuid.UUID) -> str:
    return f"{public_base_url.rstrip('/')}/review/{token}"


def is_expired(link: SharedLink, now: datetime | None = None) -> bool:
    return link.expires_at is not None and link.expires_at <= (now or datetime.now(UTC))


def to_shared_link_public(link: SharedLink, public_base_url: str) -> SharedLinkPublic:
    assert link.id is not None
    return SharedLinkPublic(
        id=link.id,
        token=link.token,
        url=share_url(public_base_url, link.token),
        expires_at=link.expires_at,
        is_expired=is_expired(link),
        created_at=link.created_at,
    )


async def create_link(
    session: AsyncSession, events: Outbox, project: Project, user: User, body: SharedLinkCreate
) -> SharedLink:
    assert project.id is not None
    link = SharedLink(
        project_id=project.id, token=uuid.uuid4(), expires_at=body.expires_at, created_by_id=user.id
    )
    session.add(link)
    await session.flush()
    await session.refresh(link)
    await record_link(session, events, user, link, ActivityKind.LINK_CREATED)
    return link


async def list_links(
    session: AsyncSession, project: Project, limit: int, offset: int
) -> tuple[list[SharedLink], int]:
    condition = SharedLink.project_id == project.id
    total = (await session.exec(select(func.count()).select_from(SharedLink).where(condition))).one()
    links = (
        await session.exec(
            select(SharedLink)
            .where(condition)
            .order_by(col(SharedLink.created_at).desc(), col(SharedLink.id).desc())
            .limit(limit)
            .offset(offset)
        )
    ).all()
    return list(links), total


async def get_managed_link(session: AsyncSession, user: User, link_id: int) -> SharedLink:
    """A share link of a project whose studio `user` owns (owners manage share links)."""
    query = (
        select(SharedLink, *ACCESS)
        .join(Project, col(Project.id) == SharedLink.project_id)
        .where(SharedLink.id == link_id)
    )
    link: SharedLink = await allowed(session, query, user, StudioRole.OWNER, "Share link not found.")
    return link


async def revoke_link(session: AsyncSession, events: Outbox, user: User, link: SharedLink) -> None:
    """Revoking deletes the row; comments made through it stay and keep `via_link` (their link id becomes null)."""
    await session.delete(link)
    await session.flush()
    await record_link(session, events, user, link, ActivityKind.LINK_REVOKED)


def parse_token(token: str) -> uuid.UUID:
    """Only the canonical 36-character UUID form is a token; anything else is a link that does not exist."""
    if len(token) != TOKEN_LENGTH:
        raise NotFound(LINK_NOT_FOUND)
    try:
        return uuid.UUID(token)
    except ValueError:
        raise NotFound(LINK_NOT_FOUND) from None


def _studio_has_active_owner() -> Any:
    """A review link speaks for its studio: it stays live while the studio has an owner whose account is active
    (when the last one is deactivated, the studio's links stop answering, as if revoked)."""
    return sa.exists(
        select(Membership.id)
        .join(User, col(User.id) == Membership.user_id)
        .where(
            Membership.studio_id == Project.studio_id,
            Membership.role == StudioRole.OWNER,
            col(User.is_active).is_(True),
        )
    )


async def resolve_link(session: AsyncSession, token: str, now: datetime | None = None) -> SharedLink:
    """The live link for `token`: NotFound when malformed, unknown or revoked; Gone when expired."""
    value = parse_token(token)
    link = (
        await session.exec(
            select(SharedLink)
            .join(Project, col(Project.id) == SharedLink.project_id)
            .where(SharedLink.token == value, _studio_has_active_owner())
        )
    ).first()
    if link is None:
        raise NotFound(LINK_NOT_FOUND)
    if is_expired(link, now):
        assert link.expires_at is not None
        when = link.expires_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
        raise Gone(f"This review link expired on {when}. Ask the studio for a new link.")
    return link


# --- opaque refs ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkRefs:
    """Per-link opaque names for boxes, assets and comments. The same object has a different ref on every link."""

    key: bytes

    def _ref(self, kind: str, object_id: int) -> str:
        digest = hmac.new(self.key, f"{kind}:{object_id}".encode(), hashlib.sha256).digest()[:REF_BYTES]
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def box(self, box_id: int) -> str:
        return self._ref("box", box_id)

    def asset(self, asset_id: int) -> str:
        return self._ref("asset", asset_id)

    def comment(self, comment_id: int) -> str:
        return self._ref("comment", comment_id)


def link_refs(secret: str, link: SharedLink) -> LinkRefs:
    key = hmac.new(secret.encode(), f"shared-link:{link.token}".encode(), hashlib.sha256).digest()
    return LinkRefs(key=key)


# --- what a guest may see -------------------------------------------------------------------------------------


@dataclass
class VisibleBox:
    box: Box
    headliner: Asset | None
    video: Asset | None

    @property
    def asset_ids(self) -> list[int]:
        return [a.id for a in (self.headliner, self.video) if a is not None and a.id is not None]


def shown_videos_sql(box_scope: str) -> str:
    """The one definition of which video a review link shows, as SQL over the boxes matching `box_scope`.

    For each box: the most recent COMPLETED video animated from its COMPLETED image headliner (the video may sit in
    any box of the same project). Rows are `(box_id, video_id)`. `box_scope` is a constant condition on `sb`
    (the box); values travel as bound parameters. Used by the public view and by retention, which keeps every
    video a live link shows.
    """
    return f"""
        SELECT DISTINCT ON (sb.id) sb.id AS box_id, sv.id AS video_id
        FROM box sb
        JOIN asset sh ON sh.id = sb.headliner_id AND sh.kind = 'image' AND sh.status = 'COMPLETED'
        JOIN asset sv ON sv.source_asset_id = sh.id AND sv.kind = 'video' AND sv.status = 'COMPLETED'
        JOIN box svb ON svb.id = sv.box_id AND svb.project_id = sb.project_id
        WHERE {box_scope}
        ORDER BY sb.id, sv.created_at DESC, sv.id DESC
    """  # noqa: S608 (box_scope is a constant of ours, never input)


async def load_visible_boxes(session: AsyncSession, project_id: int) -> list[VisibleBox]:
    """Boxes in shot order with what a guest sees of each: the headliner and the latest video animated from it."""
    boxes = (
        await session.exec(
            select(Box)
            .where(Box.project_id == project_id)
            .order_by(col(Box.position))
            .options(selectinload(Box.headliner).selectinload(Asset.model))  # type: ignore[arg-type]
        )
    ).all()
    shown = (
        sa.text(shown_videos_sql("sb.project_id = :project_id"))
        .bindparams(project_id=project_id)
        .columns(box_id=sa.Integer, video_id=sa.Integer)
        .subquery("shown")
    )
    rows = (
        await session.exec(
            select(Asset, shown.c.box_id)
            .join(shown, shown.c.video_id == Asset.id)
            .options(selectinload(Asset.model))  # type: ignore[arg-type]
        )
    ).all()
    videos: dict[int, Asset] = {box_id: video for video, box_id in rows}
    result = []
    for box in boxes:
        headliner = box.headliner
        visible = headliner if headliner is not None and headliner.status is AssetStatus.COMPLETED else None
        video = videos.get(box.id) if box.id is not None and visible is not None else None
        result.append(VisibleBox(box=box, headliner=visible, video=video))
    return result


def _review_asset(asset: Asset, refs: LinkRefs, storage: Storage, ttl: int) -> ReviewAsset:
    assert asset.id is not None
    model = asset.model
    return ReviewAsset(
        ref=refs.asset(asset.id),
        kind=asset.kind,
        prompt=asset.prompt,
        model=model.provider_model_id if model is not None else None,
        model_name=model.display_name if model is not None else None,
        file_url=storage.presigned_get_url(asset.file_key, ttl) if asset.file_key else None,
        thumbnail_url=storage.presigned_get_url(asset.thumbnail_key, ttl) if asset.thumbnail_key else None,
        mime_type=asset.mime_type,
        width=asset.width,
        height=asset.height,
        duration_seconds=asset.duration_seconds,
    )


async def public_project_view(
    session: AsyncSession, storage: Storage, link: SharedLink, refs: LinkRefs, url_ttl_seconds: int
) -> ReviewProject:
    project = await session.get(Project, link.project_id)
    if project is None:  # the project was deleted between resolving the link and now
        raise NotFound(LINK_NOT_FOUND)
    boxes = await load_visible_boxes(session, link.project_id)
    items: list[ReviewBox] = []
    for visible in boxes:
        assert visible.box.id is not None
        items.append(
            ReviewBox(
                ref=refs.box(visible.box.id),
                position=visible.box.position,
                code=visible.box.code,
                title=visible.box.title,
                headliner=_review_asset(visible.headliner, refs, storage, url_ttl_seconds)
                if visible.headliner is not None
                else None,
                video=_review_asset(visible.video, refs, storage, url_ttl_seconds)
                if visible.video is not None
                else None,
            )
        )
    return ReviewProject(
        name=project.name, expires_at=link.expires_at, url_ttl_seconds=url_ttl_seconds, boxes=items
    )


@dataclass(frozen=True)
class CommentTarget:
    box: Box
    asset_id: int | None

    @property
    def box_id(self) -> int:
        assert self.box.id is not None
        return self.box.id


def _same_ref(expected: str, given: str) -> bool:
    """Constant-time comparison of a ref with what a guest sent (any text: compare_digest refuses non-ASCII str)."""
    return hmac.compare_digest(expected.encode(), given.encode("utf-8", "surrogatepass"))


def resolve_target(
    boxes: list[VisibleBox], refs: LinkRefs, box_ref: str, asset_ref: str | None
) -> CommentTarget:
    """Map a guest's refs back to a box (and optionally its headliner or video) that the guest can see now."""
    for visible in boxes:
        assert visible.box.id is not None
        if not _same_ref(refs.box(visible.box.id), box_ref):
            continue
        if asset_ref is None:
            return CommentTarget(box=visible.box, asset_id=None)
        for asset_id in visible.asset_ids:
            if _same_ref(refs.asset(asset_id), asset_ref):
                return CommentTarget(box=visible.box, asset_id=asset_id)
        raise InvalidInput(
            "asset_ref does not name the headliner or video of this shot (it may have changed; reload the page).",
            details={"field": "asset_ref"},
        )
    raise InvalidInput(
        "box_ref does not name a shot of this project (it may have been removed; reload the page).",
        details={"field": "box_ref"},
    )


@dataclass(frozen=True)
class VisibleRefs:
    """id → ref for what a guest can see; comments on anything else are not shown to guests."""

    boxes: dict[int, str]
    assets: dict[int, str]


def visible_refs(boxes: list[VisibleBox], refs: LinkRefs) -> VisibleRefs:
    box_refs: dict[int, str] = {}
    asset_refs: dict[int, str] = {}
    for visible in boxes:
        assert visible.box.id is not None
        box_refs[visible.box.id] = refs.box(visible.box.id)
        for asset_id in visible.asset_ids:
            asset_refs[asset_id] = refs.asset(asset_id)
    return VisibleRefs(boxes=box_refs, assets=asset_refs)
