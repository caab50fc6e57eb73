"""Smart edit: rewrite a prompt with the LLM (a preview; nothing is generated) and a box's prompt history."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import (
    CurrentUser,
    PaginationDep,
    SessionDep,
    SettingsDep,
    SmartEditRateLimit,
    SpendingDep,
    TemporalDep,
    ViewedBox,
)
from api.errors import error_responses
from core import smart_edit
from core.schemas import Page
from core.smart_edit import SmartEditCreate, SmartEditPublic

router = APIRouter(tags=["smart edit"])


# 404: the body's box_id names a box that is not the user's; 502/503/504: the LLM or Temporal failed.
@router.post(
    "/api/smart-edit/",
    response_model=SmartEditPublic,
    responses=error_responses(402, 404, 429, 502, 503, 504),
    dependencies=[SmartEditRateLimit],
)
async def create_smart_edit(
    body: SmartEditCreate,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    temporal: TemporalDep,
    spending: SpendingDep,
) -> SmartEditPublic:
    return await smart_edit.smart_edit(session, temporal, settings, user, body, spending)


@router.get("/api/boxes/{box_id}/smart-edits/", response_model=Page[SmartEditPublic])
async def list_smart_edits(box: ViewedBox, session: SessionDep, page: PaginationDep) -> Page[SmartEditPublic]:
    items, total = await smart_edit.list_box_smart_edits(session, box, limit=page.limit, offset=page.offset)
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)
