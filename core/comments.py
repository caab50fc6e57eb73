"""Comments on shots (boxes) and their assets, by owners through the API and by guests through a share link.

Text is stored exactly as written (plain text, never HTML); clients must render it as text. Guest commenting is
rate-limited per link and client address (and per link overall) by `core.ratelimit`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlalchemy.orm import joinedload
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.activity import record_comment
from core.errors import InvalidInput, NotFound
from core.events import Outbox, new_comment
from core.models import Asset, Box, Comment, Project, SharedLink, StudioRole, User
from core.ratelimit import RateLimit, RateLimiter
from core.schemas import MAX_COMMENT_LENGTH, CommentText, DbId, InputModel
from core.sharing import CommentTarget, LinkRefs, ReviewComment, VisibleRefs
from core.studios import ACCESS, require_role, with_access

# --- schemas --------------------------------------------------------------------------------------------------


class CommentCreate(InputModel):
    text: CommentText = Field(description=f"Plain text, 1-{MAX_COMMENT_LENGTH} characters")
    asset_id: DbId | None = Field(default=None, description="An asset of this box, to comment on it")


class AssetCommentCreate(InputModel):
    text: CommentText = Field(description=f"Plain text, 1-{MAX_COMMENT_LENGTH} characters")


class CommentPublic(BaseModel):
    """A comment as its project's owner sees it."""

    id: int
    project_id: int
    box_id: int
    box_code: str = Field(description="The shot's code (e.g. SH010)")
    asset_id: int | None
    author_name: str
    author_user_id: int | None
    via_link: bool
    shared_link_id: int | None = Field(description="The link it came through; null once that link is revoked")
    text: str
    created_at: datetime


# --- writing --------------------------------------------------------------------------------------------------


async def add_owner_comment(
    session: AsyncSession, events: Outbox, user: User, box: Box, text: str, asset_id: int | None = None
) -> Comment:
    """A member's comment, with its line in the project's feed."""
    if asset_id is not None:
        asset = await session.get(Asset, asset_id)
        if asset is None or asset.box_id != box.id:
            raise InvalidInput("asset_id must name an asset of this box.", details={"field": "asset_id"})
    comment = Comment(
        project_id=box.project_id,
        box_id=box.id,  # type: ignore[arg-type]
        asset_id=asset_id,
        author_user_id=user.id,
        author_name=user.display_name,
        via_link=False,
        text=text,
    )
    return await _add(session, events, comment, box)


async def add_guest_comment(
    session: AsyncSession,
    events: Outbox,
    link: SharedLink,
    target: CommentTarget,
    author_name: str,
    text: str,
) -> Comment:
    """A guest's comment through a review link, with its line in the project's feed."""
    comment = Comment(
        project_id=link.project_id,
        box_id=target.box_id,
        asset_id=target.asset_id,
        author_user_id=None,
        author_name=author_name,
        shared_link_id=link.id,
        via_link=True,
        text=text,
    )
    return await _add(session, events, comment, target.box)


async def _add(session: AsyncSession, events: Outbox, comment: Comment, box: Box) -> Comment:
    session.add(comment)
    await session.flush()
    await session.refresh(comment)
    queue_comment(events, comment)
    await record_comment(session, events, comment, box)
    return comment


async def delete_comment(session: AsyncSession, user: User, comment_id: int) -> None:
    """Any member deletes their own comment; someone else's (a guest's too) needs the editor role."""
    query = (
        select(Comment, *ACCESS)
        .join(Project, col(Project.id) == Comment.project_id)
        .where(Comment.id == comment_id)
    )
    row = (await session.exec(with_access(query, user))).first()
    if row is None:
        raise NotFound("Comment not found.")
    comment, role, studio_name = row
    if comment.author_user_id != user.id:
        require_role(role, StudioRole.EDITOR, studio_name)
    await session.delete(comment)
    await session.flush()


