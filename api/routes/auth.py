"""Registration (under the registration mode), login (bearer JWT) and the current user; both rate-limited."""

from typing import Annotated

from fastapi import APIRouter, Query, status

from api.deps import ClientAddress, CurrentUser, LimiterDep, SessionDep, SettingsDep
from api.errors import error_responses
from core import invites
from core.schemas import Token, UserLogin, UserPublic, UserRegister
from core.security import create_access_token
from core.users import authenticate

router = APIRouter(prefix="/api/auth", tags=["auth"])


@router.get("/registration/", response_model=invites.RegistrationPublic)
async def registration(
    session: SessionDep,
    settings: SettingsDep,
    invite: Annotated[str | None, Query(max_length=64, description="An invite token to check")] = None,
) -> invites.RegistrationPublic:
    """Whether anyone may register (`open`), only with an invite (`invite_only`) or nobody (`closed`)."""
    return await invites.registration_info(session, settings, invite)


# 403: closed, or invite-only without a valid invite; 410: the invite is used or expired.
@router.post(
    "/register/",
    status_code=status.HTTP_201_CREATED,
    response_model=UserPublic,
    responses=error_responses(403, 409, 410, 429),
)
async def register(
    body: UserRegister,
    session: SessionDep,
    settings: SettingsDep,
    limiter: LimiterDep,
    address: ClientAddress,
) -> UserPublic:
    await limiter.hit_register(address)
    user = await invites.sign_up(session, settings, body)
    return UserPublic.model_validate(user, from_attributes=True)


@router.post("/login/", response_model=Token, responses=error_responses(401, 429))
async def login(
    body: UserLogin, session: SessionDep, settings: SettingsDep, limiter: LimiterDep, address: ClientAddress
) -> Token:
    await limiter.hit_login(address, body.email)
    user = await authenticate(session, body.email, body.password)
    assert user.id is not None
    token, lifetime = create_access_token(settings, user.id)
    return Token(access_token=token, expires_in=lifetime)


@router.get("/me/", response_model=UserPublic)
async def me(user: CurrentUser) -> UserPublic:
    return UserPublic.model_validate(user, from_attributes=True)
