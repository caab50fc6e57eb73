"""Studios, their members and member invites; joining a studio through an invite link (docs/studios.md)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Path, status

from api.deps import (
    ClientAddress,
    CurrentUser,
    LimiterDep,
    ManagedStudio,
    NowDep,
    ObjectId,
    PaginationDep,
    RelayDep,
    SessionDep,
    SettingsDep,
    ViewedStudio,
)
from api.errors import error_responses
from core import invites, realtime, studio_invites, studios
from core.schemas import (
    JoinInfoPublic,
    MemberPublic,
    MemberUpdate,
    Page,
    StudioCreate,
    StudioInviteCreate,
    StudioInvitePublic,
    StudioPublic,
    StudioUpdate,
)

router = APIRouter(tags=["studios"])

InviteToken = Annotated[str, Path(max_length=64, description="The invite's token (from `/join/?token=…`)")]


@router.get("/api/studios/", response_model=Page[StudioPublic])
async def list_studios(
    user: CurrentUser, session: SessionDep, page: PaginationDep, now: NowDep
) -> Page[StudioPublic]:
    """The studios you belong to, the one you joined first first."""
    items, total = await studios.list_studios(session, user, page.limit, page.offset, now)
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.post(
    "/api/studios/",
    status_code=status.HTTP_201_CREATED,
    response_model=StudioPublic,
    responses=error_responses(409),
)
async def create_studio(
    body: StudioCreate, user: CurrentUser, session: SessionDep, now: NowDep
) -> StudioPublic:
    """A new studio with you as its owner (at most 20 per person)."""
    access = await studios.create_own_studio(session, user, body.name)
    return await studios.studio_public(session, access, now)


@router.get("/api/studios/{studio_id}/", response_model=StudioPublic)
async def read_studio(access: ViewedStudio, session: SessionDep, now: NowDep) -> StudioPublic:
    return await studios.studio_public(session, access, now)


@router.patch("/api/studios/{studio_id}/", response_model=StudioPublic)
async def update_studio(
    access: ManagedStudio, body: StudioUpdate, session: SessionDep, now: NowDep
) -> StudioPublic:
    """Rename the studio or set its daily credit budget (null: none)."""
    return await studios.studio_public(session, await studios.update_studio(session, access, body), now)


@router.delete(
    "/api/studios/{studio_id}/", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(409)
)
async def delete_studio(access: ManagedStudio, session: SessionDep) -> None:
    """Delete a studio without projects (409 while it has some), with its memberships and invites."""
    await studios.delete_studio(session, access)


@router.get("/api/studios/{studio_id}/members/", response_model=Page[MemberPublic])
async def list_members(access: ViewedStudio, session: SessionDep, page: PaginationDep) -> Page[MemberPublic]:
    """Owners, then editors, then viewers, each in the order they joined."""
    items, total = await studios.list_members(session, access, page.limit, page.offset)
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.patch(
    "/api/studios/{studio_id}/members/{user_id}/", response_model=MemberPublic, responses=error_responses(409)
)
async def change_role(
    access: ManagedStudio, user_id: ObjectId, body: MemberUpdate, user: CurrentUser, session: SessionDep
) -> MemberPublic:
    """Give a member another role; the last owner cannot be demoted (409)."""
    return await studios.change_role(session, access, user, user_id, body.role)


@router.delete(
    "/api/studios/{studio_id}/members/{user_id}/",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(409),
)
async def remove_member(
    access: ViewedStudio,
    user_id: ObjectId,
    user: CurrentUser,
    session: SessionDep,
    relay: RelayDep,
    background: BackgroundTasks,
) -> None:
    """Remove a member (an owner), or leave (anyone, naming themself); the last owner cannot go (409). Their
    open sockets on the studio's projects close once this is committed."""
    removed = await studios.remove_member(session, access, user, user_id)
    realtime.close_after_removal(background.add_task, relay, removed)


@router.post(
    "/api/studios/{studio_id}/invites/",
    status_code=status.HTTP_201_CREATED,
    response_model=StudioInvitePublic,
    responses=error_responses(409),
)
async def create_invite(
    access: ManagedStudio,
    body: StudioInviteCreate,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
) -> StudioInvitePublic:
    """A single-use link that brings someone in with `role`; at most 50 open ones per studio."""
    return await studio_invites.create_invite(session, settings, access, user, body, now)


@router.get("/api/studios/{studio_id}/invites/", response_model=Page[StudioInvitePublic])
async def list_invites(
    access: ManagedStudio, session: SessionDep, settings: SettingsDep, page: PaginationDep, now: NowDep
) -> Page[StudioInvitePublic]:
    """Every invite of the studio, newest first: open, used (by whom) or expired."""
    items, total = await studio_invites.list_invites(session, settings, access, page.limit, page.offset, now)
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.delete(
    "/api/studios/{studio_id}/invites/{invite_id}/",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(409),
)
async def revoke_invite(access: ManagedStudio, invite_id: ObjectId, session: SessionDep) -> None:
    await studio_invites.revoke_invite(session, access, invite_id)


@router.get("/api/join/{token}/", response_model=JoinInfoPublic, responses=error_responses(404, 429))
async def join_info(
    token: InviteToken,
    session: SessionDep,
    settings: SettingsDep,
    limiter: LimiterDep,
    address: ClientAddress,
    now: NowDep,
) -> JoinInfoPublic:
    """What an invite link offers (no login needed): the studio, the role, whether it is still open, and whether
    someone without an account may register with it."""
    await limiter.hit_join(address)
    return await studio_invites.join_info(session, token, invites.open_to_studio_invites(settings), now)


@router.post("/api/join/{token}/", response_model=StudioPublic, responses=error_responses(404, 409, 410, 429))
async def join(
    token: InviteToken,
    user: CurrentUser,
    session: SessionDep,
    limiter: LimiterDep,
    address: ClientAddress,
    now: NowDep,
) -> StudioPublic:
    """Join the invite's studio with its role (single use); 409 when you are a member already."""
    await limiter.hit_join(address)
    access = await studio_invites.join(session, user, token, now)
    return await studios.studio_public(session, access, now)
