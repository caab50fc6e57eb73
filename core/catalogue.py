"""The AI model catalogue (providers and models are rows edited in the admin UI, not code)."""

from __future__ import annotations

from sqlalchemy.orm import selectinload
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

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
