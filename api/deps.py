"""Dependencies: the only way a route reaches the world (settings, storage, Redis, Temporal, events) or the
transaction (the request's session, which commits once and then sends the events queued during the request), the
current user, and loaded-and-owned objects.

Every dependency here is an `async def`, even a getter that only reads `app.state`: FastAPI sends a plain `def`
(and a class, through its __init__) to the thread pool, a hop per request that costs more than the getter
(tests/api/test_deps_boundary.py checks every dependency the routes and sockets reach)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import BackgroundTasks, Depends, Path, Query, Request
from fastapi.requests import HTTPConnection
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.client import Client

from api.outages import Outages, outages
from core import sessions
from core.assets import get_asset
from core.boxes import get_box
from core.deletion import DeletedAssets, finish_deletion
from core.errors import Forbidden, Unauthorized
from core.events import EventBus, Outbox
from core.models import Asset, Box, Project, StudioRole, User, utcnow
from core.projects import get_project
from core.ratelimit import RateLimiter, address_key
from core.realtime import SocketLimits
from core.relay import EventRelay
from core.schemas import MAX_DB_ID, MAX_PAGE_SIZE
from core.security import read_access_token
from core.settings import Settings
from core.spend import ProviderBalance, Spending
from core.storage import Storage
from core.studios import StudioAccess, get_studio
from core.temporal import TemporalClientHolder
from core.users import get_active_user


async def get_app_settings(connection: HTTPConnection) -> Settings:
    settings: Settings = connection.app.state.settings
    return settings


async def get_sessionmaker(connection: HTTPConnection) -> async_sessionmaker[AsyncSession]:
    """Sessions of their own, for work outside the request's transaction (sockets, after-response tasks)."""
    sessionmaker: async_sessionmaker[AsyncSession] = connection.app.state.sessionmaker
    return sessionmaker


SessionmakerDep = Annotated[async_sessionmaker[AsyncSession], Depends(get_sessionmaker)]


async def get_session(request: Request, sessionmaker: SessionmakerDep) -> AsyncIterator[AsyncSession]:
    """The request's transaction, which owns the request's outbox (`session.info["outbox"]`, see EventsDep):
    commits when the route returns normally, then publishes the events queued during the request; rolls back on
    an error and drops them (nothing is published about a change that did not happen).

    A database outage raised here (at the commit) reaches the error handlers like one raised in the route: the
    session's scope is "function", so this teardown runs before the answer is sent (and before the response's
    background tasks run: AfterDeletion's follow-ups start only once the delete is committed)."""
    bus: EventBus = request.app.state.events
    outbox = Outbox(bus)
    async with sessionmaker() as session:
        session.info["outbox"] = outbox
        try:
            yield session
            await session.commit()
        except BaseException:
            outbox.drop()
            await session.rollback()
            raise
    outages(request).database.recovered()
    await outbox.send()


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


async def get_events(session: SessionDep) -> Outbox:
    """The request's outbox: what a route (or a service it calls) queues is published after the request session's
    commit. The session owns it, so an outbox cannot exist without the transaction that sends it."""
    outbox: Outbox = session.info["outbox"]
    return outbox


EventsDep = Annotated[Outbox, Depends(get_events)]


async def get_engine(connection: HTTPConnection) -> AsyncEngine:
    """The engine itself, for the health probe's connection outside any transaction."""
    engine: AsyncEngine = connection.app.state.engine
    return engine


async def get_outages(connection: HTTPConnection) -> Outages:
    return outages(connection)


async def get_relay(connection: HTTPConnection) -> EventRelay:
    relay: EventRelay = connection.app.state.relay
    return relay


async def get_socket_limits(connection: HTTPConnection) -> SocketLimits:
    limits: SocketLimits = connection.app.state.socket_limits
    return limits


async def get_storage(connection: HTTPConnection) -> Storage:
    storage: Storage = connection.app.state.storage
    return storage


async def get_redis(connection: HTTPConnection) -> Redis:
    """The process's Redis client for short keys (rate limits, socket tickets, the health probe), owned by the
    lifespan."""
    redis: Redis = connection.app.state.redis
    return redis


async def get_temporal_connection(connection: HTTPConnection) -> TemporalClientHolder:
    """The lazy Temporal connection itself, for what must not fail when Temporal is down: the health probe, the
    Kie.ai callback (which reaches Temporal only once the callback is checked) and the after-deletion follow-ups."""
    holder: TemporalClientHolder = connection.app.state.temporal
    return holder


