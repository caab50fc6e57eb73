"""Smart edit: an LLM (through Kie.ai chat) rewrites a prompt by an instruction; nothing is generated.

The API runs `SmartEditWorkflow` and waits for it at most `smart_edit_timeout_seconds`. The model and system
prompt come from SystemConfig on every request, so an admin's change applies to the next request. Each result
is kept (SmartEdit) as the prompt history of its box.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.client import Client, WorkflowFailureError
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.exceptions import TimeoutError as TemporalTimeoutError

from core.boxes import get_box
from core.contract import (
    KieRateLimitedError,
    KieTimeoutError,
    KieUnavailableError,
    RewritePromptInput,
    RewritePromptResult,
    SmartEditAbsurdAnswer,
    SmartEditEmptyAnswer,
)
from core.db import release_connection
from core.errors import (
    DomainError,
    InvalidInput,
    UpstreamError,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from core.models import AIModel, Box, ModelKind, SmartEdit, StudioRole, SystemConfig, User
from core.schemas import STORED_TEXT, DbId, InputModel, storable_text
from core.settings import Settings
from core.spend import Spending, settle_charge
from core.temporal import run_smart_edit

logger = logging.getLogger(__name__)

DEFAULT_MODEL = "gemini-2.5-flash"
DEFAULT_PROMPT_LIMIT = 5000
"""A prompt's length limit when no active image/video model declares one."""
MAX_INSTRUCTION_LENGTH = 2000
HARD_PROMPT_CAP = 20_000
"""Bodies beyond this are refused by the schema before any model limit is looked up."""

# Error types (ApplicationError.type: the name of an error class of core.contract) and the HTTP answer each becomes.
_REFUSED = {kind.__name__ for kind in (SmartEditEmptyAnswer, SmartEditAbsurdAnswer)}
_UNAVAILABLE = {kind.__name__ for kind in (KieUnavailableError, KieRateLimitedError)}
_TIMEOUT = {KieTimeoutError.__name__}


# --- API schemas -----------------------------------------------------------------------------------------------

PromptText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=HARD_PROMPT_CAP), STORED_TEXT
]
InstructionText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_INSTRUCTION_LENGTH),
    STORED_TEXT,
]


class SmartEditCreate(InputModel):
    prompt: PromptText
    instruction: InstructionText = Field(description="What to change, e.g. 'make it night time'.")
    box_id: DbId | None = Field(
        default=None, description="The shot this prompt belongs to (kept in its history)."
    )


class SmartEditPublic(BaseModel):
    id: int
    prompt: str = Field(description="The rewritten prompt (a preview: generate with it to use it)")
    original_prompt: str
    instruction: str
    model: str
    box_id: int | None
    created_at: datetime


def to_smart_edit_public(edit: SmartEdit) -> SmartEditPublic:
    assert edit.id is not None
    return SmartEditPublic(
        id=edit.id,
        prompt=edit.result_prompt,
        original_prompt=edit.original_prompt,
        instruction=edit.instruction,
        model=edit.model,
        box_id=edit.box_id,
        created_at=edit.created_at,
    )


# --- limits and answers ----------------------------------------------------------------------------------------


def _max_length(capabilities: dict[str, Any]) -> int | None:
    prompt = capabilities.get("prompt")
    value = prompt.get("max_length") if isinstance(prompt, dict) else None
    return value if isinstance(value, int) and value > 0 else None


async def generation_prompt_limit(session: AsyncSession) -> int:
    """The longest prompt some active image or video model accepts: a rewrite must fit it to be usable."""
    models = (
        await session.exec(
            select(AIModel).where(
                col(AIModel.is_active), col(AIModel.kind).in_([ModelKind.IMAGE, ModelKind.VIDEO])
            )
        )
    ).all()
    limits = [limit for model in models if (limit := _max_length(model.capabilities)) is not None]
    return max(limits, default=DEFAULT_PROMPT_LIMIT)


