"""Payloads of the generation workflow, its activities and its signal (pydantic, through pydantic_data_converter).

Kept apart from `workflows/generation.py` so activities can import them without importing the workflow.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

KIE_CALLBACK_SIGNAL = "kie_callback"


class GenerateAssetInput(BaseModel):
    asset_id: int
    box_id: int
    project_id: int
    kind: str
    """`image` or `video` (chooses the deadline's wording and the ingest)."""
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
    status: str
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
    state: str
    result_urls: list[str] = Field(default_factory=list)
    credits_consumed: float | None = None
    error_type: str | None = None
    error_message: str | None = None
    """For `fail`: the typed error's name and a sentence a person understands."""

    @property
    def is_terminal(self) -> bool:
        return self.state in ("success", "fail")


class IngestInput(BaseModel):
    asset_id: int
    kind: str
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
    state: str | None = None


class DiscardFilesInput(BaseModel):
    asset_id: int
    keys: list[str]
