"""The admin UI (sqladmin at /admin on the app) for users, invites, the AI catalogue and SystemConfig; superusers only.

Admin sessions are bound to the engine the app's lifespan creates (`app.state.engine`), so the admin shares
the API's connection pool and is disposed with it; nothing connects at mount time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from jinja2 import ChoiceLoader, DictLoader
from markupsafe import Markup
from sqladmin import Admin, ModelView
from sqladmin.authentication import AuthenticationBackend
from sqladmin.templating import Jinja2Templates
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from wtforms import Field, FloatField, Form, ValidationError
from wtforms.validators import NumberRange, Optional

from api.deps import get_client_address
from api.errors import error_headers
from core.errors import RateLimited
from core.invites import describe_invite, invite_link
from core.models import AIModel, AIProvider, Invite, ModelKind, SystemConfig, User, utcnow
from core.ratelimit import RateLimiter
from core.security import hash_password_blocking, verify_password
from core.settings import Settings

ADMIN_BASE_URL = "/admin"
SESSION_KEY = "admin_user_id"
SESSION_MAX_AGE_SECONDS = 8 * 60 * 60

# Verifying against a real hash when the email is unknown keeps the response time from telling emails apart.
_DUMMY_HASH = hash_password_blocking("not-a-real-admin-password")

_LOGIN_TEMPLATE = """{% extends "sqladmin/base.html" %}
{% block body %}
<div class="d-flex align-items-center justify-content-center vh-100">
  <form class="col-lg-6 col-md-6 card card-md" action="{{ url_for('admin:login') }}" method="POST">
    <div class="card-body">
      <h2 class="card-title text-center mb-4">{{ admin.title }}</h2>
      <p class="text-secondary text-center">Superusers only.</p>
      <div class="mb-3">
        <label class="form-label" for="admin-email">Email</label>
        <input id="admin-email" name="username" type="email" autocomplete="username" required
          class="form-control{% if error %} is-invalid{% endif %}" placeholder="you@example.com">
      </div>
      <div class="mb-2">
        <label class="form-label" for="admin-password">Password</label>
        <input id="admin-password" name="password" type="password" autocomplete="current-password" required
          class="form-control{% if error %} is-invalid{% endif %}">
        {% if error %}<div class="invalid-feedback">{{ error }}</div>{% endif %}
      </div>
      <div class="form-footer">
        <button type="submit" class="btn btn-primary w-100">Log in</button>
      </div>
    </div>
  </form>
</div>
{% endblock %}
"""


def admin_session_secret(settings: Settings) -> str:
    """ADMIN_SESSION_SECRET when set; otherwise a key derived from JWT_SECRET (never the JWT key itself)."""
    if settings.admin_session_secret is not None and settings.admin_session_secret.get_secret_value():
        return settings.admin_session_secret.get_secret_value()
    key = settings.jwt_secret.get_secret_value().encode()
    return hmac.new(key, b"aiam-admin-session-v1", hashlib.sha256).hexdigest()


class _AppSessionmaker(async_sessionmaker[AsyncSession]):
    """Opens each admin session on the engine that the app's lifespan created."""

    def __init__(self, app: FastAPI) -> None:
        super().__init__(class_=AsyncSession, expire_on_commit=False)
        self._app = app

    def __call__(self, **local_kw: Any) -> AsyncSession:
        engine = getattr(self._app.state, "engine", None)
        if engine is None:
            raise RuntimeError("the admin UI needs the app's lifespan to have started (app.state.engine)")
        local_kw.setdefault("bind", engine)
        return super().__call__(**local_kw)


