"""Storyboard export of a project as .docx (headliners only, or every asset)."""

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from api.deps import SessionDep, StorageDep, ViewedProject
from api.errors import error_responses
from core.export import DOCX_MEDIA_TYPE, ExportScope, build_storyboard

router = APIRouter(tags=["export"])


@router.get(
    "/api/projects/{project_id}/export/",
    response_class=StreamingResponse,
    responses={
        200: {"content": {DOCX_MEDIA_TYPE: {}}, "description": "The storyboard as a Word document"},
        **error_responses(503),
    },
)
async def export_project(
    project: ViewedProject,
    session: SessionDep,
    storage: StorageDep,
    scope: Annotated[ExportScope, Query(description="headliners: one row per shot; all: every asset")] = (
        ExportScope.HEADLINERS
    ),
) -> StreamingResponse:
    export = await build_storyboard(session, storage, project, scope)
    filename = export.filename
    return StreamingResponse(
        export.chunks(),
        media_type=DOCX_MEDIA_TYPE,
        headers={
            "Content-Disposition": f"attachment; filename=\"{filename}\"; filename*=UTF-8''{quote(filename)}",
            "Content-Length": str(export.size),
        },
    )
