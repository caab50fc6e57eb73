"""The admin's own doors against abuse: its login form counts against the API login's rate limits, and an image
or video model cannot be saved without a price (it would escape every budget)."""

from __future__ import annotations

import json
import uuid

import sqlalchemy as sa
from sqlmodel import select

from core.models import AIModel, AIProvider
from core.settings import Settings
from tests.api.test_admin import admin_login, make_user
from tests.api.test_rate_limits import limited_app, login
from tests.builders import PASSWORD, unique_email


async def test_admin_login_guesses_are_rate_limited_per_account_and_the_form_says_so(
    settings: Settings, sessionmaker
) -> None:
    admin = await make_user(sessionmaker)
    async with limited_app(settings, rate_limit_login_per_account="3/minute") as guesser:
        for _ in range(3):
            wrong = await admin_login(guesser, admin.email, "wrong password")
            assert wrong.status_code == 400  # sqladmin's "Invalid credentials."
        refused = await admin_login(guesser, admin.email, PASSWORD)  # even the right one waits now
        assert refused.status_code == 429, refused.text
        assert int(refused.headers["Retry-After"]) > 50  # a fresh 1-minute window
        assert "Too many login attempts for this account: at most 3 per minute" in refused.text
        assert "Try again in" in refused.text
        assert "aiam_admin" not in refused.headers.get("set-cookie", "")
        # The API login shares the count: guessing on one door uses up the other.
        api = await login(guesser, admin.email)
        assert api.status_code == 429, api.text


async def test_admin_login_guesses_are_rate_limited_per_address(settings: Settings, sessionmaker) -> None:
    async with limited_app(settings, rate_limit_login_per_address="2/minute") as guesser:
        for _ in range(2):
            assert (await admin_login(guesser, unique_email(), "guess")).status_code == 400
        refused = await admin_login(guesser, unique_email(), "guess")
        assert refused.status_code == 429, refused.text
        assert "Too many login attempts from your address" in refused.text


async def test_an_image_or_video_model_needs_a_price_in_the_admin(client, sessionmaker) -> None:
    admin = await make_user(sessionmaker)
    assert (await admin_login(client, admin.email)).status_code == 302
    async with sessionmaker() as session:
        kie = (await session.exec(select(AIProvider).where(AIProvider.slug == "kie"))).one()
    name = f"acme/image-{uuid.uuid4().hex[:8]}"
    form = {
        "provider": str(kie.id),
        "provider_model_id": name,
        "display_name": "Acme Image",
        "kind": "image",
        "default_params": "{}",
        "capabilities": json.dumps({"params": {}}),
        "price_credits": "",
        "is_active": "y",
    }

    refused = await client.post("/admin/ai-model/create", data=form)
    assert refused.status_code == 400, refused.text
    assert "Image and video models need a price" in refused.text
    async with sessionmaker() as session:
        count = (
            await session.exec(sa.select(sa.func.count()).where(AIModel.provider_model_id == name))
        ).one()
    assert count[0] == 0

    free = await client.post("/admin/ai-model/create", data={**form, "price_credits": "0"})
    assert free.status_code == 302, free.text
    chat = f"acme/chat-{uuid.uuid4().hex[:8]}"  # a text model (smart edit's LLM) is charged by SystemConfig
    text = await client.post(
        "/admin/ai-model/create", data={**form, "provider_model_id": chat, "kind": "text"}
    )
    assert text.status_code == 302, text.text