class SuperuserAuth(AuthenticationBackend):
    """A login form (email + password): only active superusers get in; every request re-checks both flags."""

    def __init__(
        self, settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], app: FastAPI
    ) -> None:
        super().__init__(
            secret_key=admin_session_secret(settings),
            session_cookie="aiam_admin",
            max_age=SESSION_MAX_AGE_SECONDS,
            path=ADMIN_BASE_URL,
            same_site="strict",
            https_only=settings.public_base_url.startswith("https://"),
        )
        self._sessionmaker = sessionmaker
        self._app = app
        self.templates: Jinja2Templates | None = None
        """The admin's, to answer a refused login on its own form (set by `mount_admin`)."""

    async def _load_superuser(self, user_id: Any) -> User | None:
        if not isinstance(user_id, int):
            return None
        async with self._sessionmaker() as session:
            user = await session.get(User, user_id)
        if user is None or not user.is_active or not user.is_superuser:
            return None
        return user

    async def login(self, request: Request) -> bool | Response:
        form = await request.form()
        email, password = form.get("username"), form.get("password")
        if not isinstance(email, str) or not isinstance(password, str) or not email or not password:
            return False
        # The same limits as the API's login (they share the counters): the form is as good a place to guess.
        limiter: RateLimiter = self._app.state.limiter
        try:
            await limiter.hit_login(await get_client_address(request), email)
        except RateLimited as refused:
            return await self._refused(request, refused)
        async with self._sessionmaker() as session:
            user = (
                await session.execute(select(User).where(func.lower(User.email) == email.strip().lower()))
            ).scalar_one_or_none()
        if user is None:
            await verify_password(_DUMMY_HASH, password)
            return False
        if (
            not await verify_password(user.password_hash, password)
            or not user.is_active
            or not user.is_superuser
        ):
            return False
        request.session.clear()
        request.session[SESSION_KEY] = user.id
        return True

    async def _refused(self, request: Request, refused: RateLimited) -> Response:
        assert self.templates is not None
        response = await self.templates.TemplateResponse(
            request, "sqladmin/login.html", {"error": refused.message}, status_code=refused.status_code
        )
        response.headers.update(error_headers(refused) or {})
        return response

    async def logout(self, request: Request) -> bool:
        request.session.clear()
        return True

    async def authenticate(self, request: Request) -> bool:
        if await self._load_superuser(request.session.get(SESSION_KEY)) is None:
            request.session.clear()
            return False
        return True

    async def get_user_id(self, request: Request) -> Any:
        return request.session.get(SESSION_KEY)


# --- form validators ---------------------------------------------------------------------------------------


def _json_object(form: Form, field: Field) -> None:
    """JSON columns hold objects; a blank field means an empty object."""
    if field.data is None:
        field.data = {}
    if not isinstance(field.data, dict):
        raise ValidationError('Enter a JSON object, e.g. {} or {"key": "value"}.')


def _price_for_paid_kinds(form: Form, field: Field) -> None:
    """On `kind` (a blank price is cleared of errors by its Optional): an image or video model costs Kie.ai
    credits, so without a price it would escape every budget (generating with it is refused, core/spend.py)."""
    price = form.price_credits.data if hasattr(form, "price_credits") else None
    if price is None and _enum_value(field.data) in (ModelKind.IMAGE, ModelKind.VIDEO):
        raise ValidationError(
            "Image and video models need a price (credits per variant, 0 if it is really free): without one "
            "generating with this model is refused."
        )


def _capabilities_shape(form: Form, field: Field) -> None:
    """The keys the generation form reads must have the right shape (other keys are free)."""
    data = field.data if isinstance(field.data, dict) else {}
    prompt = data.get("prompt")
    if prompt is not None and not isinstance(prompt, dict):
        raise ValidationError('"prompt" must be an object such as {"min_length": 1, "max_length": 5000}.')
    if "supports_seed" in data and not isinstance(data["supports_seed"], bool):
        raise ValidationError('"supports_seed" must be true or false.')
    images = data.get("input_images")
    if images is not None and (not isinstance(images, dict) or not isinstance(images.get("field"), str)):
        raise ValidationError(
            '"input_images" must be null or an object with a "field" name, "min" and "max".'
        )
    params = data.get("params")
    if params is not None:
        if not isinstance(params, dict) or not all(isinstance(spec, dict) for spec in params.values()):
            raise ValidationError(
                '"params" must map each parameter name to an object like {"type": "enum", …}.'
            )
        for name, spec in params.items():
            if spec.get("type") == "enum" and not isinstance(spec.get("values"), list):
                raise ValidationError(f'The enum parameter "{name}" needs a "values" list.')


_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")


def _env_var_name(form: Form, field: Field) -> None:
    if not isinstance(field.data, str) or not _ENV_NAME.fullmatch(field.data):
        raise ValidationError("Enter an environment variable name such as KIE_API_KEY.")


def _enum_value(value: Any) -> str:
    """sqladmin's default turns an enum member into its *name*; our columns store the value."""
    return str(value.value) if hasattr(value, "value") else str(value)


# --- spend limits (core/spend.py): the fields the user and SystemConfig views add ---------------------------

