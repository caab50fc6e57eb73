"""Token-only public routes for a client with a review link: the read-only view, and comments.

Only GET (view, comments) and POST (comments) exist here; any other method answers 405.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response, status

from api.deps import ClientAddress, EventsDep, LimiterDep, PaginationDep, SessionDep, SettingsDep, StorageDep
from api.errors import error_responses
from core import comments, sharing
from core.models import SharedLink
from core.schemas import Page
from core.sharing import LinkRefs


async def no_store(response: Response) -> None:
    # The answers carry presigned URLs and depend on a secret in the path: no shared cache may keep them.
    response.headers["Cache-Control"] = "no-store"


router = APIRouter(prefix="/api/public", tags=["public review"], dependencies=[Depends(no_store)])

Token = Annotated[str, Path(max_length=64, description="The share link's token (a UUID)")]


async def live_link(token: Token, session: SessionDep) -> SharedLink:
    return await sharing.resolve_link(session, token)


LiveLink = Annotated[SharedLink, Depends(live_link)]


def refs_for(link: SharedLink, settings: SettingsDep) -> LinkRefs:
    return sharing.link_refs(settings.jwt_secret.get_secret_value(), link)


@router.get("/{token}/", response_model=sharing.ReviewProject, responses=error_responses(410))
async def read_public_project(
    link: LiveLink, session: SessionDep, storage: StorageDep, settings: SettingsDep
) -> sharing.ReviewProject:
    return await sharing.public_project_view(
        session, storage, link, refs_for(link, settings), settings.s3_presign_ttl_seconds
    )


@router.get("/{token}/comments/", response_model=Page[sharing.ReviewComment], responses=error_responses(410))
async def list_public_comments(
    link: LiveLink, session: SessionDep, settings: SettingsDep, page: PaginationDep
) -> Page[sharing.ReviewComment]:
    refs = refs_for(link, settings)
    visible = sharing.visible_refs(await sharing.load_visible_boxes(session, link.project_id), refs)
    items, total = await comments.list_guest_comments(
        session, link.project_id, visible, page.limit, page.offset
    )
    return Page(
        items=[comments.to_guest_comment(c, refs, visible) for c in items],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


@router.post(
    "/{token}/comments/",
    status_code=status.HTTP_201_CREATED,
    response_model=sharing.ReviewComment,
    responses=error_responses(410, 429, 503),
)
async def create_public_comment(
    link: LiveLink,
    body: sharing.ReviewCommentCreate,
    session: SessionDep,
    settings: SettingsDep,
    events: EventsDep,
    limiter: LimiterDep,
    address: ClientAddress,
) -> sharing.ReviewComment:
    assert link.id is not None
    await comments.check_guest_rate(limiter, link.id, address)
    refs = refs_for(link, settings)
    boxes = await sharing.load_visible_boxes(session, link.project_id)
    target = sharing.resolve_target(boxes, refs, body.box_ref, body.asset_ref)
    comment = await comments.add_guest_comment(session, events, link, target, body.author_name, body.text)
    return comments.to_guest_comment(comment, refs, sharing.visible_refs(boxes, refs))
