"""Boxes (shots) of a project: shot order, codes, titles, notes and the headliner."""

from fastapi import APIRouter, Depends, Request, status

from api.deps import (
    AfterDeletionDep,
    CurrentUser,
    EditedBox,
    EditedProject,
    EventsDep,
    PaginationDep,
    SessionDep,
    StorageDep,
    ViewedBox,
    ViewedProject,
)
from core import boxes
from core.errors import PayloadTooLarge
from core.schemas import BoxBulkCreate, BoxBulkPublic, BoxCreate, BoxOrderUpdate, BoxPublic, BoxUpdate, Page

router = APIRouter(tags=["boxes"])


@router.get("/api/projects/{project_id}/boxes/", response_model=Page[BoxPublic])
async def list_boxes(
    project: ViewedProject, session: SessionDep, storage: StorageDep, page: PaginationDep
) -> Page[BoxPublic]:
    items, total = await boxes.list_boxes(session, storage, project, page.limit, page.offset)
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.post(
    "/api/projects/{project_id}/boxes/", status_code=status.HTTP_201_CREATED, response_model=BoxPublic
)
async def create_box(
    project: EditedProject, body: BoxCreate, session: SessionDep, storage: StorageDep
) -> BoxPublic:
    box = await boxes.create_box(session, project, body)
    assert box.id is not None
    return await boxes.load_box_public(session, storage, box.id)


async def limit_bulk_body(request: Request) -> None:
    """A pasted script is a few hundred kB at most; a bigger body is refused before its shots are validated. FastAPI
    has read and parsed the JSON by then: what bounds the read itself is the proxy (`client_max_body_size 25m` on
    /api/ in docker/nginx.conf), as for every JSON body."""
    if len(await request.body()) > boxes.MAX_BULK_BODY_BYTES:
        raise PayloadTooLarge(
            f"The list of shots is larger than {boxes.MAX_BULK_BODY_BYTES // (1024 * 1024)} MB."
        )


@router.post(
    "/api/projects/{project_id}/boxes/bulk/",
    status_code=status.HTTP_201_CREATED,
    response_model=BoxBulkPublic,
    dependencies=[Depends(limit_bulk_body)],
)
async def create_boxes(
    project: EditedProject, body: BoxBulkCreate, session: SessionDep, storage: StorageDep
) -> BoxBulkPublic:
    """Appends the shots after the last one, in order; one refused item creates none of them."""
    created = await boxes.create_boxes(session, project, body)
    return BoxBulkPublic(items=[boxes.to_box_public(box, 0, storage) for box in created])


@router.post("/api/projects/{project_id}/boxes/reorder/", response_model=Page[BoxPublic])
async def reorder_boxes(
    project: EditedProject, body: BoxOrderUpdate, session: SessionDep, storage: StorageDep
) -> Page[BoxPublic]:
    await boxes.reorder_boxes(session, project, body)
    limit = len(body.box_ids)
    items, total = await boxes.list_boxes(session, storage, project, limit, 0)
    return Page(items=items, total=total, limit=limit, offset=0)


@router.get("/api/boxes/{box_id}/", response_model=BoxPublic)
async def read_box(box: ViewedBox, session: SessionDep, storage: StorageDep) -> BoxPublic:
    assert box.id is not None
    return await boxes.load_box_public(session, storage, box.id)


@router.patch("/api/boxes/{box_id}/", response_model=BoxPublic)
async def update_box(
    box: EditedBox,
    body: BoxUpdate,
    user: CurrentUser,
    session: SessionDep,
    storage: StorageDep,
    events: EventsDep,
) -> BoxPublic:
    box = await boxes.update_box(session, events, user, box, body)
    assert box.id is not None
    return await boxes.load_box_public(session, storage, box.id)


@router.delete("/api/boxes/{box_id}/", status_code=status.HTTP_204_NO_CONTENT)
async def delete_box(
    box: EditedBox, user: CurrentUser, session: SessionDep, events: EventsDep, after: AfterDeletionDep
) -> None:
    """Deletes the shot with its variants and comments; running generations are cancelled after the commit."""
    after.schedule(await boxes.delete_box(session, events, user, box))
