"""Spend limits on paid work: what a request will cost, whether the user may spend it, and the ledger of charges.

Every generation, animate, retry and smart edit inserts a CreditCharge in the transaction that creates its work,
after a check made under a lock on the user's row (two concurrent requests cannot both pass on the same budget).
Today's spend is the sum of the day's charges (Kie.ai's actual figure once known, else the estimate); deleting an
asset keeps its charges, so budget never comes back. Days are UTC.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.contract import AssetStatus, KieError
from core.db import release_connection
from core.errors import InvalidInput, ProviderOutOfCredits, RateLimited
from core.kie import KieClient
from core.models import AIModel, Asset, ChargeKind, CreditCharge, Project, Studio, SystemConfig, User
from core.settings import Settings

logger = logging.getLogger(__name__)

RUNNING_RETRY_AFTER_SECONDS = 30
"""What a refusal for the running cap suggests: generations finish within minutes, slots free up as they do."""

TIMES = "\N{MULTIPLICATION SIGN}"

# --- estimates -------------------------------------------------------------------------------------------------


def credits_text(value: float) -> str:
    """112 → "112", 3.5 → "3.5", 1234.567 → "1234.57"."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _number(value: Any) -> float | None:
    """8, 8.0 or "8" as 8.0; anything else (true, "long", NaN) None."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


class VariantCost(NamedTuple):
    credits: float
    how: str
    """How the figure was reckoned, e.g. "12 s TIMES 15 credits/s (1080p, with audio)" or "4 credits"."""


def variant_cost(model: AIModel, params: Mapping[str, Any]) -> VariantCost | None:
    """One variant's credits and how they were reckoned; None when the model has no price at all (a paid request
    is then refused, see `estimate_generation`). Seedance: credits per second by resolution and audio times
    duration (`capabilities.credits_per_second`); other models: their `price_credits`.

    The SPA reckons the same way (web/src/lib/cost.ts); tests/core/test_spend_estimates.py and its Vitest twin
    share one table of cases."""
    rates = model.capabilities.get("credits_per_second")
    if isinstance(rates, dict):
        resolution = str(params.get("resolution", "720p"))
        rate = rates.get(resolution)
        if isinstance(rate, dict):
            audio = bool(params.get("generate_audio"))
            per_second = rate.get("audio" if audio else "silent")
            duration = _number(params.get("duration", 8))
            if (
                isinstance(per_second, int | float)
                and not isinstance(per_second, bool)
                and duration is not None
            ):
                cost = round(float(per_second) * duration, 2)
                how = (
                    f"{credits_text(duration)} s {TIMES} {credits_text(float(per_second))} credits/s "
                    f"({resolution}, {'with' if audio else 'no'} audio)"
                )
                return VariantCost(cost, how)
    if model.price_credits is None:
        return None
    price = float(model.price_credits)
    return VariantCost(price, f"{credits_text(price)} credits")


def unpriced_refusal(model: AIModel) -> InvalidInput:
    return InvalidInput(
        f"{model.display_name} has no price set, so what it would cost cannot be checked against your budget; "
        "ask an administrator to set one.",
        details={"model": model.provider_model_id, "reason": "no_price"},
    )


@dataclass(frozen=True)
class Estimate:
    kind: ChargeKind
    per_asset: float
    count: int
    breakdown: str
    """How the total was reckoned, e.g. "4 TIMES 28" or "12 s TIMES 15 credits/s (1080p, with audio)"."""

    @property
    def total(self) -> float:
        return round(self.per_asset * self.count, 2)

    @property
    def starts(self) -> int:
        """Generations this request starts (a smart edit starts none)."""
        return 0 if self.kind is ChargeKind.SMART_EDIT else self.count


def estimate_generation(model: AIModel, params: Mapping[str, Any], count: int, kind: ChargeKind) -> Estimate:
    """Refuses (InvalidInput) a model with no price: it would cost 0 here and escape the daily budget."""
    cost = variant_cost(model, params)
    if cost is None:
        raise unpriced_refusal(model)
    per_asset, how = cost
    breakdown = f"{count} {TIMES} {credits_text(per_asset)}" if count > 1 else how
    return Estimate(kind=kind, per_asset=per_asset, count=count, breakdown=breakdown)


# --- limits ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Limits:
    daily_budget: float
    max_running: int
    smart_edit_cost: float


async def load_system_config(session: AsyncSession) -> SystemConfig:
    config = await session.get(SystemConfig, 1)
    return config if config is not None else SystemConfig(id=1)


def limits_for(user: User, config: SystemConfig) -> Limits:
    """The user's own limits where set (admin), SystemConfig's defaults elsewhere."""
    budget = user.daily_credit_budget if user.daily_credit_budget is not None else config.daily_credit_budget
    running = (
        user.max_running_generations
        if user.max_running_generations is not None
        else config.max_running_generations
    )
    return Limits(daily_budget=budget, max_running=running, smart_edit_cost=config.smart_edit_cost_credits)


def day_start(now: datetime) -> datetime:
    now = now.astimezone(UTC)
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def next_reset(now: datetime) -> datetime:
    return day_start(now) + timedelta(days=1)


def _duration_text(seconds: float) -> str:
    minutes = max(1, int(seconds // 60))
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


async def spent_today(session: AsyncSession, user_id: int, now: datetime) -> float:
    return await spent_today_where(session, col(CreditCharge.user_id) == user_id, now)


def _charged_sum() -> Any:
    """The sum of charges: Kie.ai's actual figure once known, else the estimate (0 without any)."""
    return func.coalesce(func.sum(func.coalesce(CreditCharge.actual, CreditCharge.estimated)), 0.0)