async def llm_input_limit(session: AsyncSession, model: str) -> int | None:
    row = (
        await session.exec(
            select(AIModel).where(AIModel.provider_model_id == model, AIModel.kind == ModelKind.TEXT)
        )
    ).first()
    return _max_length(row.capabilities) if row is not None else None


_WRAPPERS = ('"', "'", "`", "\u201c", "\u201d")


def clean_answer(text: str, max_length: int) -> str:
    """The usable prompt in an LLM answer; SmartEditEmptyAnswer or SmartEditAbsurdAnswer when it is empty or
    absurdly long.

    NUL characters are dropped and lone surrogates replaced: the answer is stored, and PostgreSQL holds neither."""
    answer = storable_text(text).strip()
    if answer.startswith("```") and answer.endswith("```") and len(answer) >= 6:
        answer = answer[3:-3].strip()
    while len(answer) >= 2 and answer[0] in _WRAPPERS and answer[-1] in _WRAPPERS:
        answer = answer[1:-1].strip()
    if answer.lower().startswith("prompt:"):
        answer = answer[len("prompt:") :].strip()
    if not answer:
        raise SmartEditEmptyAnswer("The LLM answered with an empty prompt; rephrase the instruction.")
    if len(answer) > max_length:
        raise SmartEditAbsurdAnswer(
            f"The LLM answered with a prompt of {len(answer)} characters, longer than any model accepts "
            f"({max_length}); rephrase the instruction.",
        )
    return answer


def user_message(prompt: str, instruction: str) -> str:
    return f"Prompt: {prompt}\nInstruction: {instruction}"


# --- the service -----------------------------------------------------------------------------------------------


async def load_smart_edit_config(session: AsyncSession) -> tuple[str, str]:
    """SystemConfig's model and system prompt, read now (never cached: admin edits apply to the next request)."""
    config = await session.get(SystemConfig, 1, populate_existing=True)
    if config is None:
        return DEFAULT_MODEL, ""
    return (config.smart_edit_model.strip() or DEFAULT_MODEL), config.smart_edit_system_prompt


_refunds: set[asyncio.Task[None]] = set()
"""Refunds under way (a task is only weakly referenced by the loop)."""


async def _settle_unpaid(engine: AsyncEngine, charge_id: int) -> None:
    async with AsyncSession(engine, expire_on_commit=False) as fresh:
        await settle_charge(fresh, charge_id, 0.0)
        await fresh.commit()


async def refund_smart_edit(session: AsyncSession, charge_id: int) -> None:
    """Settle an unanswered smart edit's charge at 0, however the wait ended: an error, or the client going away
    (then the request is cancelled, and every await in it may be cancelled again). So the settling runs in a
    task of its own, on a fresh session, which the cancellation cannot stop."""
    engine = session.bind
    assert isinstance(engine, AsyncEngine)
    task = asyncio.get_running_loop().create_task(_settle_unpaid(engine, charge_id), name="smart-edit-refund")
    _refunds.add(task)
    task.add_done_callback(_refunds.discard)
    try:
        await asyncio.shield(task)
    except Exception:  # the request's own error is the one to answer; this one is logged
        logger.warning("could not settle smart edit charge %s at 0", charge_id, exc_info=True)


