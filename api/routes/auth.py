"""Registration (under the registration mode), login (a bearer JWT for API clients, or a browser session cookie
for the SPA), logout, logout everywhere and the current user; registration and logins are rate-limited."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from api.deps import ClientAddress, CurrentUser, LimiterDep, NowDep, SessionDep, SettingsDep
from api.errors import error_responses
from core import invites, sessions
from core.errors import Forbidden
from core.schemas import Token, UserLogin, UserPublic, UserRegister
from core.security import create_access_token
from core.users import authenticate

router = APIRouter(prefix="/api/auth", tags=["auth"])


@router.get("/registration/", response_model=invites.RegistrationPublic)
async def registration(
    session: SessionDep,
    settings: SettingsDep,
    invite: Annotated[str | None, Query(max_length=64, description="An invite token to check")] = None,
    studio_invite: Annotated[
        str | None, Query(max_length=64, description="A studio invite token (`/join/?token=…`) to check")
    ] = None,
) -> invites.RegistrationPublic:
    """Whether anyone may register (`open`), only with an invite (`invite_only`) or nobody (`closed`); with
    `studio_invite`, whether that studio invite lets the visitor register."""
    return await invites.registration_info(session, settings, invite, studio_invite)


# 403: closed, or invite-only without a valid invite; 410: the invite (or studio invite) is used or expired.
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


@router.post("/session/", response_model=UserPublic, responses=error_responses(401, 429))
async def create_session(
    body: UserLogin,
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    limiter: LimiterDep,
    address: ClientAddress,
    now: NowDep,
) -> UserPublic:
    """Log in the browser: sets the HttpOnly `aam_session` cookie (same limits as `/login/`)."""
    await limiter.hit_login(address, body.email)
    user = await authenticate(session, body.email, body.password)
    # A login on top of a live cookie replaces that session rather than leaving it alive behind the new one.
    replaced = request.cookies.get(sessions.SESSION_COOKIE)
    if replaced is not None:
        await sessions.end_session(session, replaced, now)
    token = await sessions.start_session(session, settings, user, request.headers.get("user-agent", ""), now)
    response.set_cookie(
        sessions.SESSION_COOKIE,
        token,
        max_age=int(sessions.session_lifetime(settings).total_seconds()),
        path=sessions.SESSION_COOKIE_PATH,
        # The scheme is https when the request came over TLS, or a trusted proxy said so (X-Forwarded-Proto).
        secure=settings.session_cookie_secure or request.url.scheme == "https",
        httponly=True,
        samesite="strict",
    )
    return UserPublic.model_validate(user, from_attributes=True)


@router.delete("/session/", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(403))
async def delete_session(request: Request, session: SessionDep, now: NowDep) -> Response:
    """Log out this browser: its session ends and the cookie is cleared (also when it had ended already)."""
    token = request.cookies.get(sessions.SESSION_COOKIE)
    if token is not None:
        if request.headers.get(sessions.CSRF_HEADER) != "1":
            raise Forbidden(sessions.CSRF_REFUSED)
        await sessions.end_session(session, token, now)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    response.delete_cookie(
        sessions.SESSION_COOKIE, path=sessions.SESSION_COOKIE_PATH, httponly=True, samesite="strict"
    )
    return response


@router.post("/logout-everywhere/", status_code=status.HTTP_204_NO_CONTENT)
async def logout_everywhere(user: CurrentUser, session: SessionDep, now: NowDep) -> Response:
    """End every session of yours and refuse every bearer token issued until now; your open live sockets close
    at their next ping. The cookie of this browser is cleared too."""
    await sessions.end_all_sessions(session, user, now)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    response.delete_cookie(
        sessions.SESSION_COOKIE, path=sessions.SESSION_COOKIE_PATH, httponly=True, samesite="strict"
    )
    return response