def _charged_today(now: datetime) -> Any:
    return sa.and_(
        col(CreditCharge.created_at) >= day_start(now), col(CreditCharge.created_at) < next_reset(now)
    )


async def spent_today_where(session: AsyncSession, whose: Any, now: datetime) -> float:
    """Today's charges matching `whose` (a user's, or a studio's)."""
    total = (await session.exec(select(_charged_sum()).where(whose, _charged_today(now)))).one()
    return round(float(total), 2)


async def spent_today_by_studio(
    session: AsyncSession, studio_ids: list[int], now: datetime
) -> dict[int, float]:
    """Today's charges of each of these studios (absent: none)."""
    rows = (
        await session.exec(
            select(CreditCharge.studio_id, _charged_sum())
            .where(col(CreditCharge.studio_id).in_(studio_ids), _charged_today(now))
            .group_by(col(CreditCharge.studio_id))
        )
    ).all()
    return {studio_id: round(float(total), 2) for studio_id, total in rows if studio_id is not None}


async def running_generations(session: AsyncSession, user_id: int) -> int:
    count = (
        await session.exec(
            select(func.count())
            .select_from(Asset)
            .where(
                Asset.requested_by_id == user_id,
                col(Asset.status).in_([AssetStatus.PENDING, AssetStatus.RUNNING]),
            )
        )
    ).one()
    return int(count)


@dataclass(frozen=True)
class StudioBudget:
    studio_id: int
    name: str
    daily_budget: float | None


async def studio_budget(session: AsyncSession, project_id: int) -> StudioBudget:
    """The budget of the studio `project_id` belongs to. A studio with one is locked (until the caller's commit)
    and read again, so two members' concurrent requests cannot both pass on the same studio budget."""
    query = select(Project.studio_id, Studio.name, Studio.daily_credit_budget).join(
        Studio, col(Studio.id) == Project.studio_id
    )
    query = query.where(Project.id == project_id)
    studio_id, name, budget = (await session.exec(query)).one()
    if budget is not None:
        # FOR NO KEY UPDATE: a project created in the studio meanwhile does not wait for this request's commit.
        locked = query.with_for_update(of=Studio, key_share=True)
        studio_id, name, budget = (await session.exec(locked)).one()
    return StudioBudget(studio_id, name, budget)


async def check_studio_budget(
    session: AsyncSession, studio: StudioBudget, estimate: Estimate, now: datetime
) -> None:
    if studio.daily_budget is None:
        return
    spent = await spent_today_where(session, col(CreditCharge.studio_id) == studio.studio_id, now)
    if spent + estimate.total > studio.daily_budget + 1e-9:
        raise _studio_budget_refusal(studio, spent, estimate, now)


async def check_limits(
    session: AsyncSession, user: User, estimate: Estimate, now: datetime, project_id: int | None = None
) -> int | None:
    """Lock the user's row (until the caller's commit), then refuse with RateLimited when the request would pass
    the running cap or the day's budget, the user's or (locked after the user's row) that of the studio of
    `project_id`, the work's. The caller inserts its charges before committing. Returns that studio's id (None
    without a project): the charges are the studio's."""
    assert user.id is not None
    # FOR NO KEY UPDATE: serialises this user's checks without blocking foreign-key checks on the row (an invite
    # or a project they create meanwhile while holding their studio's lock would otherwise deadlock with this).
    await session.exec(select(User.id).where(User.id == user.id).with_for_update(key_share=True))
    # The lock serialises this user's checks; re-read the overrides an admin may just have changed.
    await session.refresh(user, attribute_names=["daily_credit_budget", "max_running_generations"])
    limits = limits_for(user, await load_system_config(session))
    if estimate.starts:
        running = await running_generations(session, user.id)
        if running + estimate.starts > limits.max_running:
            raise _running_refusal(running, estimate.starts, limits.max_running)
    spent = await spent_today(session, user.id, now)
    if spent + estimate.total > limits.daily_budget + 1e-9:
        raise _budget_refusal("Your", limits.daily_budget, spent, estimate, now)
    if project_id is None:
        return None
    studio = await studio_budget(session, project_id)
    await check_studio_budget(session, studio, estimate, now)
    return studio.studio_id


