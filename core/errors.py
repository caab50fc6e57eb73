"""Domain errors. Services raise them; `api/errors.py` renders each as one HTTP status with a readable message."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, *, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(DomainError):
    status_code = 404
    code = "not_found"


class Gone(DomainError):
    status_code = 410
    code = "gone"


class Unauthorized(DomainError):
    status_code = 401
    code = "unauthorized"


class Forbidden(DomainError):
    status_code = 403
    code = "forbidden"


class Conflict(DomainError):
    status_code = 409
    code = "conflict"


class InvalidInput(DomainError):
    """Input that parses but breaks a business rule (e.g. a parameter the chosen model does not support)."""

    status_code = 422
    code = "invalid_input"


class PayloadTooLarge(DomainError):
    status_code = 413
    code = "payload_too_large"


class RateLimited(DomainError):
    status_code = 429
    code = "rate_limited"


class ProviderOutOfCredits(DomainError):
    """The studio's Kie.ai account cannot pay for the request (said once, before anything starts)."""

    status_code = 402
    code = "provider_out_of_credits"


class UpstreamUnavailable(DomainError):
    status_code = 503
    code = "upstream_unavailable"


SERVER_BUSY_RETRY_AFTER_SECONDS = 5


class ServerBusy(DomainError):
    """This process is overloaded (not an outage): try again in a few seconds (`Retry-After`)."""

    status_code = 503
    code = "server_busy"

    def __init__(self, message: str, *, details: Any = None) -> None:
        super().__init__(message, details=details or {"retry_after": SERVER_BUSY_RETRY_AFTER_SECONDS})


class UpstreamError(DomainError):
    status_code = 502
    code = "upstream_error"


class UpstreamTimeout(DomainError):
    status_code = 504
    code = "upstream_timeout"


class ServiceUnavailable(UpstreamUnavailable):
    """One of our own services (database, S3, Temporal) is down, not an outside provider: answered 503 like any
    UpstreamUnavailable, and logged once per outage instead of once per request."""

    service = "a service"


class TemporalUnavailable(ServiceUnavailable):
    service = "temporal"


class S3Unavailable(ServiceUnavailable):
    service = "s3"
