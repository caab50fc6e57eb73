"""The AI model catalogue (providers and models are rows edited in the admin UI, not code), and what a request may
ask of a model: its parameters and prompt checked against the model's capabilities."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.contract import AssetStatus
from core.errors import InvalidInput
from core.models import AIModel, AIProvider, Asset, ModelKind
from core.schemas import AIModelPublic


async def list_active_models(session: AsyncSession, kind: ModelKind | None = None) -> list[AIModelPublic]:
    query = (
        select(AIModel)
        .join(AIProvider)
        .where(col(AIModel.is_active).is_(True), col(AIProvider.is_active).is_(True))
        .order_by(col(AIModel.kind), col(AIModel.display_name))
        .options(selectinload(AIModel.provider))  # type: ignore[arg-type]
    )
    if kind is not None:
        query = query.where(AIModel.kind == kind)
    models = (await session.exec(query)).all()
    typical = await typical_seconds(session, [model.id for model in models if model.id is not None])
    return [
        AIModelPublic(
            id=model.id,
            provider=model.provider.slug,
            provider_model_id=model.provider_model_id,
            display_name=model.display_name,
            kind=model.kind,
            default_params=model.default_params,
            capabilities=model.capabilities,
            price_credits=model.price_credits,
            typical_seconds=typical.get(model.id) if model.id is not None else None,
        )
        for model in models
    ]


DURATION_SAMPLES = 20
"""typical_seconds is the median of a model's last this many completed assets…"""
MIN_DURATION_SAMPLES = 3
"""…and unknown (null) below this many."""


async def typical_seconds(session: AsyncSession, model_ids: list[int]) -> dict[int, float]:
    """Median seconds from request to result of each model's recent completed assets, in one statement (a LATERAL
    subquery per model reads its newest rows from `ix_asset_model_id_finished_at`); models with too few are left
    out."""
    if not model_ids:
        return {}
    finished = col(Asset.finished_at)
    recent = (
        select(sa.extract("epoch", finished - col(Asset.created_at)).label("seconds"))
        .where(
            col(Asset.model_id) == col(AIModel.id),
            col(Asset.status) == AssetStatus.COMPLETED,
            finished.is_not(None),
        )
        .order_by(finished.desc())
        .limit(DURATION_SAMPLES)
        .lateral("recent")
    )
    median = func.percentile_cont(0.5).within_group(recent.c.seconds)
    rows = (
        await session.exec(
            select(col(AIModel.id), median)
            .select_from(AIModel)
            .join(recent, sa.true())
            .where(col(AIModel.id).in_(model_ids))
            .group_by(col(AIModel.id))
            .having(func.count() >= MIN_DURATION_SAMPLES)
        )
    ).all()
    return {model_id: float(seconds) for model_id, seconds in rows if model_id is not None}


async def get_active_model(session: AsyncSession, provider_model_id: str) -> AIModel | None:
    return (
        await session.exec(
            select(AIModel)
            .join(AIProvider)
            .where(
                AIModel.provider_model_id == provider_model_id,
                col(AIModel.is_active).is_(True),
                col(AIProvider.is_active).is_(True),
            )
            .options(selectinload(AIModel.provider))  # type: ignore[arg-type]
        )
    ).first()


def resolve_params(model: AIModel, given: Mapping[str, Any]) -> dict[str, Any]:
    """Defaults (capabilities, then the model's default_params) overlaid with the request, each checked."""
    specs: dict[str, Any] = model.capabilities.get("params") or {}
    unknown = sorted(set(given) - set(specs))
    if unknown:
        raise InvalidInput(
            f"{model.display_name} does not take {', '.join(unknown)}.",
            details={"unknown_params": unknown, "allowed": sorted(specs)},
        )
    resolved: dict[str, Any] = {}
    for name, spec in specs.items():
        if "default" in spec:
            resolved[name] = spec["default"]
        if name in model.default_params:
            resolved[name] = model.default_params[name]
    for name, value in given.items():
        spec = specs[name]
        if spec.get("type") == "bool":
            if not isinstance(value, bool):
                raise InvalidInput(f"{name} must be true or false.", details={"param": name})
        elif spec.get("type") == "enum":
            values = spec.get("values") or []
            # "8" means 8 (some clients send numbers as strings); compared as text, so "²" or "٣" never reach
            # int() and a 5000-digit string is not parsed.
            as_text = {str(v): v for v in values if isinstance(v, int) and not isinstance(v, bool)}
            if isinstance(value, str) and value in as_text:
                value = as_text[value]
            if isinstance(value, bool) or value not in values:
                raise InvalidInput(
                    f"{name} must be one of {', '.join(map(str, values))}.",
                    details={"param": name, "allowed": values},
                )
        elif _holds_nul(value):
            raise InvalidInput(f"{name} may not contain NUL characters (U+0000).", details={"param": name})
        resolved[name] = value
    return resolved


def _holds_nul(value: Any) -> bool:
    """True when a JSON value carries U+0000 anywhere (PostgreSQL's jsonb cannot store it)."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(v) for v in value)
    return False


def check_prompt(model: AIModel, prompt: str) -> None:
    limits = model.capabilities.get("prompt") or {}
    low, high = int(limits.get("min_length", 1)), int(limits.get("max_length", 5000))
    if len(prompt.strip()) < low:
        raise InvalidInput(f"The prompt needs at least {low} character(s) for {model.display_name}.")
    if len(prompt) > high:
        raise InvalidInput(
            f"The prompt is {len(prompt)} characters long; {model.display_name} takes at most {high}.",
            details={"max_length": high},
        )


async def load_model(session: AsyncSession, name: str) -> AIModel:
    model = await get_active_model(session, name)
    if model is None:
        raise InvalidInput(f"Unknown or inactive model {name!r}; see GET /api/models/.")
    return model