def _running_refusal(running: int, needed: int, limit: int) -> RateLimited:
    free = max(0, limit - running)
    if limit <= 0:
        sentence = (
            "An administrator has blocked paid work on your account (it may run no generations at all); "
            "ask an administrator to lift the block."
        )
    elif needed > limit:
        sentence = (
            f"Your account may run {limit} generation{'s' if limit != 1 else ''} at once; this request starts "
            f"{needed}. Ask for fewer variants."
        )
    else:
        sentence = (
            f"You have {running} generation{'s' if running != 1 else ''} running and may run {limit} at once: "
            f"{free} slot{'s' if free != 1 else ''} free, this request needs {needed}. Each generation that "
            "finishes frees a slot; try again in a moment."
        )
    return RateLimited(
        sentence,
        details={
            "limit": "running_generations",
            "max_running": limit,
            "running": running,
            "remaining": free,
            "needed": needed,
            "retry_after": RUNNING_RETRY_AFTER_SECONDS,
        },
    )


def _budget_refusal(
    whose: str,
    budget: float,
    spent: float,
    estimate: Estimate,
    now: datetime,
    *,
    spent_by: str = "",
    advice: str = "",
    details: dict[str, Any] | None = None,
) -> RateLimited:
    """A day budget's refusal: `whose` ("Your", "Northlight's") budget, what is spent and left, when it resets;
    `details` adds to (or overrides) the common ones."""
    remaining = max(0.0, round(budget - spent, 2))
    resets_at = next_reset(now)
    wait = (resets_at - now).total_seconds()
    sentence = (
        f"{whose} daily budget is {credits_text(budget)} credits: {credits_text(spent)} spent today{spent_by}, "
        f"{credits_text(remaining)} left; this request needs {credits_text(estimate.total)} "
        f"({estimate.breakdown}). It resets at 00:00 UTC, in {_duration_text(wait)}{advice}."
    )
    return RateLimited(
        sentence,
        details={
            "limit": "daily_budget",
            "daily_budget": budget,
            "spent": spent,
            "remaining": remaining,
            "needed": estimate.total,
            "resets_at": resets_at.isoformat(),
            "retry_after": max(1, int(wait)),
            **(details or {}),
        },
    )


def _studio_budget_refusal(
    studio: StudioBudget, spent: float, estimate: Estimate, now: datetime
) -> RateLimited:
    return _budget_refusal(
        f"{studio.name}'s",
        studio.daily_budget or 0.0,
        spent,
        estimate,
        now,
        spent_by=" by its members",
        advice="; an owner of the studio can raise it",
        details={"limit": "studio_daily_budget", "studio_id": studio.studio_id, "studio_name": studio.name},
    )


def new_charge(
    user_id: int, estimate: Estimate, asset_id: int | None, now: datetime, studio_id: int | None = None
) -> CreditCharge:
    return CreditCharge(
        user_id=user_id,
        studio_id=studio_id,
        asset_id=asset_id,
        kind=estimate.kind,
        estimated=estimate.per_asset,
        created_at=now,
        updated_at=now,
    )


async def delete_charges(session: AsyncSession, charge_ids: list[int]) -> None:
    """Work that never started costs nothing: its charges go (in the transaction that undoes the work)."""
    if charge_ids:
        await session.exec(sa.delete(CreditCharge).where(col(CreditCharge.id).in_(charge_ids)))


async def settle_charge(session: AsyncSession, charge_id: int, actual: float) -> None:
    await session.exec(sa.update(CreditCharge).where(col(CreditCharge.id) == charge_id).values(actual=actual))


async def settle_asset_charge(session: AsyncSession, asset_id: int, actual: float) -> None:
    """Record what the asset's open charge (its latest, not settled yet) actually cost."""
    latest = (
        select(CreditCharge.id)
        .where(CreditCharge.asset_id == asset_id, col(CreditCharge.actual).is_(None))
        .order_by(col(CreditCharge.id).desc())
        .limit(1)
        .scalar_subquery()
    )
    await session.exec(sa.update(CreditCharge).where(col(CreditCharge.id) == latest).values(actual=actual))


# --- the Kie.ai balance ----------------------------------------------------------------------------------------