TemporalConnectionDep = Annotated[TemporalClientHolder, Depends(get_temporal_connection)]


async def get_temporal(request: Request, connection: TemporalConnectionDep) -> AsyncIterator[Client]:
    """The Temporal client (TemporalUnavailable, a 503, when it cannot connect)."""
    client = await connection.get()
    yield client
    # Reached only when the route returned normally: its Temporal calls were answered.
    outages(request).temporal.recovered()


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
EngineDep = Annotated[AsyncEngine, Depends(get_engine)]
OutagesDep = Annotated[Outages, Depends(get_outages)]
RelayDep = Annotated[EventRelay, Depends(get_relay)]
SocketLimitsDep = Annotated[SocketLimits, Depends(get_socket_limits)]
StorageDep = Annotated[Storage, Depends(get_storage)]
RedisDep = Annotated[Redis, Depends(get_redis)]
TemporalDep = Annotated[Client, Depends(get_temporal)]


class AfterDeletion:
    """Schedules what follows a committed delete (cancel running workflows, delete the S3 objects) to run after
    the response is sent, so neither Temporal nor S3 can slow down or fail the delete itself. Background tasks
    run after the session dependency's commit (its scope is "function"), and not at all when the commit fails."""

    def __init__(
        self,
        background: BackgroundTasks,
        sessionmaker: async_sessionmaker[AsyncSession],
        storage: Storage,
        temporal: TemporalClientHolder,
    ) -> None:
        self._background = background
        self._sessionmaker = sessionmaker
        self._storage = storage
        self._temporal = temporal

    def schedule(self, deleted: DeletedAssets) -> None:
        if deleted.follow_up_needed:
            self._background.add_task(
                finish_deletion, self._sessionmaker, self._storage, self._temporal, deleted
            )


async def get_after_deletion(
    background: BackgroundTasks,
    sessionmaker: SessionmakerDep,
    storage: StorageDep,
    temporal: TemporalConnectionDep,
) -> AfterDeletion:
    # A function, not `Depends()` on the class: FastAPI runs a class (its __init__) in the thread pool.
    return AfterDeletion(background, sessionmaker, storage, temporal)


AfterDeletionDep = Annotated[AfterDeletion, Depends(get_after_deletion)]


async def get_now() -> datetime:
    """The request's clock (tests override it to cross a UTC day without waiting)."""
    return utcnow()


NowDep = Annotated[datetime, Depends(get_now)]
_bearer = HTTPBearer(auto_error=False)


@dataclass(frozen=True, slots=True)
class Credential:
    """How the current request authenticated: a bearer token (issued at `issued_at`, epoch seconds) or a browser
    session (`session_id`). Socket tickets carry it, so an open socket ends with what opened it."""

    issued_at: float
    expires_at: float | None
    session_id: int | None = None


