"""The AI model catalogue (providers and models are rows edited in the admin UI, not code), and what a request may
ask of a model: its parameters and prompt checked against the model's capabilities."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import selectinload
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.errors import InvalidInput
from core.models import AIModel, AIProvider, ModelKind
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
        )
        for model in models
    ]


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