class ProviderBalance:
    """The Kie.ai account balance, read at most once per `kie_balance_cache_seconds` per process.

    No request queues for it: a stale reading is served while one background task refreshes it; only the very
    first reading is awaited (one fetch shared by every request, bounded by `kie_balance_timeout_seconds`).
    None when it cannot be read: a request is then not held up."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._client = KieClient.from_settings(settings)
        self._client.timeout = settings.kie_balance_timeout_seconds
        self._value: float | None = None
        self._read_at: float | None = None
        self._refresh: asyncio.Task[None] | None = None

    @property
    def waits(self) -> bool:
        """Whether `read` would wait for Kie.ai (nothing read yet), so a caller gives back what it holds first."""
        return self._read_at is None

    async def _fetch(self) -> None:
        try:
            self._value = await self._client.credits()
        except KieError as exc:
            logger.warning("could not read the Kie.ai balance: %s", exc)
            self._value = None
        self._read_at = time.monotonic()

    def _refreshing(self) -> asyncio.Task[None]:
        if self._refresh is None or self._refresh.done():
            self._refresh = asyncio.get_running_loop().create_task(self._fetch(), name="kie-balance")
        return self._refresh

    async def read(self) -> float | None:
        if self._read_at is None:
            # Shielded: a request that goes away does not cancel the reading the others share.
            await asyncio.shield(self._refreshing())
            return self._value
        if time.monotonic() - self._read_at >= self._settings.kie_balance_cache_seconds:
            self._refreshing()
        return self._value

    async def check(self, estimate: Estimate) -> None:
        """Refuse, once and before anything starts, what the studio's Kie.ai account cannot pay for."""
        if estimate.total <= 0:
            return
        balance = await self.read()
        if balance is not None and balance < estimate.total:
            raise ProviderOutOfCredits(
                f"The studio's Kie.ai account has {credits_text(balance)} credits left; this request needs "
                f"{credits_text(estimate.total)}. Ask an administrator to top it up.",
                details={"balance": balance, "needed": estimate.total},
            )

    async def aclose(self) -> None:
        if self._refresh is not None and not self._refresh.done():
            self._refresh.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._refresh
        await self._client.aclose()


class Spending:
    """What a request is about to spend: checked (under the user's lock) before its work is inserted."""

    def __init__(self, user: User, balance: ProviderBalance, now: datetime) -> None:
        self.user = user
        self.balance = balance
        self.now = now
        self.studio_id: int | None = None
        """The studio the checked work is for (set by `check`): its charges count against that studio's budget."""

    async def check(self, session: AsyncSession, estimate: Estimate, *, project_id: int | None) -> Estimate:
        """The Kie.ai balance first, then the user's limits and those of the studio of `project_id` (the work's),
        locked until the commit that inserts the work and its charges (`studio_id` then names that studio). The first reading of the balance waits for
        Kie.ai: the session's pooled connection goes back meanwhile (everything before this point only read)."""
        if estimate.total > 0 and self.balance.waits:
            await release_connection(session)
        await self.balance.check(estimate)
        self.studio_id = await check_limits(session, self.user, estimate, self.now, project_id)
        return estimate

    async def charge_smart_edit(self, session: AsyncSession, *, project_id: int | None) -> CreditCharge:
        """Check and charge one smart edit (to the studio of `project_id`, the box's, when it has one),
        committed at once: the lock is not held while the LLM answers."""
        assert self.user.id is not None
        config = await load_system_config(session)
        estimate = Estimate(
            kind=ChargeKind.SMART_EDIT,
            per_asset=config.smart_edit_cost_credits,
            count=1,
            breakdown="one smart edit",
        )
        await self.check(session, estimate, project_id=project_id)
        charge = new_charge(self.user.id, estimate, None, self.now, self.studio_id)
        session.add(charge)
        await session.commit()
        return charge


# --- usage -----------------------------------------------------------------------------------------------------


class UsagePublic(BaseModel):
    spent_today: float = Field(description="Credits charged today (UTC): actual where known, else estimated")
    daily_budget: float
    remaining: float
    running: int = Field(description="Generations PENDING or RUNNING in the user's projects")
    max_running: int
    resets_at: datetime = Field(description="When today's spend starts again from 0 (00:00 UTC)")
    smart_edit_cost: float = Field(description="What one smart edit is charged")
    kie_balance: float | None = Field(
        description="The studio's Kie.ai balance (superusers only; null otherwise or when it cannot be read)"
    )


async def read_usage(
    session: AsyncSession, user: User, balance: ProviderBalance, now: datetime
) -> UsagePublic:
    assert user.id is not None
    limits = limits_for(user, await load_system_config(session))
    spent = await spent_today(session, user.id, now)
    return UsagePublic(
        spent_today=spent,
        daily_budget=limits.daily_budget,
        remaining=max(0.0, round(limits.daily_budget - spent, 2)),
        running=await running_generations(session, user.id),
        max_running=limits.max_running,
        resets_at=next_reset(now),
        smart_edit_cost=limits.smart_edit_cost,
        kie_balance=await balance.read() if user.is_superuser else None,
    )
