"""One place that turns domain and infrastructure errors into HTTP answers a person understands."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from temporalio.service import RPCError

from core.errors import DomainError

logger = logging.getLogger(__name__)


def error_body(message: str, code: str, details: object = None) -> dict[str, object]:
    body: dict[str, object] = {"detail": message, "code": code}
    if details is not None:
        body["details"] = details
    return body


async def domain_error_handler(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
    return JSONResponse(
        error_body(exc.message, exc.code, exc.details), status_code=exc.status_code, headers=headers
    )


async def integrity_error_handler(_: Request, exc: Exception) -> JSONResponse:
    # A race the services could not rule out (two writers on the same row); the request changed nothing.
    logger.warning("integrity error answered as 409: %s", exc)
    return JSONResponse(
        error_body("The change conflicts with a concurrent change; reload and try again.", "conflict"),
        status_code=409,
    )


LOCK_CONFLICT_SQLSTATES = {"40P01", "40001"}
"""deadlock_detected, serialization_failure: PostgreSQL aborted this transaction in favour of a concurrent one."""


async def lock_conflict_handler(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, OperationalError)
    if getattr(exc.orig, "sqlstate", None) not in LOCK_CONFLICT_SQLSTATES:
        raise exc  # an outage or a bug: a 500 that is logged, not a conflict
    logger.warning("lock conflict answered as 409: %s", exc.orig)
    return JSONResponse(
        error_body("The change conflicts with a concurrent change; reload and try again.", "conflict"),
        status_code=409,
    )


async def stale_data_handler(_: Request, exc: Exception) -> JSONResponse:
    # The row was deleted by someone else (e.g. the retention run) between our read and our write.
    logger.info("stale row answered as 404: %s", exc)
    return JSONResponse(error_body("This object no longer exists.", "not_found"), status_code=404)


async def temporal_rpc_error_handler(_: Request, exc: Exception) -> JSONResponse:
    logger.warning("Temporal call failed: %s", exc)
    return JSONResponse(
        error_body(
            "The job service (Temporal) is unavailable; try again in a moment.", "upstream_unavailable"
        ),
        status_code=503,
    )


async def validation_error_handler(_: Request, exc: Exception) -> JSONResponse:
    """Field-level 422s without echoing the input: it may hold a password, be huge, or not be encodable."""
    assert isinstance(exc, RequestValidationError)
    errors = [
        {key: value for key, value in error.items() if key not in {"input", "url"}} for error in exc.errors()
    ]
    return JSONResponse({"detail": jsonable_encoder(errors)}, status_code=422)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_exception_handler(DomainError, domain_error_handler)
    app.add_exception_handler(IntegrityError, integrity_error_handler)
    app.add_exception_handler(StaleDataError, stale_data_handler)
    app.add_exception_handler(OperationalError, lock_conflict_handler)
    app.add_exception_handler(RPCError, temporal_rpc_error_handler)
