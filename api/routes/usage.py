"""The current user's spend: today's credits, the limits, running generations (and the Kie.ai balance for admins)."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import CurrentUser, NowDep, ProviderBalanceDep, SessionDep
from core import spend
from core.spend import UsagePublic

router = APIRouter(tags=["auth"])


@router.get("/api/auth/me/usage/", response_model=UsagePublic)
async def read_usage(
    user: CurrentUser, session: SessionDep, balance: ProviderBalanceDep, now: NowDep
) -> UsagePublic:
    return await spend.read_usage(session, user, balance, now)
