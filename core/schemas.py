"""The owner's request and response schemas (the `XCreate / XUpdate / XPublic` family) and the field types every
schema shares. A service's own schemas sit beside it (comments, share links, generation, smart edit, usage); the guest
review view's `Review*` schemas are together in `core/sharing.py`."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Generic, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    GetCoreSchemaHandler,
    StringConstraints,
)
from pydantic_core import CoreSchema, core_schema

from core.contract import AssetKind, AssetStatus
from core.models import ActivityKind, ModelKind, StudioRole

T = TypeVar("T")

_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")


def replace_surrogates(value: object) -> object:
    """JSON may carry lone UTF-16 surrogates (`\\ud800`), which no UTF-8 store can hold: replace them with U+FFFD."""
    return _LONE_SURROGATE.sub("\ufffd", value) if isinstance(value, str) else value


def storable_text(value: str) -> str:
    """Text from outside our API (a provider's message, an LLM's answer) as PostgreSQL can hold it: NUL characters
    dropped, lone surrogates replaced with U+FFFD."""
    return str(replace_surrogates(value)).replace("\x00", "")


def refuse_nul(value: str) -> str:
    # PostgreSQL text cannot hold U+0000; refusing it here turns a driver error (a 500) into a field-level 422.
    if "\x00" in value:
        raise ValueError("the text may not contain NUL characters (U+0000)")
    return value


class _StoredTextRules:
    """Pydantic metadata for any request text that reaches the database: lone surrogates become U+FFFD, a NUL
    character answers a field-level 422. Put it after a `StringConstraints`
    (`Annotated[str, StringConstraints(...), STORED_TEXT]`): pydantic only applies string constraints natively
    when no validator precedes them (after one, `strip_whitespace` runs after the `min_length` check)."""

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        checked = core_schema.no_info_after_validator_function(refuse_nul, handler(source))
        return core_schema.no_info_before_validator_function(replace_surrogates, checked)


STORED_TEXT = _StoredTextRules()

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), STORED_TEXT]
DisplayName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120), STORED_TEXT
]
LongText = Annotated[str, StringConstraints(max_length=10_000), STORED_TEXT]
Title = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200), STORED_TEXT]
Password = Annotated[str, StringConstraints(min_length=8, max_length=128)]

SHOT_CODE_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
MAX_SHOT_CODE_LENGTH = 20


def _shot_code(value: str) -> str:
    if not value or len(value) > MAX_SHOT_CODE_LENGTH or not SHOT_CODE_PATTERN.fullmatch(value):
        raise ValueError(
            f"a shot code is 1 to {MAX_SHOT_CODE_LENGTH} letters, digits, '_', '.' or '-', starting with a "
            "letter or digit (like SH010)"
        )
    return value


ShotCode = Annotated[
    str,
    StringConstraints(strip_whitespace=True),
    AfterValidator(_shot_code),
    Field(description="The shot's stable name, e.g. SH010 (unique in the project, whatever the letter case)"),
]

MAX_COMMENT_LENGTH = 4000

_FORBIDDEN_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _plain_text(value: str) -> str:
    if _FORBIDDEN_CONTROL.search(value):
        raise ValueError("text may not contain control characters (other than tabs and line breaks)")
    return value.replace("\r\n", "\n")


def _printable_name(value: str) -> str:
    if _FORBIDDEN_CONTROL.search(value) or "\n" in value or "\r" in value:
        raise ValueError("the name must be a single line of printable characters")
    return value


# Comment text and a guest's name, shared by the owner's comment bodies and the guest review view's.
CommentText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_COMMENT_LENGTH),
    STORED_TEXT,
    AfterValidator(_plain_text),
]
GuestName = Annotated[DisplayName, AfterValidator(_printable_name)]

MAX_PAGE_SIZE = 200
MAX_DB_ID = 2**31 - 1

DbId = Annotated[int, Field(ge=1, le=MAX_DB_ID)]


class InputModel(BaseModel):
    """Request bodies refuse unknown fields so a typo answers 422 instead of being ignored."""

    model_config = ConfigDict(extra="forbid")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


# --- auth -----------------------------------------------------------------------------------------------------


class UserRegister(InputModel):
    email: EmailStr = Field(max_length=320)
    password: Password
    display_name: DisplayName
    invite: Annotated[str, StringConstraints(max_length=64)] | None = Field(
        default=None,
        description="The invite token from `/register/?invite=…` (needed when registration is invite-only)",
    )
    studio_invite: Annotated[str, StringConstraints(max_length=64)] | None = Field(
        default=None,
        description="A studio invite token from `/join/?token=…`: registers (even when registration is "
        "invite-only) and joins that studio",
    )


class UserLogin(InputModel):
    email: EmailStr = Field(max_length=320)
    password: Annotated[str, StringConstraints(min_length=1, max_length=128)]


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


class UserPublic(BaseModel):
    id: int
    email: str
    display_name: str
    is_superuser: bool
    created_at: datetime


# --- projects and boxes ---------------------------------------------------------------------------------------


class ProjectCreate(InputModel):
    name: Name
    description: LongText = ""
    studio_id: DbId | None = Field(
        default=None,
        description="The studio it belongs to (you need the editor role there); default: the first studio you "
        "joined where you may create projects.",
    )


class ProjectUpdate(InputModel):
    name: Name | None = None
    description: LongText | None = None


class ProjectPublic(BaseModel):
    id: int
    name: str
    description: str
    box_count: int = 0
    studio_id: int
    studio_name: str
    role: StudioRole = Field(
        description="Your role in the project's studio: what you may do in it (docs/roles.md)"
    )
    created_at: datetime
    updated_at: datetime


class BoxCreate(InputModel):
    title: Title = ""
    notes: LongText = ""
    position: Annotated[int, Field(ge=1, le=100_000)] | None = Field(
        default=None, description="Insert at this shot number (later shots move down); default: at the end."
    )
    code: ShotCode | None = Field(
        default=None, description="Default: the next multiple of 10 after the project's highest SH code."
    )


MAX_BULK_BOXES = 200


class BoxBulkItem(InputModel):
    title: Title = ""
    notes: LongText = ""
    code: ShotCode | None = None


class BoxBulkCreate(InputModel):
    boxes: Annotated[list[BoxBulkItem], Field(min_length=1, max_length=MAX_BULK_BOXES)] = Field(
        description="Shots appended after the last one, in this order; all are created or none."
    )


class BoxUpdate(InputModel):
    title: Title | None = None
    notes: LongText | None = None
    position: Annotated[int, Field(ge=1, le=100_000)] | None = Field(
        default=None, description="Move the box to this shot number; the others close ranks."
    )
    headliner_id: DbId | None = Field(
        default=None, description="A COMPLETED asset of this box; send null to clear the headliner."
    )
    code: ShotCode | None = None


class BoxOrderUpdate(InputModel):
    box_ids: Annotated[list[DbId], Field(min_length=1, max_length=10_000)] = Field(
        description="Every box id of the project, in the new shot order."
    )


class AssetPublic(BaseModel):
    id: int
    box_id: int
    kind: AssetKind
    status: AssetStatus
    prompt: str
    model: str | None
    model_id: int | None
    params: dict[str, Any]
    seed: int | None
    source_asset_id: int | None
    input_asset_ids: list[int]
    is_favorite: bool
    error_message: str | None
    file_url: str | None
    thumbnail_url: str | None
    mime_type: str | None
    size_bytes: int | None
    width: int | None
    height: int | None
    duration_seconds: float | None
    cost_credits: float | None = Field(description="What Kie.ai charged (its own figure, else the estimate)")
    estimated_cost_credits: float | None = Field(
        default=None, description="What the request estimated (and charged until Kie.ai reported)"
    )
    batch_id: str | None = Field(
        default=None, description="Shared by the variants of one generate request (a UUID)"
    )
    finished_at: datetime | None = Field(default=None, description="When it became COMPLETED or FAILED")
    requested_by_name: str | None = Field(
        default=None, description="Who generated, animated, retried or uploaded it (null when unknown)"
    )
    created_at: datetime
    updated_at: datetime


class AssetLineagePublic(BaseModel):
    source: AssetPublic | None = Field(description="The image a video was animated from")
    inputs: list[AssetPublic] = Field(description="The input images of an edit")
    derived: list[AssetPublic] = Field(description="Videos animated from, and edits made with, this asset")


class BoxPublic(BaseModel):
    id: int
    project_id: int
    position: int
    code: str
    title: str
    notes: str
    headliner_id: int | None
    headliner: AssetPublic | None
    headliner_set_by_name: str | None = Field(
        default=None, description="Who last set or cleared the headliner (null when unknown or never changed)"
    )
    headliner_set_at: datetime | None = Field(default=None, description="When the headliner last changed")
    asset_count: int
    created_at: datetime
    updated_at: datetime


class BoxBulkPublic(BaseModel):
    items: list[BoxPublic]


class AssetUpdate(InputModel):
    is_favorite: bool


# --- catalogue ------------------------------------------------------------------------------------------------


class AIModelPublic(BaseModel):
    id: int
    provider: str
    provider_model_id: str
    display_name: str
    kind: ModelKind
    default_params: dict[str, Any]
    capabilities: dict[str, Any]
    price_credits: float | None
    typical_seconds: float | None = Field(
        default=None,
        description="Median seconds from request to result of its last 20 completed assets (null below 3)",
    )


# --- activity -------------------------------------------------------------------------------------------------


class ActivityPublic(BaseModel):
    """One line of a project's activity feed (core/activity.py, docs/activity.md)."""

    id: int
    kind: ActivityKind
    actor_name: str = Field(description="The member's display name at the time, or the name a guest typed")
    actor_user_id: int | None = Field(description="Null for a guest (and once the member's account is gone)")
    box_id: int | None
    asset_id: int | None
    details: dict[str, Any] = Field(
        description='"code" and "title" of the shot when there is one; "kind" (image|video) for generated and '
        'failed; "text" (first 200 characters) and "via_link" for commented'
    )
    summary: str = Field(
        description='One readable sentence, e.g. "Ana generated an image for SH010 · Opening"'
    )
    created_at: datetime


