"""Share links of a project: create, list, revoke (revoking deletes the link)."""

from fastapi import APIRouter, status

from api.deps import (
    CurrentUser,
    EventsDep,
    ManagedProject,
    ObjectId,
    PaginationDep,
    SessionDep,
    SettingsDep,
)
from core import sharing
from core.schemas import Page
from core.sharing import SharedLinkCreate, SharedLinkPublic

router = APIRouter(tags=["sharing"])


@router.post(
    "/api/projects/{project_id}/share-links/",
    status_code=status.HTTP_201_CREATED,
    response_model=SharedLinkPublic,
)
async def create_share_link(
    project: ManagedProject,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    events: EventsDep,
    body: SharedLinkCreate,
) -> SharedLinkPublic:
    link = await sharing.create_link(session, events, project, user, body)
    return sharing.to_shared_link_public(link, settings.public_base_url)


@router.get("/api/projects/{project_id}/share-links/", response_model=Page[SharedLinkPublic])
async def list_share_links(
    project: ManagedProject, session: SessionDep, settings: SettingsDep, page: PaginationDep
) -> Page[SharedLinkPublic]:
    links, total = await sharing.list_links(session, project, page.limit, page.offset)
    return Page(
        items=[sharing.to_shared_link_public(link, settings.public_base_url) for link in links],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


@router.delete("/api/share-links/{link_id}/", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_share_link(
    link_id: ObjectId, user: CurrentUser, session: SessionDep, events: EventsDep
) -> None:
    link = await sharing.get_managed_link(session, user, link_id)
    await sharing.revoke_link(session, events, user, link)
