"""Registration, login (bearer JWT) and the current user."""

from fastapi import APIRouter, status

from api.deps import CurrentUser, SessionDep, SettingsDep
from api.errors import error_responses
from core.schemas import LoginBody, Token, UserPublic, UserRegister
from core.security import create_access_token
from core.users import authenticate, register_user

router = APIRouter(prefix="/api/auth", tags=["auth"])


@router.post(
    "/register/",
    status_code=status.HTTP_201_CREATED,
    response_model=UserPublic,
    responses=error_responses(409),
)
async def register(body: UserRegister, session: SessionDep) -> UserPublic:
    user = await register_user(session, body)
    return UserPublic.model_validate(user, from_attributes=True)


@router.post("/login/", response_model=Token, responses=error_responses(401))
async def login(body: LoginBody, session: SessionDep, settings: SettingsDep) -> Token:
    user = await authenticate(session, body.email, body.password)
    assert user.id is not None
    token, lifetime = create_access_token(settings, user.id)
    return Token(access_token=token, expires_in=lifetime)


@router.get("/me/", response_model=UserPublic)
async def me(user: CurrentUser) -> UserPublic:
    return UserPublic.model_validate(user, from_attributes=True)