# --- studios, members, invites (docs/studios.md) -------------------------------------------------------------

StudioName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120), STORED_TEXT
]
MAX_STUDIO_BUDGET = 1e9


class StudioCreate(InputModel):
    name: StudioName


class StudioUpdate(InputModel):
    name: StudioName | None = None
    daily_credit_budget: float | None = Field(
        default=None,
        ge=0,
        le=MAX_STUDIO_BUDGET,
        description="Credits the studio's members may spend together per UTC day; null removes the budget "
        "(leave it out to keep it)",
    )


class StudioPublic(BaseModel):
    id: int
    name: str
    role: StudioRole = Field(description="Your role in the studio")
    member_count: int
    daily_credit_budget: float | None
    spent_today: float = Field(description="Credits charged to the studio today (UTC), by all its members")
    created_at: datetime


class MemberPublic(BaseModel):
    user_id: int
    display_name: str
    email: str
    role: StudioRole
    joined_at: datetime


class MemberUpdate(InputModel):
    role: StudioRole


class StudioInviteStatus(StrEnum):
    OPEN = "open"
    USED = "used"
    EXPIRED = "expired"


class StudioInviteCreate(InputModel):
    role: StudioRole
    expires_in_hours: int = Field(default=168, ge=1, le=720)


class StudioInvitePublic(BaseModel):
    id: int
    token: uuid.UUID
    link: str = Field(description="What to send: `<PUBLIC_BASE_URL>/join/?token=<token>`")
    role: StudioRole
    expires_at: datetime
    used_at: datetime | None
    used_by_name: str | None
    created_by_name: str | None
    created_at: datetime
    status: StudioInviteStatus


class JoinInfoPublic(BaseModel):
    """What the join page shows before anyone logs in."""

    studio_id: int = Field(description="The studio to open once joined (its projects stay 404 until then)")
    studio_name: str
    role: StudioRole
    status: StudioInviteStatus
    expires_at: datetime
    invited_by: str | None
    registration_open: bool = Field(
        description="Whether someone without an account may register with this invite"
    )
