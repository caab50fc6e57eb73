"""The admin UI at /admin: superusers only, and catalogue rows added there reach the API without a code change."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
from sqlmodel import select

from core.models import AIModel, AIProvider, SystemConfig, User
from core.security import hash_password
from tests.builders import PASSWORD, register, unique_email

ROOT = Path(__file__).resolve().parents[2]
LIST_PAGES = (
    "/admin/user/list",
    "/admin/ai-provider/list",
    "/admin/ai-model/list",
    "/admin/system-config/list",
)


async def make_user(sessionmaker, *, is_superuser: bool = True, is_active: bool = True) -> User:
    async with sessionmaker() as session:
        user = User(
            email=unique_email("admin"),
            password_hash=await hash_password(PASSWORD),
            display_name="Admin",
            is_superuser=is_superuser,
            is_active=is_active,
        )
        session.add(user)
        await session.commit()
        await session.refresh(user)
        return user


async def admin_login(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    return await client.post("/admin/login", data={"username": email, "password": password})


async def set_flags(sessionmaker, user_id: int, **flags: bool) -> None:
    async with sessionmaker() as session:
        user = await session.get(User, user_id)
        for name, value in flags.items():
            setattr(user, name, value)
        session.add(user)
        await session.commit()


async def test_anonymous_visitor_is_sent_to_the_login_form(client):
    for page in LIST_PAGES:
        response = await client.get(page)
        assert response.status_code == 302, page
        assert response.headers["location"].endswith("/admin/login")
    login_form = await client.get("/admin/login")
    assert login_form.status_code == 200
    assert 'name="username"' in login_form.text and "Email" in login_form.text


async def test_a_user_who_is_not_a_superuser_cannot_log_in(client):
    email = unique_email()
    await register(client, email=email)

    response = await admin_login(client, email)

    assert response.status_code == 400
    assert "Invalid credentials" in response.text
    assert "aiam_admin" not in client.cookies
    assert (await client.get("/admin/user/list")).status_code == 302


async def test_wrong_password_and_unknown_email_are_refused(client, sessionmaker):
    admin = await make_user(sessionmaker)
    assert (await admin_login(client, admin.email, "not the password")).status_code == 400
    assert (await admin_login(client, unique_email("nobody"))).status_code == 400
    assert (await client.get("/admin/user/list")).status_code == 302


async def test_superuser_logs_in_and_sees_every_list_page(client, sessionmaker):
    admin = await make_user(sessionmaker)

    response = await admin_login(client, admin.email.upper())  # the email is case-insensitive

    assert response.status_code == 302, response.text
    assert response.headers["location"].rstrip("/").endswith("/admin")
    for page in LIST_PAGES:
        listed = await client.get(page)
        assert listed.status_code == 200, page
    users = await client.get("/admin/user/list", params={"search": admin.email})
    assert admin.email in users.text
    # The password hash never appears, neither in the list nor on the detail and edit pages.
    detail = await client.get(f"/admin/user/details/{admin.id}")
    edit = await client.get(f"/admin/user/edit/{admin.id}")
    for page in (users, detail, edit):
        assert page.status_code == 200
        assert "$argon2" not in page.text and "password_hash" not in page.text
    assert (await client.get("/admin/user/create")).status_code == 403

    await client.get("/admin/logout")
    assert (await client.get("/admin/user/list")).status_code == 302


async def test_every_form_renders(client, sessionmaker):
    admin = await make_user(sessionmaker)
    assert (await admin_login(client, admin.email)).status_code == 302
    async with sessionmaker() as session:
        model = (
            await session.exec(select(AIModel).where(AIModel.provider_model_id == "google/nano-banana"))
        ).one()
        provider = (await session.exec(select(AIProvider).where(AIProvider.slug == "kie"))).one()
    pages = [
        "/admin/ai-provider/create",
        f"/admin/ai-provider/edit/{provider.id}",
        f"/admin/ai-provider/details/{provider.id}",
        "/admin/ai-model/create",
        f"/admin/ai-model/edit/{model.id}",
        f"/admin/ai-model/details/{model.id}",
        "/admin/system-config/edit/1",
        "/admin/system-config/details/1",
    ]
    for page in pages:
        response = await client.get(page)
        assert response.status_code == 200, page
    assert (await client.get("/admin/system-config/create")).status_code == 403


async def test_system_config_refuses_out_of_range_values(client, sessionmaker):
    admin = await make_user(sessionmaker)
    assert (await admin_login(client, admin.email)).status_code == 302
    form = {"smart_edit_model": "gemini-2.5-flash", "smart_edit_system_prompt": "x", "extra": "{}"}

    for days, hour in (("0", "3"), ("10", "24"), ("ten", "3")):
        response = await client.post(
            "/admin/system-config/edit/1", data={**form, "retention_days": days, "retention_hour_utc": hour}
        )
        assert response.status_code == 400, (days, hour)
    async with sessionmaker() as session:
        config = await session.get(SystemConfig, 1)
    assert config.retention_days >= 1 and 0 <= config.retention_hour_utc <= 23


async def test_an_inactive_superuser_is_refused(client, sessionmaker):
    admin = await make_user(sessionmaker, is_active=False)

    response = await admin_login(client, admin.email)

    assert response.status_code == 400
    assert (await client.get("/admin/ai-model/list")).status_code == 302


async def test_losing_superuser_rights_ends_the_admin_session_at_once(client, sessionmaker):
    admin = await make_user(sessionmaker)
    assert (await admin_login(client, admin.email)).status_code == 302
    assert (await client.get("/admin/user/list")).status_code == 200

    await set_flags(sessionmaker, admin.id, is_superuser=False)

    assert (await client.get("/admin/user/list")).status_code == 302


async def test_superuser_toggles_flags_of_another_user_but_not_their_own(client, sessionmaker):
    admin = await make_user(sessionmaker)
    other = await make_user(sessionmaker, is_superuser=False)
    assert (await admin_login(client, admin.email)).status_code == 302

    changed = await client.post(
        f"/admin/user/edit/{other.id}",
        data={"display_name": "Renamed", "is_active": "y", "is_superuser": "y"},
    )
    assert changed.status_code == 302, changed.text
    refused = await client.post(f"/admin/user/edit/{admin.id}", data={"display_name": "Me", "is_active": "y"})
    assert refused.status_code == 400
    assert "cannot deactivate yourself" in refused.text

    async with sessionmaker() as session:
        other_now = await session.get(User, other.id)
        admin_now = await session.get(User, admin.id)
    assert (other_now.display_name, other_now.is_superuser, other_now.is_active) == ("Renamed", True, True)
    assert other_now.password_hash == other.password_hash
    assert admin_now.is_superuser and admin_now.display_name == "Admin"


async def test_model_added_in_the_admin_appears_in_the_catalogue(client, sessionmaker):
    admin = await make_user(sessionmaker)
    assert (await admin_login(client, admin.email)).status_code == 302
    async with sessionmaker() as session:
        kie = (await session.exec(select(AIProvider).where(AIProvider.slug == "kie"))).one()
    model_name = f"acme/video-{uuid.uuid4().hex[:8]}"
    capabilities = {
        "prompt": {"min_length": 1, "max_length": 2000},
        "supports_seed": True,
        "input_images": {"field": "image_urls", "min": 0, "max": 1},
        "params": {"duration": {"type": "enum", "values": ["5", "10"], "default": "5"}},
    }

    created = await client.post(
        "/admin/ai-model/create",
        data={
            "provider": str(kie.id),
            "provider_model_id": model_name,
            "display_name": "Acme Video",
            "kind": "video",
            "default_params": json.dumps({"duration": "5"}),
            "capabilities": json.dumps(capabilities),
            "price_credits": "12.5",
            "is_active": "y",
        },
    )
    assert created.status_code == 302, created.text

    headers = await register(client)
    catalogue = await client.get("/api/models/", params={"kind": "video"}, headers=headers)
    assert catalogue.status_code == 200, catalogue.text
    listed = {model["provider_model_id"]: model for model in catalogue.json()}
    assert model_name in listed
    assert listed[model_name]["provider"] == "kie"
    assert listed[model_name]["default_params"] == {"duration": "5"}
    assert listed[model_name]["capabilities"] == capabilities

    # The edit form shows the stored kind (an enum stored by value) rather than falling back to the first choice.
    async with sessionmaker() as session:
        row = (await session.exec(select(AIModel).where(AIModel.provider_model_id == model_name))).one()
    edit = await client.get(f"/admin/ai-model/edit/{row.id}")
    assert edit.status_code == 200
    assert '<option selected value="video">' in edit.text or 'value="video" selected' in edit.text


async def test_admin_refuses_json_that_is_not_an_object_and_capabilities_of_the_wrong_shape(
    client, sessionmaker
):
    admin = await make_user(sessionmaker)
    assert (await admin_login(client, admin.email)).status_code == 302
    async with sessionmaker() as session:
        kie = (await session.exec(select(AIProvider).where(AIProvider.slug == "kie"))).one()
    base = {"provider": str(kie.id), "display_name": "Bad", "kind": "image", "is_active": "y"}
    bad_inputs = [
        {"default_params": "[1, 2]", "capabilities": "{}"},
        {"default_params": "{not json", "capabilities": "{}"},
        {"default_params": "{}", "capabilities": json.dumps({"params": {"size": {"type": "enum"}}})},
        {"default_params": "{}", "capabilities": json.dumps({"supports_seed": "yes"})},
    ]
    names = []
    for fields in bad_inputs:
        name = f"bad/{uuid.uuid4().hex[:8]}"
        names.append(name)
        response = await client.post(
            "/admin/ai-model/create", data={**base, "provider_model_id": name, **fields}
        )
        assert response.status_code == 400, fields

    async with sessionmaker() as session:
        stored = (await session.exec(select(AIModel).where(AIModel.provider_model_id.in_(names)))).all()
    assert stored == []


def test_create_superuser_command_creates_then_promotes(settings_env):
    email = unique_email("ops")
    env = {
        **os.environ,
        **settings_env,
        "PYTHONPATH": str(ROOT),
        "SUPERUSER_PASSWORD": "a long admin password",
    }
    command = [
        sys.executable,
        "-m",
        "core.cli",
        "create-superuser",
        "--email",
        email,
        "--display-name",
        "Ops",
    ]

    first = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    assert "Created superuser" in first.stdout
    again = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert "already existed" in again.stdout

    too_short = subprocess.run(
        [*command[:-2]],
        env={**env, "SUPERUSER_PASSWORD": "short"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert too_short.returncode == 2
    assert "password" in too_short.stderr


async def test_superuser_made_by_the_command_can_log_in(client, settings_env):
    """What `make superuser` runs: email and password from the environment, no arguments."""
    email = unique_email("ops")
    env = {
        **os.environ,
        **settings_env,
        "PYTHONPATH": str(ROOT),
        "SUPERUSER_EMAIL": email,
        "SUPERUSER_PASSWORD": "a long admin password",
    }
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "core.cli", "create-superuser"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr

    response = await admin_login(client, email, "a long admin password")

    assert response.status_code == 302
    assert (await client.get("/admin/system-config/list")).status_code == 200
