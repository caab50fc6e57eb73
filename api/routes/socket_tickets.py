"""Socket tickets: what the SPA puts in a socket URL instead of its access token (docs/events.md)."""

from fastapi import APIRouter, status

from api.deps import CredentialDep, CurrentUser, RedisDep, SessionDep, SettingsDep
from api.errors import error_responses
from core.projects import get_project
from core.socket_tickets import SocketTicket, SocketTicketCreate, SocketTicketPublic, issue_ticket

router = APIRouter(prefix="/api/auth", tags=["auth"])


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
    credential: CredentialDep,
) -> SocketTicketPublic:
    """A single-use ticket for one socket on one of your projects, valid for `SOCKET_TICKET_TTL_SECONDS`."""
    project = await get_project(session, user, body.project_id)
    assert user.id is not None and project.id is not None
    grant = SocketTicket(
        user_id=user.id,
        project_id=project.id,
        token_expires_at=credential.expires_at,
        issued_at=credential.issued_at,
        session_id=credential.session_id,
    )
    ttl = settings.socket_ticket_ttl_seconds
    return SocketTicketPublic(ticket=await issue_ticket(redis, grant, ttl), expires_in=ttl)