async def get_current_user(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    """The bearer token's user when the request has one (API clients, scripts), else the session cookie's
    (the SPA). A cookie-authenticated write must carry X-AAM-CSRF (docs/security.md, "Sessions")."""
    if credentials is not None and credentials.scheme.lower() == "bearer":
        claims = read_access_token(settings, credentials.credentials)
        user = await get_active_user(session, claims.user_id)
        sessions.check_token_issued_after(user, claims.issued_at)
        request.state.credential = Credential(claims.issued_at, claims.expires_at)
        return user
    token = request.cookies.get(sessions.SESSION_COOKIE)
    if token is None:
        raise Unauthorized("Log in first: this call needs a bearer token or a session.")
    user_session = await sessions.use_session(session, settings, token, now)
    user = await get_active_user(session, user_session.user_id)
    if request.method in sessions.UNSAFE_METHODS and request.headers.get(sessions.CSRF_HEADER) != "1":
        raise Forbidden(sessions.CSRF_REFUSED)
    request.state.credential = Credential(
        user_session.created_at.timestamp(), user_session.expires_at.timestamp(), user_session.id
    )
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


async def get_credential(request: Request, user: CurrentUser) -> Credential:
    """How the current user authenticated (set by get_current_user)."""
    credential: Credential = request.state.credential
    return credential


CredentialDep = Annotated[Credential, Depends(get_credential)]


def superuser(action: str) -> Callable[[User], Awaitable[User]]:
    """The dependency of an admin-only route: the current user if an administrator, else a 403 that names what
    only an administrator can do (`action`, e.g. "start a retention run")."""

    async def get_superuser(user: CurrentUser) -> User:
        if not user.is_superuser:
            raise Forbidden(f"Only an administrator can {action}.")
        return user

    return get_superuser


ObjectId = Annotated[int, Path(ge=1, le=MAX_DB_ID, description="Object id")]


# Objects named in the path, loaded for a member of their studio whose role allows the route (core/studios.py):
# 404 outside the studio, 403 naming the role needed below it. A route picks the alias for the least role that
# may call it; docs/roles.md is the table (tests/api/test_roles.py checks every route against it).


def project_as(needed: StudioRole) -> Callable[..., Awaitable[Project]]:
    async def project_for_role(project_id: ObjectId, user: CurrentUser, session: SessionDep) -> Project:
        return await get_project(session, user, project_id, needed)

    return project_for_role


def box_as(needed: StudioRole) -> Callable[..., Awaitable[Box]]:
    async def box_for_role(box_id: ObjectId, user: CurrentUser, session: SessionDep) -> Box:
        return await get_box(session, user, box_id, needed)

    return box_for_role


def asset_as(needed: StudioRole) -> Callable[..., Awaitable[Asset]]:
    async def asset_for_role(asset_id: ObjectId, user: CurrentUser, session: SessionDep) -> Asset:
        return await get_asset(session, user, asset_id, needed)

    return asset_for_role


def studio_as(needed: StudioRole) -> Callable[..., Awaitable[StudioAccess]]:
    async def studio_for_role(studio_id: ObjectId, user: CurrentUser, session: SessionDep) -> StudioAccess:
        return await get_studio(session, user, studio_id, needed)

    return studio_for_role


ViewedStudio = Annotated[StudioAccess, Depends(studio_as(StudioRole.VIEWER))]
ManagedStudio = Annotated[StudioAccess, Depends(studio_as(StudioRole.OWNER))]
ViewedProject = Annotated[Project, Depends(project_as(StudioRole.VIEWER))]
EditedProject = Annotated[Project, Depends(project_as(StudioRole.EDITOR))]
ManagedProject = Annotated[Project, Depends(project_as(StudioRole.OWNER))]
ViewedBox = Annotated[Box, Depends(box_as(StudioRole.VIEWER))]
EditedBox = Annotated[Box, Depends(box_as(StudioRole.EDITOR))]
ViewedAsset = Annotated[Asset, Depends(asset_as(StudioRole.VIEWER))]
EditedAsset = Annotated[Asset, Depends(asset_as(StudioRole.EDITOR))]


@dataclass(frozen=True, slots=True)
class Pagination:
    limit: int
    offset: int


async def get_pagination(
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Page size")] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000, description="Items to skip")] = 0,
) -> Pagination:
    return Pagination(limit, offset)


PaginationDep = Annotated[Pagination, Depends(get_pagination)]


# --- rate limits (core/ratelimit.py) ---------------------------------------------------------------------------


async def get_limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.limiter
    return limiter


async def get_client_address(request: Request) -> str:
    """The client as per-address limits count it: its address as the server sees it (behind Nginx, made
    trustworthy by the proxy settings), an IPv6 client's being its /64 (`core.ratelimit.address_key`)."""
    return address_key(request.client.host) if request.client is not None else "unknown"


LimiterDep = Annotated[RateLimiter, Depends(get_limiter)]
ClientAddress = Annotated[str, Depends(get_client_address)]


async def limit_generation(user: CurrentUser, limiter: LimiterDep) -> None:
    """Generate, animate and retry share one per-user budget (RATE_LIMIT_GENERATE_PER_USER)."""
    assert user.id is not None
    await limiter.hit_generate(user.id)


async def limit_smart_edit(user: CurrentUser, limiter: LimiterDep) -> None:
    assert user.id is not None
    await limiter.hit_smart_edit(user.id)


GenerationRateLimit = Depends(limit_generation)
SmartEditRateLimit = Depends(limit_smart_edit)


# --- spend limits ----------------------------------------------------------------------------------------------


async def get_provider_balance(request: Request) -> ProviderBalance:
    balance: ProviderBalance = request.app.state.provider_balance
    return balance


ProviderBalanceDep = Annotated[ProviderBalance, Depends(get_provider_balance)]


async def get_spending(user: CurrentUser, balance: ProviderBalanceDep, now: NowDep) -> Spending:
    return Spending(user, balance, now)


SpendingDep = Annotated[Spending, Depends(get_spending)]