SPEND_USER_FORM_COLUMNS = ["daily_credit_budget", "max_running_generations"]
SPEND_USER_FORM_ARGS: dict[str, dict[str, Any]] = {
    "daily_credit_budget": {
        "validators": [Optional(), NumberRange(min=0)],
        "description": "Credits per UTC day for this user; empty = System config's default",
    },
    "max_running_generations": {
        "validators": [Optional(), NumberRange(min=0, max=1000)],
        "description": "Generations this user may run at once; empty = System config's default",
    },
}
SPEND_CONFIG_COLUMNS = ["daily_credit_budget", "max_running_generations", "smart_edit_cost_credits"]
SPEND_CONFIG_FORM_ARGS: dict[str, dict[str, Any]] = {
    "daily_credit_budget": {
        "validators": [NumberRange(min=0)],
        "description": "Default credits per user per UTC day (a user's own budget overrides it)",
    },
    "max_running_generations": {
        "validators": [NumberRange(min=0, max=1000)],
        "description": "Default generations a user may run at once",
    },
    "smart_edit_cost_credits": {
        "validators": [NumberRange(min=0)],
        "description": "What one smart edit is charged against the daily budget",
    },
}
SPEND_FLOAT_FIELDS = {"daily_credit_budget": FloatField}


# --- views -------------------------------------------------------------------------------------------------


class UserAdmin(ModelView, model=User):
    name, name_plural, icon = "User", "Users", "fa-solid fa-user"
    # Accounts come from registration or `python -m core.cli create-superuser`; the hash never shows here.
    can_create = False
    can_delete = False
    column_list = ["id", "email", "display_name", "is_active", "is_superuser", "created_at"]
    column_details_list = [
        "id",
        "email",
        "display_name",
        "is_active",
        "is_superuser",
        *SPEND_USER_FORM_COLUMNS,
        "created_at",
        "updated_at",
    ]
    column_searchable_list = ["email", "display_name"]
    column_sortable_list = ["id", "email", "created_at"]
    column_export_exclude_list = ["password_hash"]
    form_columns = ["display_name", "is_active", "is_superuser", *SPEND_USER_FORM_COLUMNS]
    form_overrides = SPEND_FLOAT_FIELDS
    form_args = SPEND_USER_FORM_ARGS

    async def on_model_change(
        self, data: dict[str, Any], model: Any, is_created: bool, request: Request
    ) -> None:
        if model.id == request.session.get(SESSION_KEY) and (
            not data.get("is_active", True) or not data.get("is_superuser", True)
        ):
            raise ValueError("You cannot deactivate yourself or remove your own superuser rights.")


class InviteAdmin(ModelView, model=Invite):
    """Single-use, expiring registration links: create one, copy its link from the page that follows, delete it
    to revoke it. `mount_admin` subclasses it with the app's settings (the link's base URL, the lifetime)."""

    name, name_plural, icon = "Invite", "Invites", "fa-solid fa-envelope-open-text"
    settings: Settings
    can_edit = False  # an invite is made, used or revoked (deleted); nothing else changes
    column_list = ["id", "note", "used_at", "token", "expires_at", "created_by", "created_at"]
    column_details_list = ["id", "note", "used_at", "token", "expires_at", "created_by", "created_at"]
    column_labels = {"used_at": "Status", "token": "Link to copy (single use)", "note": "For"}
    column_sortable_list = ["id", "expires_at", "created_at"]
    column_default_sort = [("id", True)]
    column_searchable_list = ["note"]
    form_columns = ["note"]
    form_args = {"note": {"description": "Who it is for (an email or a name), to recognise it in this list"}}

    @classmethod
    def for_settings(cls, settings: Settings) -> type[InviteAdmin]:
        def link(model: Any, attribute: Any) -> Markup:
            return Markup(
                '<input class="form-control form-control-sm" readonly size="60" value="{}" onclick="this.select()">'
            ).format(invite_link(settings, model))

        def status(model: Any, attribute: Any) -> str:
            return describe_invite(model)

        def creator(model: Any, attribute: Any) -> str:
            # The email only: a User's default str() would print every column, its password hash included.
            return model.created_by.email if model.created_by is not None else "(command line)"

        formatters = {"token": link, "used_at": status, "created_by": creator}
        attributes = {
            "settings": settings,
            "column_formatters": formatters,
            "column_formatters_detail": formatters,
        }
        return type("InviteAdmin", (cls,), attributes)

    async def on_model_change(
        self, data: dict[str, Any], model: Any, is_created: bool, request: Request
    ) -> None:
        if is_created:
            data["note"] = (data.get("note") or "").strip()
            model.created_by_id = request.session.get(SESSION_KEY)
            model.expires_at = utcnow() + timedelta(hours=self.settings.invite_ttl_hours)

    async def after_model_change(
        self, data: dict[str, Any], model: Any, is_created: bool, request: Request
    ) -> Response | None:
        # Straight to the invite's page, where the link is shown to copy.
        return RedirectResponse(
            str(request.url_for("admin:details", identity=self.identity, pk=model.id)), 302
        )


