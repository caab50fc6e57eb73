"""Dependencies: the request's session (which owns the transaction), the current user, and loaded-and-owned objects."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated

from fastapi import BackgroundTasks, Depends, Path, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from redis.asyncio import Redis
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.client import Client

from api.outages import outages
from core.assets import get_owned_asset
from core.boxes import get_owned_box
from core.deletion import DeletedAssets, finish_deletion
from core.errors import Unauthorized
from core.events import EventBus
from core.models import Asset, Box, Project, User, utcnow
from core.projects import get_owned_project
from core.ratelimit import RateLimiter, address_key
from core.schemas import MAX_DB_ID, MAX_PAGE_SIZE
from core.security import read_access_token
from core.settings import Settings
from core.spend import ProviderBalance, Spending
from core.storage import Storage
from core.users import get_active_user


def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """Commits when the route returns normally; rolls back on an error. Routes that publish commit first.

    A database outage raised here (at the commit) reaches the error handlers like one raised in the route: the
    session's scope is "function", so this teardown runs before the answer is sent."""
    async with request.app.state.sessionmaker() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise
    outages(request).database.recovered()


def get_storage(request: Request) -> Storage:
    storage: Storage = request.app.state.storage
    return storage


def get_redis(request: Request) -> Redis:
    """The process's Redis client for short keys (rate limits), owned by the lifespan."""
    redis: Redis = request.app.state.redis
    return redis


def get_events(request: Request) -> EventBus:
    events: EventBus = request.app.state.events
    return events


async def get_temporal(request: Request) -> AsyncIterator[Client]:
    """The Temporal client (TemporalUnavailable, a 503, when it cannot connect)."""
    client: Client = await request.app.state.temporal.get()
    yield client
    # Reached only when the route returned normally: its Temporal calls were answered.
    outages(request).temporal.recovered()


class AfterDeletion:
    """Schedules what follows a committed delete (cancel running workflows, delete the S3 objects) to run after
    the response is sent, so neither Temporal nor S3 can slow down or fail the delete itself."""

    def __init__(self, request: Request, background: BackgroundTasks) -> None:
        self._state = request.app.state
        self._background = background

    def schedule(self, deleted: DeletedAssets) -> None:
        if deleted.follow_up_needed:
            self._background.add_task(
                finish_deletion, self._state.sessionmaker, self._state.storage, self._state.temporal, deleted
            )


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
StorageDep = Annotated[Storage, Depends(get_storage)]
EventsDep = Annotated[EventBus, Depends(get_events)]
RedisDep = Annotated[Redis, Depends(get_redis)]
TemporalDep = Annotated[Client, Depends(get_temporal)]
AfterDeletionDep = Annotated[AfterDeletion, Depends()]

_bearer = HTTPBearer(auto_error=False)


async def get_current_user(
    session: SessionDep,
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("Log in first: this call needs a bearer token.")
    user_id = read_access_token(settings, credentials.credentials)
    return await get_active_user(session, user_id)


CurrentUser = Annotated[User, Depends(get_current_user)]

ObjectId = Annotated[int, Path(ge=1, le=MAX_DB_ID, description="Object id")]


async def owned_project(project_id: ObjectId, user: CurrentUser, session: SessionDep) -> Project:
    return await get_owned_project(session, user, project_id)


async def owned_box(box_id: ObjectId, user: CurrentUser, session: SessionDep) -> Box:
    return await get_owned_box(session, user, box_id)


async def owned_asset(asset_id: ObjectId, user: CurrentUser, session: SessionDep) -> Asset:
    return await get_owned_asset(session, user, asset_id)


OwnedProject = Annotated[Project, Depends(owned_project)]
OwnedBox = Annotated[Box, Depends(owned_box)]
OwnedAsset = Annotated[Asset, Depends(owned_asset)]


class Pagination:
    def __init__(
        self,
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Page size")] = 50,
        offset: Annotated[int, Query(ge=0, le=10_000_000, description="Items to skip")] = 0,
    ) -> None:
        self.limit = limit
        self.offset = offset


PaginationDep = Annotated[Pagination, Depends()]


# --- rate limits (core/ratelimit.py) ---------------------------------------------------------------------------


def get_limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.limiter
    return limiter


def get_client_address(request: Request) -> str:
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


def get_now() -> datetime:
    """The request's clock (tests override it to cross a UTC day without waiting)."""
    return utcnow()


def get_provider_balance(request: Request) -> ProviderBalance:
    balance: ProviderBalance = request.app.state.provider_balance
    return balance


NowDep = Annotated[datetime, Depends(get_now)]
ProviderBalanceDep = Annotated[ProviderBalance, Depends(get_provider_balance)]


def get_spending(user: CurrentUser, balance: ProviderBalanceDep, now: NowDep) -> Spending:
    return Spending(user, balance, now)


SpendingDep = Annotated[Spending, Depends(get_spending)]
