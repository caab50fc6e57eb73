"""Superusers make invites in the admin (a link to copy, single use, expiring, revocable) and deactivate users."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from datetime import timedelta

from sqlmodel import select

from core.models import Invite, User, utcnow
from core.settings import RegistrationMode, Settings
from tests.api.test_admin import ROOT, admin_login, make_user
from tests.api.test_rate_limits import limited_app
from tests.api.test_registration import signup
from tests.builders import register, unique_email

LINK = re.compile(r'value="(https?://[^"]+/register/\?invite=([0-9a-f-]{36}))"')


async def test_a_superuser_creates_an_invite_copies_its_link_and_sees_it_used(
    client, sessionmaker, settings: Settings
) -> None:
    admin = await make_user(sessionmaker)
    assert (await admin_login(client, admin.email)).status_code == 302
    note = unique_email("invitee")

    created = await client.post("/admin/invite/create", data={"note": note, "save": "Save"})
    assert created.status_code == 302, created.text
    page = await client.get(created.headers["location"])
    assert page.status_code == 200
    found = LINK.search(page.text)
    assert found is not None, page.text[-3000:]
    link, token = found.groups()
    assert link == f"{settings.public_base_url}/register/?invite={token}"
    async with sessionmaker() as session:
        invite = (await session.exec(select(Invite).where(Invite.note == note))).one()
    assert str(invite.token) == token and invite.created_by_id == admin.id
    assert (
        timedelta(hours=settings.invite_ttl_hours - 1)
        < invite.expires_at - utcnow()
        <= timedelta(hours=settings.invite_ttl_hours)
    )
    listed = await client.get("/admin/invite/list", params={"search": note})
    assert "unused" in listed.text and admin.email in listed.text
    assert "$argon2" not in listed.text and "$argon2" not in page.text  # the creator shows as an email only

    email = unique_email()
    async with limited_app(settings, registration_mode=RegistrationMode.INVITE_ONLY) as public:
        assert (await public.post("/api/auth/register/", json=signup(email, token))).status_code == 201
    listed = await client.get("/admin/invite/list", params={"search": note})
    assert f"used by {email}" in listed.text


async def test_an_expired_invite_is_listed_as_expired_and_a_deleted_one_is_revoked(
    client, sessionmaker, settings: Settings
) -> None:
    admin = await make_user(sessionmaker)
    assert (await admin_login(client, admin.email)).status_code == 302
    expired_note, revoked_note = unique_email("late"), unique_email("revoked")
    async with sessionmaker() as session:
        expired = Invite(note=expired_note, expires_at=utcnow() - timedelta(hours=1))
        revoked = Invite(note=revoked_note, expires_at=utcnow() + timedelta(hours=1))
        session.add_all([expired, revoked])
        await session.commit()
        await session.refresh(revoked)
    assert "expired" in (await client.get("/admin/invite/list", params={"search": expired_note})).text

    deleted = await client.delete("/admin/invite/delete", params={"pks": str(revoked.id)})
    assert deleted.status_code == 200, deleted.text
    async with limited_app(settings, registration_mode=RegistrationMode.INVITE_ONLY) as public:
        refused = await public.post("/api/auth/register/", json=signup(invite=str(revoked.token)))
    assert refused.status_code == 403
    assert "not valid" in refused.json()["detail"]


async def test_a_user_deactivated_in_the_admin_is_refused_at_once(client, sessionmaker) -> None:
    email = unique_email()
    headers = await register(client, email=email)
    assert (await client.get("/api/auth/me/", headers=headers)).status_code == 200
    async with sessionmaker() as session:
        user = (await session.exec(select(User).where(User.email == email))).one()
    admin = await make_user(sessionmaker)
    assert (await admin_login(client, admin.email)).status_code == 302

    # is_active left unticked: the form's checkbox is off.
    changed = await client.post(f"/admin/user/edit/{user.id}", data={"display_name": "Test User"})
    assert changed.status_code == 302, changed.text

    refused = await client.get("/api/projects/", headers=headers)
    assert refused.status_code == 401
    assert refused.json()["detail"] == "The account for this token no longer exists or is deactivated."
    login = await client.post("/api/auth/login/", json={"email": email, "password": "correct horse battery"})
    assert login.status_code == 401 and "deactivated" in login.json()["detail"]


def test_the_create_invite_command_prints_a_link_that_registers_once(
    settings_env, settings: Settings
) -> None:
    env = {**os.environ, **settings_env, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "core.cli", "create-invite", "--note", "from the shell", "--hours", "2"]
    made = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    link = made.stdout.strip()
    assert link.startswith(f"{settings.public_base_url}/register/?invite=")
    token = link.rsplit("=", 1)[1]

    async def register_twice() -> list[int]:
        async with limited_app(settings, registration_mode=RegistrationMode.INVITE_ONLY) as public:
            return [
                (await public.post("/api/auth/register/", json=signup(invite=token))).status_code
                for _ in range(2)
            ]

    assert asyncio.run(register_twice()) == [201, 410]

    refused = subprocess.run(
        [*command[:-1], "0"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert refused.returncode == 2 and "--hours" in refused.stderr
