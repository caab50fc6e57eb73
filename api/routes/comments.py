"""Comments as the project's owner sees and writes them."""

from typing import Annotated

from fastapi import APIRouter, Query, status

from api.deps import (
    CurrentUser,
    EventsDep,
    ObjectId,
    PaginationDep,
    SessionDep,
    ViewedAsset,
    ViewedBox,
    ViewedProject,
)
from core import comments
from core.boxes import get_box_or_404
from core.comments import AssetCommentCreate, CommentCreate, CommentPublic
from core.schemas import DbId, Page

router = APIRouter(tags=["comments"])


@router.get("/api/projects/{project_id}/comments/", response_model=Page[CommentPublic])
async def list_comments(
    project: ViewedProject,
    session: SessionDep,
    page: PaginationDep,
    box_id: Annotated[DbId | None, Query(description="Only comments on this box")] = None,
    asset_id: Annotated[DbId | None, Query(description="Only comments on this asset")] = None,
    via_link: Annotated[bool | None, Query(description="Only guest (true) or owner (false) comments")] = None,
) -> Page[CommentPublic]:
    items, total = await comments.list_project_comments(
        session,
        project,
        box_id=box_id,
        asset_id=asset_id,
        via_link=via_link,
        limit=page.limit,
        offset=page.offset,
    )
    return Page(
        items=[comments.to_comment_public(c, c.box.code) for c in items],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


@router.post(
    "/api/boxes/{box_id}/comments/", status_code=status.HTTP_201_CREATED, response_model=CommentPublic
)
async def comment_on_box(
    box: ViewedBox, body: CommentCreate, user: CurrentUser, session: SessionDep, events: EventsDep
) -> CommentPublic:
    comment = await comments.add_owner_comment(session, events, user, box, body.text, body.asset_id)
    return comments.to_comment_public(comment, box.code)


@router.post(
    "/api/assets/{asset_id}/comments/", status_code=status.HTTP_201_CREATED, response_model=CommentPublic
)
async def comment_on_asset(
    asset: ViewedAsset,
    body: AssetCommentCreate,
    user: CurrentUser,
    session: SessionDep,
    events: EventsDep,
) -> CommentPublic:
    box = await get_box_or_404(session, asset.box_id)
    comment = await comments.add_owner_comment(session, events, user, box, body.text, asset.id)
    return comments.to_comment_public(comment, box.code)


@router.delete("/api/comments/{comment_id}/", status_code=status.HTTP_204_NO_CONTENT)
async def delete_comment(comment_id: ObjectId, user: CurrentUser, session: SessionDep) -> None:
    await comments.delete_comment(session, user, comment_id)
