"""One typed Settings object read from the environment (and `.env`), reached through the cached `get_settings()`."""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from typing import Self

from limits import parse as parse_rate_limit
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_JWT_SECRET = "change-me-local-only-jwt-secret"
DEFAULT_S3_SECRET = "change-me-local-only-s3-secret"


class Environment(StrEnum):
    LOCAL = "local"
    TEST = "test"
    PRODUCTION = "production"


class RegistrationMode(StrEnum):
    OPEN = "open"
    INVITE_ONLY = "invite_only"
    CLOSED = "closed"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    environment: Environment = Environment.LOCAL

    # HTTP
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    public_base_url: str = "http://127.0.0.1:8000"
    """How browsers and Kie.ai callbacks reach the API (share-link URLs, callBackUrl)."""
    cors_origins: list[str] = Field(
        default_factory=lambda: ["http://127.0.0.1:3000", "http://localhost:3000"]
    )

    # PostgreSQL
    database_url: str = "postgresql+psycopg://postgres@127.0.0.1:55432/aiam"
    database_pool_size: int = 10
    database_max_overflow: int = Field(default=10, ge=0)
    """Connections opened beyond the pool under load (closed again when returned)."""
    database_pool_timeout_seconds: float = Field(default=10.0, gt=0)
    """How long a request waits for a pooled connection before it answers 503 "the server is busy"."""

    # Redis
    redis_url: str = "redis://127.0.0.1:56379/0"
    redis_health_check_seconds: float = Field(default=10.0, gt=0)
    """A Redis connection idle this long is PINGed before (or, for the event relay's pub/sub, while) it is used."""

    # Temporal
    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    temporal_task_queue: str = "aiam"
    temporal_ui_url: str = "http://127.0.0.1:8233"
    temporal_search_attributes: bool = True
    """Tag workflows with AssetId/BoxId/ProjectId (Int search attributes the server must have registered)."""
    temporal_rpc_timeout_seconds: float = Field(default=5.0, gt=0)
    """The longest the API waits for one Temporal call (connect, start, signal, cancel) before it answers 503."""
    worker_seen_within_seconds: int = Field(default=90, ge=1)
    """Health counts the worker as up when it polled the generation task queue this recently (a long poll is
    renewed at least every ~60 s)."""

    # S3
    s3_endpoint_url: str = "http://127.0.0.1:8333"
    s3_bucket: str = "aiam-dev"
    s3_access_key: str = "aiam-local"
    s3_secret_key: SecretStr = SecretStr(DEFAULT_S3_SECRET)
    s3_region: str = "us-east-1"
    s3_presign_ttl_seconds: int = 900

    # Kie.ai
    kie_base_url: str = "https://api.kie.ai"
    kie_api_key: SecretStr | None = None
    kie_webhook_hmac_key: SecretStr | None = None
    kie_timeout_seconds: float = 30.0
    kie_simulator_key: str = "aiam-local-simulator"
    """Not a secret: the bearer key sent to the built-in simulator when KIE_API_KEY is unset."""
    kie_input_url_ttl_seconds: int = 3600
    """How long the presigned S3 URLs of input images handed to Kie.ai stay valid."""
    kie_max_result_bytes: int = 200 * 1024 * 1024
    kie_max_input_bytes: int = 10_000_000
    """Kie.ai refuses input images over 10 MB: larger uploads are stored as a re-encoded copy under this size,
    and edit/animate refuse any other input image above it."""

    # Generation pipeline
    generation_image_deadline_seconds: int = 15 * 60
    generation_video_deadline_seconds: int = 30 * 60
    infra_retry_window_seconds: int = Field(default=3600, ge=1)
    """How long a generation keeps retrying a step that touches our database, S3 or Redis before it gives up."""
    infra_retry_max_interval_seconds: int = Field(default=30, ge=1)
    """The longest pause between those retries (they start at 1 s and double)."""
    reconcile_interval_seconds: int = Field(default=300, ge=1)
    """How often the reconciler looks for assets whose generation workflow stopped for good."""
    reconcile_grace_seconds: int = Field(default=120, ge=0)
    """A PENDING/RUNNING asset unchanged for less than this is never touched (its start may be in flight)."""

    # Smart edit
    smart_edit_timeout_seconds: float = 60.0
    """The longest the API waits for a smart edit, retries included; then it answers 504."""
    smart_edit_attempt_timeout_seconds: float = 20.0
    """The longest one LLM call may take before it counts as a failed attempt (3 attempts)."""

    # Auth
    jwt_secret: SecretStr = SecretStr(DEFAULT_JWT_SECRET)
    jwt_lifetime_minutes: int = 60 * 24
    admin_session_secret: SecretStr | None = None

    # Browser sessions (issue 14, core/sessions.py): the `aam_session` cookie
    session_max_age_hours: float = Field(default=14 * 24, gt=0)
    """A browser session ends this long after login, however much it is used."""
    session_idle_hours: float = Field(default=72, gt=0)
    """A browser session unused this long ends."""
    session_cookie_secure: bool = False
    """Mark the session cookie Secure even on plain HTTP (it always is when the request came over HTTPS)."""

    # Limits
    max_upload_bytes: int = 20 * 1024 * 1024
    max_image_pixels: int = 25_000_000
    """Uploaded and generated images with more pixels are refused from their header, before any decoding."""

    # Sign-up and rate limits (issue 12). Limits read like "10/minute" or "5 per hour" (the `limits` library).
    registration_mode: RegistrationMode | None = None
    """open, invite_only or closed; unset means open locally and in tests, invite_only in production."""
    invite_ttl_hours: int = Field(default=7 * 24, ge=1)
    """How long a new invite link stays valid."""
    studio_invites_open_registration: bool = True
    """Whether a studio's member invite lets someone without an account register (unless registration is closed);
    false: it lets only existing accounts join, and registration follows `registration_mode` alone."""
    rate_limit_login_per_account: str = "10/minute"
    rate_limit_login_per_address: str = "30/minute"
    rate_limit_register_per_address: str = "5/hour"
    rate_limit_generate_per_user: str = "30/minute"
    """Generate, animate and retry share this budget."""
    rate_limit_smart_edit_per_user: str = "20/minute"

    @field_validator("registration_mode", mode="before")
    @classmethod
    def _blank_registration_mode_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("kie_api_key", "kie_webhook_hmac_key", "admin_session_secret", mode="before")
    @classmethod
    def _blank_optional_secret_is_unset(cls, value: object) -> object:
        """`KIE_WEBHOOK_HMAC_KEY=` (as `.env.example` ships it) means no key, not an empty one: an empty HMAC key
        would turn callbacks on with a signature anyone can compute, and an empty KIE_API_KEY would send the real
        client out with no key instead of using the simulator (or refusing to start in production)."""
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator(
        "rate_limit_login_per_account",
        "rate_limit_login_per_address",
        "rate_limit_register_per_address",
        "rate_limit_generate_per_user",
        "rate_limit_smart_edit_per_user",
    )
    @classmethod
    def _readable_rate_limit(cls, value: str) -> str:
        try:
            parse_rate_limit(value)
        except ValueError as exc:
            raise ValueError(f'write a rate limit like "10/minute" or "5 per hour", not {value!r}') from exc
        return value

    @property
    def effective_registration_mode(self) -> RegistrationMode:
        if self.registration_mode is not None:
            return self.registration_mode
        if self.environment is Environment.PRODUCTION:
            return RegistrationMode.INVITE_ONLY
        return RegistrationMode.OPEN

    # Proxy (issue 12: the client address only from the proxy)
    forwarded_allow_ips: str = "127.0.0.1"
    """Addresses or CIDRs (comma-separated) whose X-Forwarded-For/-Proto are believed: the reverse proxy's.
    Anyone else's forwarded headers are ignored, so a client cannot choose its address (rate limits key on it)."""

    # Spend limits (core/spend.py; the limits themselves are in SystemConfig and per user)
    kie_balance_cache_seconds: float = 30.0
    """How long one reading of the Kie.ai account balance is reused before generating asks Kie.ai again."""
    kie_balance_timeout_seconds: float = 3.0
    """Longest a generation request waits for the balance; past it the request goes ahead unchecked."""

    # Sockets (docs/events.md)
    socket_ticket_ttl_seconds: int = Field(default=30, ge=1, le=600)
    """How long a socket ticket (`POST /api/auth/socket-ticket/`) may wait before it is used (once)."""
    socket_ping_seconds: float = Field(default=20.0, gt=0)
    """Every open socket is pinged this often; each ping re-checks that it may stay open (token expiry, the
    user still active, the review link still live)."""
    max_sockets_per_user: int = Field(default=20, ge=1)
    """Open owner sockets per user, per API process; the next one is closed with 4429."""
    max_sockets_per_link: int = Field(default=50, ge=1)
    """Open review-link sockets per share link, per API process; the next one is closed with 4429."""

    # Password checks (core/security.py)
    password_hash_max_waiting: int = Field(default=64, ge=0)
    """Password hashes/checks that may wait for the argon2 threads (per API process); the next answers 503."""

    @model_validator(mode="after")
    def _refuse_default_secrets_in_production(self) -> Self:
        if self.environment is not Environment.PRODUCTION:
            return self
        problems = []
        if self.jwt_secret.get_secret_value() in {"", DEFAULT_JWT_SECRET} or len(self.jwt_secret) < 32:
            problems.append("JWT_SECRET must be set to a random value of at least 32 characters")
        if self.s3_secret_key.get_secret_value() in {"", DEFAULT_S3_SECRET}:
            problems.append("S3_SECRET_KEY must be set")
        if self.kie_api_key is None or not self.kie_api_key.get_secret_value():
            problems.append("KIE_API_KEY must be set")
        if problems:
            raise ValueError("refusing to start in production: " + "; ".join(problems))
        return self

    @property
    def kie_callbacks_enabled(self) -> bool:
        """In production a callback is only trusted when signed: without KIE_WEBHOOK_HMAC_KEY no callBackUrl is
        sent, the callback route refuses, and polling alone follows each task."""
        return self.kie_webhook_hmac_key is not None or self.environment is not Environment.PRODUCTION

    @property
    def simulated_kie(self) -> bool:
        """True when no real Kie.ai key is configured and the built-in simulator stands in."""
        return self.kie_api_key is None


@lru_cache
def get_settings() -> Settings:
    return Settings()
