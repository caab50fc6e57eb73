"""Bringing people into a studio: an owner's single-use, expiring invite link, opened by someone logged in (join)
or not yet registered (register with it, even when registration is invite-only)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import col

from core import studio_invites
from core.models import StudioInvite, StudioRole, User, utcnow
from core.settings import RegistrationMode, Settings
from core.studio_invites import MAX_OPEN_INVITES
from core.studios import get_studio
from tests.api.test_rate_limits import limited_app
from tests.api.test_studios import done_or_waiting_on_a_lock, invite, make_studio, me, members_url, roles_of
from tests.builders import PASSWORD, register, unique_email


async def expire(sessionmaker, invite_id: int) -> None:
    async with sessionmaker() as session:
        await session.exec(
            sa.update(StudioInvite)
            .where(col(StudioInvite.id) == invite_id)
            .values(expires_at=sa.func.now() - timedelta(minutes=1))
        )
        await session.commit()


async def test_an_owner_invites_and_the_invited_person_joins_once(client, settings: Settings):
    owner = await register(client, display_name="Olga")
    studio = await make_studio(client, owner)
    sid = studio["id"]

    made = await invite(client, owner, sid, "editor", expires_in_hours=2)
    uuid.UUID(made["token"])  # a UUID
    assert made["link"] == f"{settings.public_base_url.rstrip('/')}/join/?token={made['token']}"
    assert (made["role"], made["status"], made["created_by_name"]) == ("editor", "open", "Olga")
    assert (made["used_at"], made["used_by_name"]) == (None, None)

    # Anyone holding the link may read what it offers, without logging in.
    info = await client.get(f"/api/join/{made['token']}/")
    assert info.status_code == 200, info.text
    assert info.json() | {"expires_at": None} == {
        "studio_id": sid,
        "studio_name": "Northlight",
        "role": "editor",
        "status": "open",
        "expires_at": None,
        "invited_by": "Olga",
        "registration_open": True,
    }

    newcomer = await register(client, display_name="Nils")
    joined = await client.post(f"/api/join/{made['token']}/", headers=newcomer)
    assert joined.status_code == 200, joined.text
    assert (joined.json()["id"], joined.json()["role"], joined.json()["member_count"]) == (sid, "editor", 2)
    nils = (await me(client, newcomer))["id"]
    assert (await roles_of(client, owner, sid))[nils] == "editor"

    # Single use: a second person is told it has been used.
    late = await register(client)
    used = await client.post(f"/api/join/{made['token']}/", headers=late)
    assert used.status_code == 410
    assert (
        used.json()["detail"]
        == "This invite link has already been used: ask the studio's owner for a new one."
    )
    assert (await client.get(f"/api/join/{made['token']}/")).json()["status"] == "used"

    listed = (await client.get(f"/api/studios/{sid}/invites/", headers=owner)).json()
    assert listed["total"] == 1
    assert (listed["items"][0]["status"], listed["items"][0]["used_by_name"]) == ("used", "Nils")


async def test_joining_needs_a_login_and_a_member_joining_again_leaves_the_invite_unused(client):
    owner = await register(client)
    studio = await make_studio(client, owner)
    member_invite = await invite(client, owner, studio["id"], "viewer")

    assert (await client.post(f"/api/join/{member_invite['token']}/")).status_code == 401

    already = await client.post(f"/api/join/{member_invite['token']}/", headers=owner)
    assert already.status_code == 409
    assert already.json()["detail"].startswith("You are already a member of Northlight")
    assert (await client.get(f"/api/join/{member_invite['token']}/")).json()["status"] == "open"
    other = await register(client)
    assert (await client.post(f"/api/join/{member_invite['token']}/", headers=other)).status_code == 200


async def test_expired_unknown_and_malformed_invites_are_refused(client, sessionmaker):
    owner = await register(client)
    studio = await make_studio(client, owner)
    made = await invite(client, owner, studio["id"], "editor")
    await expire(sessionmaker, made["id"])
    someone = await register(client)

    expired = await client.post(f"/api/join/{made['token']}/", headers=someone)
    assert expired.status_code == 410
    assert expired.json()["detail"] == "This invite link has expired: ask the studio's owner for a new one."
    info = (await client.get(f"/api/join/{made['token']}/")).json()
    assert (info["status"], info["registration_open"]) == ("expired", False)
    listed = (await client.get(f"/api/studios/{studio['id']}/invites/", headers=owner)).json()
    assert listed["items"][0]["status"] == "expired"

    for token in (str(uuid.uuid4()), "not-a-token"):
        assert (await client.get(f"/api/join/{token}/")).status_code == 404
        assert (await client.post(f"/api/join/{token}/", headers=someone)).status_code == 404
    assert (await client.get("/api/studios/", headers=someone)).json()["total"] == 1


async def test_two_people_racing_for_one_invite_one_gets_in(client):
    owner = await register(client)
    studio = await make_studio(client, owner)
    made = await invite(client, owner, studio["id"], "editor")
    first, second = await register(client), await register(client)

    answers = await asyncio.gather(
        client.post(f"/api/join/{made['token']}/", headers=first),
        client.post(f"/api/join/{made['token']}/", headers=second),
    )

    assert sorted(a.status_code for a in answers) == [200, 410], [a.text for a in answers]
    assert (await client.get(f"/api/studios/{studio['id']}/", headers=owner)).json()["member_count"] == 2


async def test_owners_list_and_revoke_invites_and_only_owners_may(client):
    owner = await register(client)
    studio = await make_studio(client, owner)
    sid = studio["id"]
    older = await invite(client, owner, sid, "viewer")
    newer = await invite(client, owner, sid, "editor")
    editor = await register(client)
    assert (await client.post(f"/api/join/{newer['token']}/", headers=editor)).status_code == 200

    listed = (await client.get(f"/api/studios/{sid}/invites/", headers=owner)).json()
    assert [i["id"] for i in listed["items"]] == [newer["id"], older["id"]]  # newest first

    for call in (
        client.get(f"/api/studios/{sid}/invites/", headers=editor),
        client.post(f"/api/studios/{sid}/invites/", json={"role": "owner"}, headers=editor),
        client.delete(f"/api/studios/{sid}/invites/{older['id']}/", headers=editor),
    ):
        assert (await call).status_code == 403

    used = await client.delete(f"/api/studios/{sid}/invites/{newer['id']}/", headers=owner)
    assert used.status_code == 409 and used.json()["details"] == {"reason": "invite_used"}
    assert (
        await client.delete(f"/api/studios/{sid}/invites/{older['id']}/", headers=owner)
    ).status_code == 204
    assert (await client.get(f"/api/join/{older['token']}/")).status_code == 404
    assert (
        await client.delete(f"/api/studios/{sid}/invites/{older['id']}/", headers=owner)
    ).status_code == 404

    # Another studio's invite is not reachable through this one.
    elsewhere = await make_studio(client, owner, "Elsewhere")
    foreign = await invite(client, owner, elsewhere["id"], "viewer")
    assert (
        await client.delete(f"/api/studios/{sid}/invites/{foreign['id']}/", headers=owner)
    ).status_code == 404


async def test_a_join_that_waited_for_a_revoke_finds_the_invite_gone(client, sessionmaker):
    owner = await register(client)
    sid = (await make_studio(client, owner))["id"]
    made = await invite(client, owner, sid, "editor")
    joiner = await register(client)

    async with sessionmaker() as revoking:
        owner_user = await revoking.get(User, (await me(client, owner))["id"])
        access = await get_studio(revoking, owner_user, sid, StudioRole.OWNER)
        await studio_invites.revoke_invite(revoking, access, made["id"])
        joining = asyncio.create_task(client.post(f"/api/join/{made['token']}/", headers=joiner))
        assert not await done_or_waiting_on_a_lock(sessionmaker, joining)
        await revoking.commit()
    joined = await joining

    assert joined.status_code == 404, joined.text
    assert joined.json()["detail"].startswith("This invite link is not valid")
    assert (await client.get(f"/api/studios/{sid}/", headers=joiner)).status_code == 404


async def test_a_revoke_that_waited_for_a_join_is_refused_and_the_record_stays(client, sessionmaker):
    owner = await register(client, display_name="Olga")
    sid = (await make_studio(client, owner))["id"]
    made = await invite(client, owner, sid, "editor")
    joiner = await register(client, display_name="Nils")

    async with sessionmaker() as joining:
        user = await joining.get(User, (await me(client, joiner))["id"])
        await studio_invites.join(joining, user, made["token"], utcnow())
        revoking = asyncio.create_task(
            client.delete(f"/api/studios/{sid}/invites/{made['id']}/", headers=owner)
        )
        assert not await done_or_waiting_on_a_lock(sessionmaker, revoking)
        await joining.commit()
    revoked = await revoking

    assert revoked.status_code == 409, revoked.text
    assert revoked.json()["detail"] == (
        "This invite has been used already, so it stays as the record of who joined through it; to take that "
        "person's access away, remove them from the members."
    )
    listed = (await client.get(f"/api/studios/{sid}/invites/", headers=owner)).json()["items"]
    assert [(i["id"], i["status"], i["used_by_name"]) for i in listed] == [(made["id"], "used", "Nils")]


async def test_an_invite_lasts_1_to_720_hours_and_a_studio_has_at_most_50_open(client):
    owner = await register(client)
    sid = (await make_studio(client, owner))["id"]
    for hours in (0, 721):
        refused = await client.post(
            f"/api/studios/{sid}/invites/", json={"role": "viewer", "expires_in_hours": hours}, headers=owner
        )
        assert refused.status_code == 422
    assert (
        await client.post(f"/api/studios/{sid}/invites/", json={"role": "boss"}, headers=owner)
    ).status_code == 422

    for _ in range(MAX_OPEN_INVITES):
        await invite(client, owner, sid, "viewer")
    over = await client.post(f"/api/studios/{sid}/invites/", json={"role": "viewer"}, headers=owner)
    assert over.status_code == 409
    assert over.json()["detail"].startswith(f"Northlight has {MAX_OPEN_INVITES} open invites")


async def test_a_studio_invite_lets_someone_register_while_registration_is_invite_only(client, settings):
    owner = await register(client)
    studio = await make_studio(client, owner)
    made = await invite(client, owner, studio["id"], "viewer")

    async with limited_app(settings, registration_mode=RegistrationMode.INVITE_ONLY) as visitor:
        info = (await visitor.get(f"/api/join/{made['token']}/")).json()
        assert info["registration_open"] is True
        checked = (await visitor.get(f"/api/auth/registration/?studio_invite={made['token']}")).json()
        assert (checked["mode"], checked["studio_invite"], checked["open_for_studio_invite"]) == (
            "invite_only",
            "open",
            True,
        )
        body = {"email": unique_email(), "password": PASSWORD, "display_name": "Vera"}
        assert (await visitor.post("/api/auth/register/", json=body)).status_code == 403  # no invite at all

        registered = await visitor.post("/api/auth/register/", json={**body, "studio_invite": made["token"]})
        assert registered.status_code == 201, registered.text
        login = {"email": body["email"], "password": PASSWORD}
        token = (await visitor.post("/api/auth/login/", json=login)).json()["access_token"]
        vera = {"Authorization": f"Bearer {token}"}
        studios = (await visitor.get("/api/studios/", headers=vera)).json()["items"]
        assert [(s["name"], s["role"]) for s in studios] == [
            ("Vera's studio", "owner"),
            ("Northlight", "viewer"),
        ]

        # Used up: the next visitor is refused, and no account is made.
        again = await visitor.post(
            "/api/auth/register/", json={**body, "email": unique_email(), "studio_invite": made["token"]}
        )
        assert again.status_code == 410
        checked = (await visitor.get(f"/api/auth/registration/?studio_invite={made['token']}")).json()
        assert (checked["studio_invite"], checked["open_for_studio_invite"]) == ("used", False)
        unknown = await visitor.post(
            "/api/auth/register/", json={**body, "email": unique_email(), "studio_invite": str(uuid.uuid4())}
        )
        assert unknown.status_code == 403

    async with limited_app(settings, registration_mode=RegistrationMode.CLOSED) as visitor:
        fresh = await invite(client, owner, studio["id"], "viewer")
        assert (await visitor.get(f"/api/join/{fresh['token']}/")).json()["registration_open"] is False
        body = {
            "email": unique_email(),
            "password": PASSWORD,
            "display_name": "Vic",
            "studio_invite": fresh["token"],
        }
        assert (await visitor.post("/api/auth/register/", json=body)).status_code == 403
    assert (await client.get(f"/api/join/{fresh['token']}/")).json()["status"] == "open"


async def test_studio_invites_may_be_kept_from_opening_registration(client, settings):
    owner = await register(client)
    sid = (await make_studio(client, owner))["id"]
    made = await invite(client, owner, sid, "viewer")
    closed_to_strangers = {
        "registration_mode": RegistrationMode.INVITE_ONLY,
        "studio_invites_open_registration": False,
    }

    async with limited_app(settings, **closed_to_strangers) as visitor:
        assert (await visitor.get(f"/api/join/{made['token']}/")).json()["registration_open"] is False
        checked = (await visitor.get(f"/api/auth/registration/?studio_invite={made['token']}")).json()
        assert (checked["studio_invite"], checked["open_for_studio_invite"]) == ("open", False)
        body = {
            "email": unique_email(),
            "password": PASSWORD,
            "display_name": "Vera",
            "studio_invite": made["token"],
        }
        refused = await visitor.post("/api/auth/register/", json=body)
        assert refused.status_code == 403
        assert refused.json()["detail"].startswith("Registration is by invitation from an administrator")

        # An existing account still joins with it.
        member = await register(client)
        assert (await visitor.post(f"/api/join/{made['token']}/", headers=member)).status_code == 200
    assert (await client.get(members_url(sid), headers=owner)).json()["total"] == 2

    # With open registration anyone may register anyway, and the invite then joins them too.
    fresh = await invite(client, owner, sid, "editor")
    async with limited_app(
        settings, registration_mode=RegistrationMode.OPEN, studio_invites_open_registration=False
    ) as visitor:
        body = {
            "email": unique_email(),
            "password": PASSWORD,
            "display_name": "Vic",
            "studio_invite": fresh["token"],
        }
        assert (await visitor.post("/api/auth/register/", json=body)).status_code == 201
    assert (await client.get(f"/api/join/{fresh['token']}/")).json()["status"] == "used"


async def test_a_failed_registration_leaves_the_studio_invite_unused(client):
    owner = await register(client)
    studio = await make_studio(client, owner)
    made = await invite(client, owner, studio["id"], "editor")
    taken = unique_email()
    await register(client, email=taken)

    clash = await client.post(
        "/api/auth/register/",
        json={"email": taken, "password": PASSWORD, "display_name": "Dup", "studio_invite": made["token"]},
    )

    assert clash.status_code == 409
    assert (await client.get(f"/api/join/{made['token']}/")).json()["status"] == "open"
    assert (await client.get(members_url(studio["id"]), headers=owner)).json()["total"] == 1


async def test_joins_are_rate_limited_per_address(settings):
    async with limited_app(settings, rate_limit_login_per_address="2/minute") as visitor:
        token = str(uuid.uuid4())
        assert [(await visitor.get(f"/api/join/{token}/")).status_code for _ in range(2)] == [404, 404]
        limited = await visitor.get(f"/api/join/{token}/")
        assert limited.status_code == 429
        assert limited.json()["detail"].startswith("Too many invite link requests from your address")
        # Logins from the address have a counter of their own.
        login = await visitor.post("/api/auth/login/", json={"email": unique_email(), "password": PASSWORD})
        assert login.status_code == 401
