"""One place that turns domain, framework and infrastructure errors into HTTP answers a person understands,
all with one body (`ErrorBody`), and documents that body on every status an operation can answer with."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from http import HTTPStatus
from typing import Any

import psycopg
from botocore.exceptions import BotoCoreError, ClientError
from fastapi import APIRouter, FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field
from pydantic.json_schema import models_json_schema
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from temporalio.service import RPCError

from api.outages import database_down, outages, pool_exhausted, s3_down
from core.errors import (
    DomainError,
    RateLimited,
    ServerBusy,
    ServiceUnavailable,
)
from core.temporal import TEMPORAL_UNAVAILABLE, temporal_down

logger = logging.getLogger(__name__)


class FieldError(BaseModel):
    """One refused input field (pydantic's error without the input it refused)."""

    loc: list[str | int] = Field(
        description="Where: 'body', 'query', 'path' or 'header', then the field path"
    )
    msg: str
    type: str = Field(description="pydantic's error type, e.g. 'missing', 'string_too_long'")
    ctx: dict[str, Any] | None = Field(default=None, description="The rule's parameters, e.g. max_length")


class ErrorBody(BaseModel):
    """Every error answer (4xx and 5xx) of the API."""

    detail: str = Field(description="A sentence a person understands")
    code: str = Field(
        description="The kind of error, for programs: not_found, validation_error, conflict, ..."
    )
    details: list[FieldError] | dict[str, Any] | None = Field(
        default=None,
        description="Optional: the refused fields of a validation error, or facts such as retry_after",
    )


ERROR_DESCRIPTIONS = {
    400: "The request could not be read (e.g. a malformed multipart or JSON body)",
    401: "Missing, invalid or expired credentials",
    403: "Not allowed for this account",
    404: "The object does not exist or is not yours",
    409: "Conflicts with the object's current state or a concurrent change",
    410: "The review link has expired",
    402: "The studio's Kie.ai account has too few credits for this request",
    413: "The upload is too large",
    422: "The input is invalid (`details` lists the refused fields for a schema violation)",
    429: "Too many requests; see the Retry-After header",
    502: "The AI provider answered with an error",
    503: "A service the call needs (the database, Temporal, Redis, S3) is unavailable, or the server is busy; try again",
    504: "The AI provider did not answer in time",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The `responses=` of a route for the error statuses it can answer besides those derived from its signature."""
    return {status: _error_response(status) for status in statuses}


def _error_response(status: int) -> dict[str, Any]:
    return {
        "description": ERROR_DESCRIPTIONS.get(status, HTTPStatus(status).phrase),
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
    }


def error_body(message: str, code: str, details: object = None) -> dict[str, object]:
    body: dict[str, object] = {"detail": message, "code": code}
    if details is not None:
        body["details"] = details
    return body


def error_headers(exc: DomainError) -> dict[str, str] | None:
    """The headers an answer to `exc` carries: how to authenticate (401), when to try again (429, 503 busy). The
    one place they are built, for the JSON handler here and the admin's login form."""
    if exc.status_code == 401:
        return {"WWW-Authenticate": "Bearer"}
    if (
        isinstance(exc, RateLimited | ServerBusy)
        and isinstance(exc.details, dict)
        and "retry_after" in exc.details
    ):
        return {"Retry-After": str(exc.details["retry_after"])}
    return None


async def domain_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    if isinstance(exc, ServiceUnavailable):
        outages(request).of(exc.service).failed(exc.__cause__ or exc)
    headers = error_headers(exc)
    return JSONResponse(
        error_body(exc.message, exc.code, exc.details), status_code=exc.status_code, headers=headers
    )


async def integrity_error_handler(_: Request, exc: Exception) -> JSONResponse:
    # A race the services could not rule out (two writers on the same row); the request changed nothing. The
    # engine hides SQL parameters (core/db.py), so this line names the constraint but never the values written.
    logger.warning("integrity error answered as 409: %s", exc)
    return JSONResponse(
        error_body("The change conflicts with a concurrent change; reload and try again.", "conflict"),
        status_code=409,
    )


LOCK_CONFLICT_SQLSTATES = {"40P01", "40001"}
"""deadlock_detected, serialization_failure: PostgreSQL aborted this transaction in favour of a concurrent one."""


DATABASE_UNAVAILABLE = "The database is unavailable; try again in a moment."
SERVER_BUSY = "The server is busy: every database connection is in use; try again in a few seconds."
S3_UNAVAILABLE = "The file store (S3) is unavailable; try again in a moment."


def unavailable(message: str) -> JSONResponse:
    return JSONResponse(error_body(message, "upstream_unavailable"), status_code=503)


async def database_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """A lock conflict is a 409; PostgreSQL being down (wherever it surfaced: a dependency, the route, the commit)
    is a 503 logged once per outage; anything else is a bug: a 500 with its traceback."""
    if isinstance(exc, DBAPIError) and getattr(exc.orig, "sqlstate", None) in LOCK_CONFLICT_SQLSTATES:
        logger.warning("lock conflict answered as 409: %s", exc.orig)
        return JSONResponse(
            error_body("The change conflicts with a concurrent change; reload and try again.", "conflict"),
            status_code=409,
        )
    if not database_down(exc):
        raise exc
    outages(request).database.failed(exc)
    return unavailable(DATABASE_UNAVAILABLE)


async def pool_timeout_handler(request: Request, exc: Exception) -> JSONResponse:
    """No pooled connection came free in time: the database is fine, this process is overloaded."""
    assert pool_exhausted(exc)
    logger.warning("answered 503: %s", exc)
    return await domain_error_handler(request, ServerBusy(SERVER_BUSY))


async def s3_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """S3 unreachable, dropping connections, too slow or answering 5xx: 503, logged once per outage."""
    if not s3_down(exc):
        raise exc
    outages(request).s3.failed(exc)
    return unavailable(S3_UNAVAILABLE)


async def stale_data_handler(_: Request, exc: Exception) -> JSONResponse:
    # The row was deleted by someone else (e.g. the retention run) between our read and our write.
    logger.info("stale row answered as 404: %s", exc)
    return JSONResponse(error_body("This object no longer exists.", "not_found"), status_code=404)


async def temporal_rpc_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """An RPC error no service turned into an answer: Temporal being away or overloaded is a 503 logged once per
    outage (`core.temporal.temporal_down`); any other refusal means we sent a wrong call: a bug, a logged 500."""
    assert isinstance(exc, RPCError)
    if not temporal_down(exc):
        raise exc
    outages(request).temporal.failed(exc)
    return unavailable(TEMPORAL_UNAVAILABLE)


INTERNAL_ERROR = "Something went wrong on our side; it has been logged."


class InternalErrorMiddleware:
    """Any exception no handler answered (a bug) becomes a JSON 500 in the one error body, with no internals in
    it; its traceback is logged here, once. Starlette's own last resort would answer plain text and re-raise, so
    the server would log it a second time.

    Sits inside CORS (added before it), so a browser can read the answer. An exception after the response has
    started (a background task, say) cannot be answered any more: it is left to the server, which logs it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception:
            if started:
                raise
            logger.exception("unexpected error answering %s %s", scope["method"], scope["path"])
            response = JSONResponse(error_body(INTERNAL_ERROR, "internal_error"), status_code=500)
            await response(scope, receive, send)


MAX_FIELDS_IN_SENTENCE = 3


def _encodable(value: Any) -> Any:
    """Strings as UTF-8 can carry them: a lone surrogate (from a JSON key, say) would break the answer."""
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, list):
        return [_encodable(item) for item in value]
    if isinstance(value, dict):
        return {_encodable(key): _encodable(item) for key, item in value.items()}
    return value


def describe_field_errors(errors: list[dict[str, Any]]) -> str:
    parts = []
    for error in errors[:MAX_FIELDS_IN_SENTENCE]:
        field = ".".join(str(part) for part in error["loc"] if part != "body")
        if error["type"] == "json_invalid":  # its loc is a character offset, not a field
            field = "body"
        parts.append(f"{field}: {error['msg']}" if field else str(error["msg"]))
    more = len(errors) - MAX_FIELDS_IN_SENTENCE
    suffix = f" (and {more} more)" if more > 0 else ""
    return "The request is invalid: " + "; ".join(parts) + suffix + "."


async def validation_error_handler(_: Request, exc: Exception) -> JSONResponse:
    """Field-level 422s without echoing the input: it may hold a password, be huge, or not be encodable."""
    assert isinstance(exc, RequestValidationError)
    errors = _encodable(
        jsonable_encoder(
            [
                {key: value for key, value in error.items() if key in {"loc", "msg", "type", "ctx"}}
                for error in exc.errors()
            ]
        )
    )
    return JSONResponse(
        error_body(describe_field_errors(errors), "validation_error", errors), status_code=422
    )


FRAMEWORK_ERRORS = {
    400: ("The request body could not be read: {detail}.", "bad_request"),
    404: ("There is nothing at this address.", "not_found"),
    405: ("This address does not accept the {method} method.", "method_not_allowed"),
}


async def http_exception_handler(request: Request, exc: Exception) -> JSONResponse:
    """Starlette's and FastAPI's own errors (unknown path, wrong method, unreadable body) in the one error body."""
    assert isinstance(exc, StarletteHTTPException)
    template, code = FRAMEWORK_ERRORS.get(
        exc.status_code, ("{detail}.", HTTPStatus(exc.status_code).phrase.lower().replace(" ", "_"))
    )
    raw = str(exc.detail).rstrip(".")
    message = template.format(detail=raw[:1].lower() + raw[1:], method=request.method)
    return JSONResponse(error_body(message, code), status_code=exc.status_code, headers=exc.headers)


def _dependencies(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for sub in dependant.dependencies:
        yield from _dependencies(sub)


WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def derived_error_statuses(route: APIRoute) -> set[int]:
    """The error statuses a route's signature makes possible, so no route has to remember them by hand:
    401 when it needs the current user (and 403 when it also writes: a session cookie without the CSRF header),
    404 when its path names an object, 422 when it has any input,
    400 when it reads a body (one that cannot be decoded is refused before validation), 409 when it writes
    (a concurrent change PostgreSQL refuses: a unique violation, a deadlock, a serialization failure), 503 when it
    uses the database (PostgreSQL is down)."""
    from api.deps import get_current_user, get_session  # api.deps imports the services; keep this a leaf

    dependants = list(_dependencies(route.dependant))
    statuses: set[int] = set()
    if any(d.call is get_current_user for d in dependants):
        statuses.add(401)
        if (route.methods or set()) & WRITE_METHODS:
            statuses.add(403)  # a session-cookie write without X-AAM-CSRF (core/sessions.py)
    if any(d.path_params for d in dependants):
        statuses.update({404, 422})
    if any(d.query_params or d.header_params or d.cookie_params or d.body_params for d in dependants):
        statuses.add(422)
    if route.body_field is not None:
        statuses.update({400, 422})
    # The IntegrityError and lock-conflict handlers answer any write with 409.
    if (route.methods or set()) & WRITE_METHODS:
        statuses.add(409)
    # The database handler answers 503 while PostgreSQL is down, for any route with a session.
    if any(d.call is get_session for d in dependants):
        statuses.add(503)
    return statuses


def install_openapi(app: FastAPI, routers: Sequence[APIRouter]) -> None:
    """The OpenAPI document with ErrorBody on every error status (instead of FastAPI's HTTPValidationError).

    `routers` are those included in `app` without a further prefix: their routes are where the statuses are derived
    from (the app's own route list holds opaque included-router entries).
    """

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
        _, definitions = models_json_schema(
            [(ErrorBody, "serialization")], ref_template="#/components/schemas/{model}"
        )
        components.update(definitions.get("$defs", {}))
        for route in (route for router in routers for route in router.routes):
            if not isinstance(route, APIRoute) or not route.include_in_schema:
                continue
            for method in route.methods or ():
                responses = schema["paths"][route.path_format][method.lower()]["responses"]
                for status in derived_error_statuses(route):
                    responses.setdefault(str(status), _error_response(status))
                if "422" in responses:  # FastAPI's own default names HTTPValidationError
                    responses["422"] = _error_response(422)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def install_error_handlers(app: FastAPI) -> None:
    """The handlers, and the JSON 500 for everything else: call it before adding CORS, which must wrap the 500."""
    app.add_middleware(InternalErrorMiddleware)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_exception_handler(StarletteHTTPException, http_exception_handler)
    app.add_exception_handler(DomainError, domain_error_handler)
    app.add_exception_handler(IntegrityError, integrity_error_handler)
    app.add_exception_handler(StaleDataError, stale_data_handler)
    # DBAPIError covers OperationalError and InterfaceError; IntegrityError keeps its own (more specific) handler.
    app.add_exception_handler(DBAPIError, database_error_handler)
    app.add_exception_handler(PoolTimeoutError, pool_timeout_handler)
    app.add_exception_handler(psycopg.OperationalError, database_error_handler)
    app.add_exception_handler(BotoCoreError, s3_error_handler)
    app.add_exception_handler(ClientError, s3_error_handler)
    app.add_exception_handler(RPCError, temporal_rpc_error_handler)
