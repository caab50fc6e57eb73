"""Socket tickets: what the SPA puts in a socket URL instead of its access token (docs/events.md)."""

from typing import Annotated

from fastapi import APIRouter, Depends, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.deps import CurrentUser, RedisDep, SessionDep, SettingsDep
from api.errors import error_responses
from core.projects import get_owned_project
from core.realtime import token_expiry
from core.socket_tickets import SocketTicket, SocketTicketCreate, SocketTicketPublic, issue_ticket

router = APIRouter(prefix="/api/auth", tags=["auth"])

_bearer = HTTPBearer(auto_error=False)


@router.post(
    "/socket-ticket/",
    status_code=status.HTTP_201_CREATED,
    response_model=SocketTicketPublic,
    responses=error_responses(404, 503),
)
async def create_socket_ticket(
    body: SocketTicketCreate,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    redis: RedisDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> SocketTicketPublic:
    """A single-use ticket for one socket on one of your projects, valid for `SOCKET_TICKET_TTL_SECONDS`."""
    project = await get_owned_project(session, user, body.project_id)
    assert (
        user.id is not None and project.id is not None and credentials is not None
    )  # CurrentUser checked it
    grant = SocketTicket(
        user_id=user.id,
        project_id=project.id,
        token_expires_at=token_expiry(settings, credentials.credentials),
    )
    ttl = settings.socket_ticket_ttl_seconds
    return SocketTicketPublic(ticket=await issue_ticket(redis, grant, ttl), expires_in=ttl)
