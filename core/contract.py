"""The Temporal contract: every workflow's, activity's and signal's name and payload, the ids and the task queue,
and the error types an activity fails with. The one table-free module `workflows/`, `activities/`, `core/` and
`api/` all import.

It imports only the stdlib, pydantic and temporalio, so a workflow module that imports it loads no database, S3,
HTTP or Redis client (tests/test_import_boundaries.py). Names, fields and their JSON must not change: histories of
running workflows are replayed against them. A new field needs a default, so older histories still decode.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, Field
from temporalio.common import SearchAttributeKey

if TYPE_CHECKING:
    from core.settings import Settings


# --- enums (the database's columns use the same classes: core.models imports them from here) -------------------


class AssetKind(StrEnum):
    IMAGE = "image"
    VIDEO = "video"


class AssetStatus(StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"

    @property
    def is_final(self) -> bool:
        return self in (AssetStatus.COMPLETED, AssetStatus.FAILED)


class GenerationOutcome(StrEnum):
    """How a generation workflow ended without failing (its result's `status`)."""

    COMPLETED = "COMPLETED"
    DELETED = "DELETED"
    """The user deleted the asset meanwhile: nothing to record."""
    SKIPPED = "SKIPPED"
    """The asset was not waiting for this run (another outcome already held): nothing was submitted."""


class KieState(StrEnum):
    """The states of a Kie.ai Market task (recordInfo's and the callback's `state`)."""

    WAITING = "waiting"
    QUEUING = "queuing"
    GENERATING = "generating"
    SUCCESS = "success"
    FAIL = "fail"


KIE_TERMINAL_STATES = frozenset({KieState.SUCCESS, KieState.FAIL})

KieStateText = KieState | str
"""A state as Kie.ai said it: one of KieState, or (a state it added since) the text itself, so a task record never
fails to decode. Known states decode to the enum (left to right); both serialize to the same JSON string."""


# --- names -------------------------------------------------------------------------------------------------------

GENERATE_WORKFLOW = "GenerateAssetWorkflow"
RETENTION_WORKFLOW = "RetentionWorkflow"
RECONCILE_WORKFLOW = "ReconcileAssetsWorkflow"
SMART_EDIT_WORKFLOW = "SmartEditWorkflow"

KIE_CALLBACK_SIGNAL = "kie_callback"
STATUS_QUERY = "status"

# Generation activities
MARK_ASSET_RUNNING = "mark_asset_running"
PLAN_KIE_SUBMISSION = "plan_kie_submission"
SUBMIT_KIE_TASK = "submit_kie_task"
RECORD_KIE_TASK = "record_kie_task"
FETCH_KIE_TASK = "fetch_kie_task"
INGEST_RESULT = "ingest_result"
COMPLETE_ASSET = "complete_asset"
DISCARD_INGESTED_FILES = "discard_ingested_files"
FAIL_ASSET = "fail_asset"
PUBLISH_ASSET_STATUS = "publish_asset_status"
# Retention and reconciler activities
PLAN_RETENTION_RUN = "plan_retention_run"
DRAIN_PENDING_DELETIONS = "drain_pending_deletions"
PURGE_RETENTION_PAGE = "purge_retention_page"
DELETE_PURGED_OBJECTS = "delete_purged_objects"
RECONCILE_ASSETS_PAGE = "reconcile_assets_page"
# Smart edit
REWRITE_PROMPT = "rewrite_prompt"

ASSET_ID_ATTRIBUTE = SearchAttributeKey.for_int("AssetId")
BOX_ID_ATTRIBUTE = SearchAttributeKey.for_int("BoxId")
PROJECT_ID_ATTRIBUTE = SearchAttributeKey.for_int("ProjectId")
"""Search attributes a generation is started with (when TEMPORAL_SEARCH_ATTRIBUTES is on)."""


# --- task queue, workflow and schedule ids -----------------------------------------------------------------------


def task_queue(settings: Settings) -> str:
    return settings.temporal_task_queue


def asset_workflow_id(asset_id: int) -> str:
    return f"asset-{asset_id}"


def retention_schedule_id() -> str:
    return "retention-nightly"


def retention_workflow_id(run_key: str) -> str:
    """A manual (admin-triggered) retention run; scheduled runs get the schedule id plus a timestamp."""
    return f"retention-manual-{run_key}"


def smart_edit_workflow_id(request_key: str) -> str:
    return f"smart-edit-{request_key}"


def reconcile_schedule_id() -> str:
    return "reconcile-assets"


def reconcile_workflow_id(run_key: str) -> str:
    """A manual reconciler run; scheduled runs get the schedule id plus a timestamp."""
    return f"reconcile-manual-{run_key}"


# --- error types: an activity fails with ApplicationError(type=<class>.__name__) ---------------------------------


class KieError(Exception):
    """A Kie.ai call that did not give what was asked; `message` is written for a person. `retryable` says whether
    trying again can help (the workflow's retry policies list the others as non-retryable)."""

    retryable: ClassVar[bool] = True
    hint: ClassVar[str] = "Try again in a moment."

    def __init__(self, message: str, *, code: int | None = None, provider_message: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.provider_message = provider_message


class KieAuthError(KieError):
    retryable = False
    hint = "Check KIE_API_KEY."


class KieNoCreditsError(KieError):
    retryable = False
    hint = "Top up the Kie.ai account, then retry."


class KieInvalidInputError(KieError):
    retryable = False
    hint = "Change the prompt or parameters, then retry."


class KieContentPolicyError(KieError):
    retryable = False
    hint = "Rephrase the prompt, then retry."


class KieNotFoundError(KieError):
    retryable = False
    hint = "Retry the generation."


class KieGenerationFailedError(KieError):
    """The task reached `fail` for a reason that is not the request's fault; a new task may succeed."""

    retryable = False
    hint = "Retry the generation."


class KieRateLimitedError(KieError):
    hint = "Kie.ai is rate limiting; retry in a minute."


class KieUnavailableError(KieError):
    hint = "Kie.ai is unavailable; retry later."


class KieTimeoutError(KieError):
    hint = "Kie.ai is slow to answer; retry later."


class KieProtocolError(KieError):
    """An answer we cannot read (not JSON, or missing fields)."""

    hint = "Kie.ai answered with something unexpected; retry later."


KIE_ERRORS: tuple[type[KieError], ...] = (
    KieError,
    KieAuthError,
    KieNoCreditsError,
    KieInvalidInputError,
    KieContentPolicyError,
    KieNotFoundError,
    KieGenerationFailedError,
    KieRateLimitedError,
    KieUnavailableError,
    KieTimeoutError,
    KieProtocolError,
)
NON_RETRYABLE_KIE_ERRORS: tuple[type[KieError], ...] = tuple(
    kind for kind in KIE_ERRORS if not kind.retryable
)


class AssetGone(Exception):
    """The asset row was deleted (by the user) while its generation ran: nothing to record, nothing to fail."""


class AssetNotWaiting(Exception):
    """The asset is neither PENDING nor RUNNING when a run plans its request: another outcome already holds."""


class IngestError(Exception):
    """Kie.ai's result is a file we cannot use (not an image/video we can read)."""


class EventsUnavailable(Exception):
    """Redis cannot be reached, so live events cannot be published, relayed or replayed right now.

    An activity fails with it when a status event cannot be published (retried like an outage); the socket relay and
    `core.realtime` raise it when a socket cannot be served (the socket closes with "try again later")."""


class GenerationFailed(Exception):
    """The generation failed for good; `message` is the sentence recorded on the asset."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class AnswerRefused(Exception):
    """The LLM's answer cannot be used as a prompt (asking again does not help)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class SmartEditEmptyAnswer(AnswerRefused):
    pass


class SmartEditAbsurdAnswer(AnswerRefused):
    pass


# --- GenerateAssetWorkflow ---------------------------------------------------------------------------------------


class GenerateAssetInput(BaseModel):
    asset_id: int
    box_id: int
    project_id: int
    kind: AssetKind
    """Chooses the deadline's wording and the ingest."""
    deadline_seconds: int = Field(description="Overall time Kie.ai gets before the asset is FAILED")
    # Defaults: histories started before these fields existed still decode (and get the default policy).
    infra_retry_window_seconds: int = Field(
        default=3600, description="How long steps on our database, S3 or Redis are retried"
    )
    infra_retry_max_interval_seconds: int = Field(
        default=30, description="The longest pause between those retries"
    )


class GenerateAssetResult(BaseModel):
    asset_id: int
    status: GenerationOutcome
    error_message: str | None = None
    provider_task_id: str | None = None


class AssetRef(BaseModel):
    asset_id: int


class SubmissionPlan(BaseModel):
    asset_id: int
    model: str
    input: dict[str, Any]
    callback_url: str | None
    estimated_cost: float | None = None


class RecordTaskInput(BaseModel):
    asset_id: int
    task_id: str


class TaskRef(BaseModel):
    task_id: str


class KieTaskState(BaseModel):
    task_id: str
    state: KieStateText = Field(union_mode="left_to_right")
    result_urls: list[str] = Field(default_factory=list)
    credits_consumed: float | None = None
    error_type: str | None = None
    error_message: str | None = None
    """For `fail`: the typed error's name (a KieError class) and a sentence a person understands."""

    @property
    def is_terminal(self) -> bool:
        return self.state in KIE_TERMINAL_STATES


class IngestInput(BaseModel):
    asset_id: int
    kind: AssetKind
    result_url: str


class IngestResult(BaseModel):
    file_key: str
    thumbnail_key: str | None
    mime_type: str
    size_bytes: int
    width: int | None = None
    height: int | None = None
    duration_seconds: float | None = None


class CompleteAssetInput(BaseModel):
    asset_id: int
    task_id: str
    ingest: IngestResult
    cost_credits: float | None


class FailAssetInput(BaseModel):
    asset_id: int
    error_message: str
    cost_credits: float | None = None
    """What Kie.ai charged when the failure came after its success (None: nothing, it refunds a failed task)."""


class KieCallbackSignal(BaseModel):
    """A nudge: Kie.ai says this task ended. The workflow confirms with recordInfo before trusting it."""

    task_id: str
    state: KieStateText | None = Field(default=None, union_mode="left_to_right")


class DiscardFilesInput(BaseModel):
    asset_id: int
    keys: list[str]


# --- RetentionWorkflow -------------------------------------------------------------------------------------------

RETENTION_PAGE_SIZE = 1000
RETENTION_MAX_PAGE_SIZE = 5000


class RetentionTotals(BaseModel):
    pages: int = 0
    assets_deleted: int = 0
    objects_deleted: int = 0
    leftover_objects_deleted: int = 0


class RetentionProgress(BaseModel):
    cutoff: datetime
    retention_days: int
    after_id: int
    totals: RetentionTotals
    now: datetime | None = Field(
        default=None, description="The run's clock; None in progress saved before it"
    )

    def run_now(self) -> datetime:
        return self.now or self.cutoff + timedelta(days=self.retention_days)


class RetentionInput(BaseModel):
    """`now` injects the clock (default: the workflow's time); `resume` carries progress across continue-as-new."""

    now: datetime | None = None
    page_size: int = Field(default=RETENTION_PAGE_SIZE, ge=1, le=RETENTION_MAX_PAGE_SIZE)
    pages_per_run: int = Field(default=500, ge=1, description="Continue as new after this many pages")
    resume: RetentionProgress | None = None


class RetentionPlanInput(BaseModel):
    now: datetime


class RetentionPlan(BaseModel):
    cutoff: datetime
    retention_days: int


class PurgePageInput(BaseModel):
    cutoff: datetime
    now: datetime | None = Field(default=None, description="When review links must be live to protect")
    after_id: int = 0
    limit: int = Field(default=RETENTION_PAGE_SIZE, ge=1, le=RETENTION_MAX_PAGE_SIZE)


class QueuedRange(BaseModel):
    """pending_object_deletion ids first..last (inclusive). Any other run's keys in between are fair game too:
    every queued key belongs to a row that is already gone."""

    first_id: int
    last_id: int


class PurgePageResult(BaseModel):
    assets_deleted: int
    queued: QueuedRange | None = Field(description="Where the page's S3 keys wait in pending_object_deletion")
    last_id: int | None = Field(description="Highest candidate id examined; None when no candidate was left")
    done: bool


class DrainResult(BaseModel):
    objects_deleted: int


class RetentionResult(BaseModel):
    cutoff: datetime
    retention_days: int
    totals: RetentionTotals


# --- ReconcileAssetsWorkflow -------------------------------------------------------------------------------------

RECONCILE_PAGE_SIZE = 200
RECONCILE_MAX_PAGE_SIZE = 1000


class ReconcileInput(BaseModel):
    """`now` injects the clock (default: the workflow's time); `after_id` carries progress across continue-as-new."""

    now: datetime | None = None
    page_size: int = Field(default=RECONCILE_PAGE_SIZE, ge=1, le=RECONCILE_MAX_PAGE_SIZE)
    pages_per_run: int = Field(default=50, ge=1, description="Continue as new after this many pages")
    after_id: int = 0
    failed_so_far: int = 0


class ReconcilePageInput(BaseModel):
    now: datetime
    after_id: int = 0
    limit: int = Field(default=RECONCILE_PAGE_SIZE, ge=1, le=RECONCILE_MAX_PAGE_SIZE)


class ReconcilePageResult(BaseModel):
    examined: int
    failed_asset_ids: list[int]
    last_id: int | None = Field(description="Highest asset id examined; None when none was left")
    done: bool


class ReconcileResult(BaseModel):
    failed: int
    leftover_objects_deleted: int = 0
    """Objects of deleted assets that S3 had refused at delete time, deleted by this run."""


# --- SmartEditWorkflow -------------------------------------------------------------------------------------------


class RewritePromptInput(BaseModel):
    model: str
    system_prompt: str
    prompt: str
    instruction: str
    max_result_length: int
    attempt_timeout_seconds: float = 20.0


class RewritePromptResult(BaseModel):
    prompt: str
    model: str
