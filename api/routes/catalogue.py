"""The catalogue of active AI models, for the SPA's pickers."""

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import CurrentUser, SessionDep
from core.catalogue import list_active_models
from core.models import ModelKind
from core.schemas import AIModelPublic

router = APIRouter(prefix="/api/models", tags=["models"])


@router.get("/", response_model=list[AIModelPublic])
async def list_models(
    _: CurrentUser, session: SessionDep, kind: Annotated[ModelKind | None, Query()] = None
) -> list[AIModelPublic]:
    return await list_active_models(session, kind)