class AIProviderAdmin(ModelView, model=AIProvider):
    name, name_plural, icon = "AI provider", "AI providers", "fa-solid fa-plug"
    column_list = [
        "id",
        "name",
        "slug",
        "base_url",
        "api_key_env",
        "is_active",
    ]
    column_details_exclude_list = ["models"]
    form_columns = [
        "name",
        "slug",
        "base_url",
        "api_key_env",
        "is_active",
    ]
    form_args = {"api_key_env": {"validators": [_env_var_name]}}


class AIModelAdmin(ModelView, model=AIModel):
    name, name_plural, icon = "AI model", "AI models", "fa-solid fa-wand-magic-sparkles"
    column_list = [
        "id",
        "provider",
        "provider_model_id",
        "display_name",
        "kind",
        "price_credits",
        "is_active",
    ]
    column_details_exclude_list = ["assets"]
    column_searchable_list = ["provider_model_id", "display_name"]
    column_sortable_list = ["id", "provider_model_id", "kind"]
    form_columns = [
        "provider",
        "provider_model_id",
        "display_name",
        "kind",
        "default_params",
        "capabilities",
        "price_credits",
        "is_active",
    ]
    form_overrides = {"price_credits": FloatField}  # sqladmin has no converter for Float columns
    form_args = {
        "kind": {"coerce": _enum_value, "validators": [_price_for_paid_kinds]},
        "default_params": {
            "validators": [_json_object],
            "description": 'JSON object, e.g. {"aspect_ratio": "1:1"}',
        },
        "capabilities": {
            "validators": [_json_object, _capabilities_shape],
            "description": 'JSON object with "prompt", "supports_seed", "input_images" and "params"',
        },
        "price_credits": {"validators": [Optional(), NumberRange(min=0)]},
    }


class SystemConfigAdmin(ModelView, model=SystemConfig):
    name, name_plural, icon = "System config", "System config", "fa-solid fa-gear"
    can_create = False  # a singleton (id = 1) seeded by the migrations
    can_delete = False
    column_list = [
        "id",
        "smart_edit_model",
        "retention_days",
        "retention_hour_utc",
        *SPEND_CONFIG_COLUMNS,
        "updated_at",
    ]
    form_columns = [
        "smart_edit_model",
        "smart_edit_system_prompt",
        "retention_days",
        "retention_hour_utc",
        "extra",
        *SPEND_CONFIG_COLUMNS,
    ]
    form_overrides = {**SPEND_FLOAT_FIELDS, "smart_edit_cost_credits": FloatField}
    form_args = {
        "retention_days": {"validators": [NumberRange(min=1, max=3650)]},
        "retention_hour_utc": {"validators": [NumberRange(min=0, max=23)]},
        "extra": {"validators": [_json_object]},
        **SPEND_CONFIG_FORM_ARGS,
    }


def mount_admin(app: FastAPI, settings: Settings) -> Admin:
    sessionmaker = _AppSessionmaker(app)
    auth = SuperuserAuth(settings, sessionmaker, app)
    admin = Admin(
        app,
        session_maker=sessionmaker,
        base_url=ADMIN_BASE_URL,
        title="AI Asset Manager admin",
        authentication_backend=auth,
    )
    auth.templates = admin.templates
    loader = admin.templates.env.loader
    assert loader is not None
    admin.templates.env.loader = ChoiceLoader([DictLoader({"sqladmin/login.html": _LOGIN_TEMPLATE}), loader])
    for view in (
        UserAdmin,
        InviteAdmin.for_settings(settings),
        AIProviderAdmin,
        AIModelAdmin,
        SystemConfigAdmin,
    ):
        admin.add_view(view)
    return admin