# --- reading --------------------------------------------------------------------------------------------------


def to_comment_public(comment: Comment, box_code: str) -> CommentPublic:
    return CommentPublic.model_validate({**comment.model_dump(), "box_code": box_code})


async def list_project_comments(
    session: AsyncSession,
    project: Project,
    *,
    box_id: int | None,
    asset_id: int | None,
    via_link: bool | None,
    limit: int,
    offset: int,
) -> tuple[list[Comment], int]:
    """Oldest first, like a conversation."""
    conditions: list[Any] = [Comment.project_id == project.id]
    if box_id is not None:
        conditions.append(Comment.box_id == box_id)
    if asset_id is not None:
        conditions.append(Comment.asset_id == asset_id)
    if via_link is not None:
        conditions.append(Comment.via_link == via_link)
    return await _page(session, conditions, limit, offset)


async def list_guest_comments(
    session: AsyncSession, project_id: int, visible: VisibleRefs, limit: int, offset: int
) -> tuple[list[Comment], int]:
    """Comments on the project's boxes and on the assets the guest can see; notes on other variants stay hidden."""
    conditions: list[Any] = [
        Comment.project_id == project_id,
        sa.or_(col(Comment.asset_id).is_(None), col(Comment.asset_id).in_(list(visible.assets))),
    ]
    return await _page(session, conditions, limit, offset)


async def _page(
    session: AsyncSession, conditions: list[Any], limit: int, offset: int
) -> tuple[list[Comment], int]:
    total = (await session.exec(select(func.count()).select_from(Comment).where(*conditions))).one()
    rows = (
        await session.exec(
            select(Comment)
            .where(*conditions)
            .order_by(col(Comment.created_at), col(Comment.id))
            .limit(limit)
            .offset(offset)
            .options(joinedload(Comment.box))  # type: ignore[arg-type]  # its code, for the owner's listing
        )
    ).all()
    return list(rows), total


def to_guest_comment(comment: Comment, refs: LinkRefs, visible: VisibleRefs) -> ReviewComment:
    assert comment.id is not None
    return ReviewComment(
        ref=refs.comment(comment.id),
        box_ref=visible.boxes.get(comment.box_id, refs.box(comment.box_id)),
        asset_ref=visible.assets.get(comment.asset_id) if comment.asset_id is not None else None,
        author_name=comment.author_name,
        from_studio=not comment.via_link and comment.author_user_id is not None,
        text=comment.text,
        created_at=comment.created_at,
    )


# --- rate limit -----------------------------------------------------------------------------------------------


GUEST_COMMENTS_PER_ADDRESS = RateLimit.parse("10/minute", "comments from your address")
GUEST_COMMENTS_PER_LINK = RateLimit.parse("300/hour", "comments through this link")


async def check_guest_rate(
    limiter: RateLimiter,
    link_id: int,
    address: str,
    per_address: RateLimit = GUEST_COMMENTS_PER_ADDRESS,
    per_link: RateLimit = GUEST_COMMENTS_PER_LINK,
) -> None:
    """Raise RateLimited (details carry `retry_after` seconds) when this guest or this link has written too much."""
    # Failing closed: without the limiter a leaked link could flood the project.
    unavailable = "Commenting is briefly unavailable; try again in a minute."
    await limiter.hit(per_address, "guest-comment", str(link_id), address, unavailable=unavailable)
    await limiter.hit(per_link, "guest-comment", str(link_id), unavailable=unavailable)


def queue_comment(events: Outbox, comment: Comment) -> None:
    """Tell the project's viewers (owner board and review links) about the comment, once it is committed."""
    assert comment.id is not None
    events.queue(
        new_comment(
            project_id=comment.project_id,
            comment_id=comment.id,
            box_id=comment.box_id,
            asset_id=comment.asset_id,
            author_name=comment.author_name,
            text=comment.text,
            created_at=comment.created_at,
            via_link=comment.via_link,
        )
    )
