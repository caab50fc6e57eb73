"""Who may sign up: open, invite-only (a single-use, expiring invite) or closed, as the register page is told."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import select

from core.errors import Forbidden, Gone
from core.invites import create_invite, sign_up
from core.models import Invite, User, utcnow
from core.schemas import UserRegister
from core.settings import Environment, RegistrationMode, Settings
from tests.api.test_rate_limits import limited_app
from tests.builders import PASSWORD, unique_email

NO_STUDIO_INVITE = {"studio_invite": None, "open_for_studio_invite": None}
"""What the register page is told about a studio invite when none was asked about (tests/api/test_studio_invites.py)."""


def signup(email: str | None = None, invite: str | None = None) -> dict[str, str]:
    body = {"email": email or unique_email(), "password": PASSWORD, "display_name": "Newcomer"}
    if invite is not None:
        body["invite"] = invite
    return body


async def make_invite(sessionmaker, settings: Settings, **overrides) -> Invite:
    async with sessionmaker() as session:
        invite = await create_invite(session, settings, created_by_id=None, note="for a test")
        for name, value in overrides.items():
            setattr(invite, name, value)
        session.add(invite)
        await session.commit()
        await session.refresh(invite)
        return invite


async def reload(sessionmaker, invite: Invite) -> Invite:
    async with sessionmaker() as session:
        found = (await session.exec(select(Invite).where(Invite.id == invite.id))).one()
        return found


async def user_exists(sessionmaker, email: str) -> bool:
    async with sessionmaker() as session:
        return (await session.exec(select(User).where(User.email == email))).first() is not None


def test_the_mode_defaults_to_open_locally_and_invite_only_in_production() -> None:
    assert Settings(_env_file=None, environment="local").effective_registration_mode is RegistrationMode.OPEN
    assert Settings(_env_file=None, environment="test").effective_registration_mode is RegistrationMode.OPEN
    production = Settings(
        _env_file=None,
        environment=Environment.PRODUCTION,
        jwt_secret="s" * 40,
        s3_secret_key="x",
        kie_api_key="k",
    )
    assert production.effective_registration_mode is RegistrationMode.INVITE_ONLY
    closed = production.model_copy(update={"registration_mode": RegistrationMode.CLOSED})
    assert closed.effective_registration_mode is RegistrationMode.CLOSED


async def test_open_registration_needs_no_invite(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/auth/registration/")).json() == {
        "mode": "open",
        "invite": None,
        **NO_STUDIO_INVITE,
    }
    assert (await client.post("/api/auth/register/", json=signup())).status_code == 201


async def test_closed_registration_refuses_everyone_with_a_sentence(settings: Settings, sessionmaker) -> None:
    email = unique_email()
    async with limited_app(settings, registration_mode=RegistrationMode.CLOSED) as client:
        info = (await client.get("/api/auth/registration/")).json()
        refused = await client.post("/api/auth/register/", json=signup(email))
    assert info["mode"] == "closed"
    assert refused.status_code == 403
    assert refused.json()["detail"].startswith("Registration is closed on this server")
    assert not await user_exists(sessionmaker, email)


async def test_invite_only_registration_accepts_a_valid_invite_exactly_once(
    settings: Settings, sessionmaker
) -> None:
    invite = await make_invite(sessionmaker, settings)
    first_email, second_email = unique_email(), unique_email()
    async with limited_app(settings, registration_mode=RegistrationMode.INVITE_ONLY) as client:
        info = (await client.get("/api/auth/registration/", params={"invite": str(invite.token)})).json()
        without = await client.post("/api/auth/register/", json=signup())
        accepted = await client.post("/api/auth/register/", json=signup(first_email, str(invite.token)))
        login = await client.post("/api/auth/login/", json={"email": first_email, "password": PASSWORD})
        again = await client.post("/api/auth/register/", json=signup(second_email, str(invite.token)))
        info_after = (
            await client.get("/api/auth/registration/", params={"invite": str(invite.token)})
        ).json()

    assert info == {"mode": "invite_only", "invite": "valid", **NO_STUDIO_INVITE}
    assert without.status_code == 403
    assert without.json()["detail"] == (
        "Registration is by invitation: ask your studio's administrator for a link."
    )
    assert accepted.status_code == 201, accepted.text
    assert login.status_code == 200
    assert again.status_code == 410
    assert again.json()["detail"].startswith("This invite link has already been used")
    assert info_after == {"mode": "invite_only", "invite": "used", **NO_STUDIO_INVITE}
    assert not await user_exists(sessionmaker, second_email)
    used = await reload(sessionmaker, invite)
    assert used.used_at is not None and used.used_by_id == accepted.json()["id"]


@pytest.mark.parametrize(
    ("token", "status", "fragment", "state"),
    [
        ("expired", 410, "This invite link has expired", "expired"),
        (str(uuid.uuid4()), 403, "This invite link is not valid", "unknown"),
        ("not-a-uuid", 403, "This invite link is not valid", "unknown"),
        ("", 403, "This invite link is not valid", "unknown"),
        ("x" * 65, 422, "invite", None),
    ],
)
async def test_invite_only_refuses_expired_unknown_and_malformed_invites(
    settings: Settings, sessionmaker, token: str, status: int, fragment: str, state: str | None
) -> None:
    if token == "expired":
        token = str(
            (await make_invite(sessionmaker, settings, expires_at=utcnow() - timedelta(minutes=1))).token
        )
    email = unique_email()
    async with limited_app(settings, registration_mode=RegistrationMode.INVITE_ONLY) as client:
        refused = await client.post("/api/auth/register/", json=signup(email, token))
        info = await client.get("/api/auth/registration/", params={"invite": token})
    assert refused.status_code == status, refused.text
    assert fragment in refused.text
    if state is not None:
        assert info.json()["invite"] == state
    assert not await user_exists(sessionmaker, email)


async def test_two_racing_registrations_with_one_invite_make_one_account(
    settings: Settings, sessionmaker
) -> None:
    invite = await make_invite(sessionmaker, settings)
    emails = [unique_email() for _ in range(4)]
    async with limited_app(settings, registration_mode=RegistrationMode.INVITE_ONLY) as client:
        answers = await asyncio.gather(
            *(client.post("/api/auth/register/", json=signup(email, str(invite.token))) for email in emails)
        )
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [201, 410, 410, 410], [a.text for a in answers]
    created = [email for email in emails if await user_exists(sessionmaker, email)]
    assert len(created) == 1


async def test_a_failed_registration_does_not_use_up_the_invite(settings: Settings, sessionmaker) -> None:
    invite = await make_invite(sessionmaker, settings)
    taken = unique_email()
    async with limited_app(settings, registration_mode=RegistrationMode.INVITE_ONLY) as client:
        assert (await client.post("/api/auth/register/", json=signup(taken))).status_code == 403
        first = await client.post("/api/auth/register/", json=signup(taken, str(invite.token)))
        assert first.status_code == 201
        # The invite is used now; make a second one and try a taken email with it.
        second_invite = await make_invite(sessionmaker, settings)
        duplicate = await client.post("/api/auth/register/", json=signup(taken, str(second_invite.token)))
        after = (
            await client.get("/api/auth/registration/", params={"invite": str(second_invite.token)})
        ).json()
    assert duplicate.status_code == 409
    assert after["invite"] == "valid"
    assert (await reload(sessionmaker, second_invite)).used_at is None


async def test_the_claim_is_decided_by_the_database_when_both_saw_the_invite_unused(
    settings: Settings, sessionmaker
) -> None:
    """B checks the invite while A's registration is not yet committed, then waits on A's row lock; once A
    commits, B's conditional UPDATE finds the invite used and B's whole registration is refused."""
    invite_only = settings.model_copy(update={"registration_mode": RegistrationMode.INVITE_ONLY})
    invite = await make_invite(sessionmaker, settings)
    first, second = unique_email(), unique_email()
    async with sessionmaker() as a, sessionmaker() as b:
        await sign_up(a, invite_only, UserRegister(**signup(first, str(invite.token))))
        racing = asyncio.create_task(
            sign_up(b, invite_only, UserRegister(**signup(second, str(invite.token))))
        )
        await asyncio.sleep(0.3)  # let B get past its early check and block on the row A updated
        await a.commit()
        with pytest.raises(Gone, match="already been used"):
            await racing
        await b.rollback()
    assert await user_exists(sessionmaker, first)
    assert not await user_exists(sessionmaker, second)


async def test_an_invite_revoked_while_someone_registers_with_it_is_refused_not_a_500(
    settings: Settings, sessionmaker
) -> None:
    """The admin deletes (revokes) the invite after the registration's early check: its claim then finds no row, and
    the answer is the unknown invite's 403 (reading the deleted row again used to raise: a 500)."""
    invite_only = settings.model_copy(update={"registration_mode": RegistrationMode.INVITE_ONLY})
    invite = await make_invite(sessionmaker, settings)
    email = unique_email()
    async with sessionmaker() as admin, sessionmaker() as b:
        await admin.exec(select(Invite).where(Invite.id == invite.id).with_for_update())
        racing = asyncio.create_task(
            sign_up(b, invite_only, UserRegister(**signup(email, str(invite.token))))
        )
        await asyncio.sleep(0.3)  # let B get past its early check and block on the row the admin holds
        await admin.exec(sa.delete(Invite).where(sa.column("id") == invite.id))
        await admin.commit()
        with pytest.raises(Forbidden, match="not valid"):
            await racing
        await b.rollback()
    assert not await user_exists(sessionmaker, email)


def test_a_blank_registration_mode_means_unset_and_a_bad_rate_limit_is_refused() -> None:
    assert Settings(_env_file=None, registration_mode="").registration_mode is None
    with pytest.raises(ValueError, match="10/minute"):
        Settings(_env_file=None, rate_limit_login_per_account="ten a minute")