async def smart_edit(
    session: AsyncSession,
    client: Client,
    settings: Settings,
    user: User,
    body: SmartEditCreate,
    spending: Spending | None = None,
) -> SmartEditPublic:
    box: Box | None = (
        await get_box(session, user, body.box_id, StudioRole.EDITOR) if body.box_id is not None else None
    )
    model, system_prompt = await load_smart_edit_config(session)
    prompt_limit = await generation_prompt_limit(session)
    if len(body.prompt) > prompt_limit:
        raise InvalidInput(
            f"The prompt has {len(body.prompt)} characters; no model accepts more than {prompt_limit}.",
            details=[
                {
                    "loc": ["body", "prompt"],
                    "msg": f"at most {prompt_limit} characters",
                    "type": "string_too_long",
                    "ctx": {"max_length": prompt_limit},
                }
            ],
        )
    llm_limit = await llm_input_limit(session, model)
    if llm_limit is not None and len(system_prompt) + len(body.prompt) + len(body.instruction) > llm_limit:
        raise InvalidInput(
            f"The prompt and instruction together are too long for {model} ({llm_limit} characters at most)."
        )
    project_id = box.project_id if box is not None else None
    charge = (
        await spending.charge_smart_edit(session, project_id=project_id) if spending is not None else None
    )
    try:
        # The LLM may take up to smart_edit_timeout_seconds: no pooled connection is held meanwhile.
        await release_connection(session)
        result = await run_rewrite(
            client,
            settings,
            RewritePromptInput(
                model=model,
                system_prompt=system_prompt,
                prompt=body.prompt,
                instruction=body.instruction,
                max_result_length=prompt_limit,
                attempt_timeout_seconds=settings.smart_edit_attempt_timeout_seconds,
            ),
        )
    except BaseException:
        if charge is not None and charge.id is not None:  # no answer, nothing to pay for
            await refund_smart_edit(session, charge.id)
        raise
    assert user.id is not None
    if box is not None:  # it may have been deleted while the LLM was writing
        assert box.id is not None
        box = await get_box(session, user, box.id, StudioRole.EDITOR)
    edit = SmartEdit(
        user_id=user.id,
        box_id=box.id if box is not None else None,
        original_prompt=body.prompt,
        instruction=body.instruction,
        result_prompt=result.prompt,
        model=result.model,
    )
    session.add(edit)
    await session.flush()
    return to_smart_edit_public(edit)


async def run_rewrite(client: Client, settings: Settings, payload: RewritePromptInput) -> RewritePromptResult:
    """Run SmartEditWorkflow and wait for it, at most `smart_edit_timeout_seconds`; map failures to HTTP errors."""
    limit = settings.smart_edit_timeout_seconds
    try:
        result = await run_smart_edit(client, settings, payload)
    except WorkflowFailureError as exc:
        raise failure_to_error(exc, limit) from exc
    if result is None:
        raise _too_slow(limit)
    return result


def _too_slow(limit: float) -> UpstreamTimeout:
    return UpstreamTimeout(f"The prompt rewrite did not finish within {limit:g} s; try again in a moment.")


def failure_to_error(exc: WorkflowFailureError, limit: float) -> DomainError:
    """The HTTP answer for a failed SmartEditWorkflow, by the type of what failed (never by message text)."""
    cause: BaseException | None = exc.cause
    if isinstance(cause, TemporalTimeoutError):  # the workflow's own time limit (the API's maximum wait)
        return _too_slow(limit)
    while isinstance(cause, ActivityError) and cause.cause is not None:
        cause = cause.cause
    if isinstance(cause, TemporalTimeoutError):
        return UpstreamTimeout("The LLM did not answer in time after 3 attempts; try again in a moment.")
    if isinstance(cause, ApplicationError):
        message = cause.message or "The LLM call failed."
        if cause.type in _REFUSED:
            return UpstreamError(message, details={"reason": cause.type})
        if cause.type in _TIMEOUT:
            return UpstreamTimeout(message)
        if cause.type in _UNAVAILABLE:
            return UpstreamUnavailable(message)
        return UpstreamError(message)
    logger.warning("smart edit workflow failed without a known cause: %r", exc.cause)
    return UpstreamError("The prompt rewrite failed; try again in a moment.")


# --- history ---------------------------------------------------------------------------------------------------


async def list_box_smart_edits(
    session: AsyncSession, box: Box, *, limit: int, offset: int
) -> tuple[list[SmartEditPublic], int]:
    condition = SmartEdit.box_id == box.id
    total = (await session.exec(select(func.count()).select_from(SmartEdit).where(condition))).one()
    rows = (
        await session.exec(
            select(SmartEdit)
            .where(condition)
            .order_by(col(SmartEdit.created_at).desc(), col(SmartEdit.id).desc())
            .limit(limit)
            .offset(offset)
        )
    ).all()
    return [to_smart_edit_public(edit) for edit in rows], total
