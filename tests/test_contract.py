"""The Temporal contract holds: the worker's activities answer to exactly the names workflows call, and the error
type names a workflow cannot derive from a class it imports name real exception classes."""

from __future__ import annotations

import builtins
import inspect
import socket
from types import ModuleType

import botocore.exceptions
import psycopg
import redis.exceptions
import sqlalchemy.exc
from temporalio import activity
from temporalio.contrib.pydantic import pydantic_data_converter

import activities.assets
import activities.events
import activities.kie
import activities.llm
import activities.reconcile
import activities.retention
import activities.storage
import core.contract
import core.errors
from workflows.generation import NON_RETRYABLE_ERROR_TYPES, OUTAGE_ERROR_TYPES

ACTIVITY_MODULES = (
    activities.assets,
    activities.events,
    activities.kie,
    activities.llm,
    activities.reconcile,
    activities.retention,
    activities.storage,
)
CONTRACT_ACTIVITY_NAMES = {
    value
    for name, value in vars(core.contract).items()
    if name.isupper() and isinstance(value, str) and not name.endswith(("_WORKFLOW", "_SIGNAL", "_QUERY"))
}


def declared_activity_names(module: ModuleType) -> set[str]:
    names = set()
    for _, cls in inspect.getmembers(module, inspect.isclass):
        if cls.__module__ != module.__name__:
            continue
        for _, method in inspect.getmembers(cls, inspect.isfunction):
            definition = activity._Definition.from_callable(method)
            if definition is not None and definition.name is not None:
                names.add(definition.name)
    return names


def test_every_activity_is_named_in_the_contract_and_every_name_is_declared() -> None:
    declared = set().union(*(declared_activity_names(module) for module in ACTIVITY_MODULES))
    assert declared == CONTRACT_ACTIVITY_NAMES


def exception_names(*modules: ModuleType) -> set[str]:
    return {
        name
        for module in modules
        for name, value in vars(module).items()
        if isinstance(value, type) and issubclass(value, BaseException)
    }


def test_outage_error_types_name_real_exception_classes() -> None:
    known = exception_names(
        builtins,
        socket,
        sqlalchemy.exc,
        psycopg,
        botocore.exceptions,
        redis.exceptions,
        core.errors,
        core.contract,
    )
    assert known >= OUTAGE_ERROR_TYPES, sorted(OUTAGE_ERROR_TYPES - known)


def test_non_retryable_types_are_the_contract_classes() -> None:
    assert NON_RETRYABLE_ERROR_TYPES == [
        "KieAuthError",
        "KieNoCreditsError",
        "KieInvalidInputError",
        "KieContentPolicyError",
        "KieNotFoundError",
        "KieGenerationFailedError",
        "AssetGone",
        "AssetNotWaiting",
    ]


def encoded(value: object) -> bytes:
    return pydantic_data_converter.payload_converter.to_payloads([value])[0].data


def test_payloads_with_enums_encode_as_before() -> None:
    """The JSON running workflows hold (what the string-typed payloads wrote) is what the enum-typed ones write."""
    assert encoded(
        core.contract.GenerateAssetInput(
            asset_id=1, box_id=2, project_id=3, kind=core.contract.AssetKind.VIDEO, deadline_seconds=60
        )
    ) == (
        b'{"asset_id":1,"box_id":2,"project_id":3,"kind":"video","deadline_seconds":60,'
        b'"infra_retry_window_seconds":3600,"infra_retry_max_interval_seconds":30}'
    )
    assert encoded(
        core.contract.GenerateAssetResult(asset_id=1, status=core.contract.GenerationOutcome.DELETED)
    ) == (b'{"asset_id":1,"status":"DELETED","error_message":null,"provider_task_id":null}')
    assert encoded(core.contract.KieCallbackSignal(task_id="t", state="success")) == (
        b'{"task_id":"t","state":"success"}'
    )


def test_a_kie_state_kie_added_later_still_decodes() -> None:
    known = core.contract.KieTaskState(task_id="t", state="success")
    unknown = core.contract.KieTaskState(task_id="t", state="paused-for-review")
    assert known.state is core.contract.KieState.SUCCESS and known.is_terminal
    assert unknown.state == "paused-for-review" and not unknown.is_terminal
    assert b'"state":"paused-for-review"' in encoded(unknown)
