"""An owner shares a project through links, lists them and revokes them; a guest sees only what was chosen."""

from __future__ import annotations

import json
import uuid

from core.models import Asset, User
from tests.builders import make_project, register
from tests.review.helpers import expire_link, future, make_storyboard, share

PUBLIC_READS = ("/api/public/{token}/", "/api/public/{token}/comments/")


async def test_owner_creates_lists_and_revokes_links(client, settings):
    headers = await register(client)
    project = await make_project(client, headers)

    forever = await share(client, headers, project["id"])
    dated = await share(client, headers, project["id"], expires_at=future())

    assert str(uuid.UUID(forever["token"], version=4)) == forever["token"]
    assert uuid.UUID(forever["token"]).version == 4
    assert forever["url"] == f"{settings.public_base_url}/review/{forever['token']}"
    assert forever["expires_at"] is None
    assert dated["expires_at"] is not None
    assert forever["token"] != dated["token"]

    listed = await client.get(f"/api/projects/{project['id']}/share-links/", headers=headers)
    assert listed.status_code == 200
    assert listed.json()["total"] == 2
    assert {item["token"] for item in listed.json()["items"]} == {forever["token"], dated["token"]}

    revoked = await client.delete(f"/api/share-links/{forever['id']}/", headers=headers)
    assert revoked.status_code == 204
    listed = await client.get(f"/api/projects/{project['id']}/share-links/", headers=headers)
    assert [item["token"] for item in listed.json()["items"]] == [dated["token"]]
    again = await client.delete(f"/api/share-links/{forever['id']}/", headers=headers)
    assert again.status_code == 404


async def test_links_of_someone_else_are_not_found(client):
    owner = await register(client)
    stranger = await register(client)
    project = await make_project(client, owner)
    link = await share(client, owner, project["id"])

    assert (await client.delete(f"/api/share-links/{link['id']}/", headers=stranger)).status_code == 404
    assert (
        await client.get(f"/api/projects/{project['id']}/share-links/", headers=stranger)
    ).status_code == 404
    assert (
        await client.post(f"/api/projects/{project['id']}/share-links/", headers=stranger, json={})
    ).status_code == 404
    assert (await client.get(f"/api/projects/{project['id']}/share-links/")).status_code == 401
    # the link still works for the client
    assert (await client.get(f"/api/public/{link['token']}/")).status_code == 200


async def test_expiry_must_be_in_the_future(client):
    headers = await register(client)
    project = await make_project(client, headers)
    response = await client.post(
        f"/api/projects/{project['id']}/share-links/",
        json={"expires_at": "2020-01-01T00:00:00Z"},
        headers=headers,
    )
    assert response.status_code == 422
    assert "future" in response.text
    unknown = await client.post(
        f"/api/projects/{project['id']}/share-links/", json={"password": "x"}, headers=headers
    )
    assert unknown.status_code == 422


async def test_revoked_link_is_refused_on_every_public_route(client, sessionmaker, storage):
    headers = await register(client)
    board = await make_storyboard(client, headers, sessionmaker, storage)
    link = await share(client, headers, board.project["id"])
    view = (await client.get(f"/api/public/{link['token']}/")).json()
    assert (await client.delete(f"/api/share-links/{link['id']}/", headers=headers)).status_code == 204

    for path in PUBLIC_READS:
        response = await client.get(path.format(token=link["token"]))
        assert response.status_code == 404, path
        assert "revoked" in response.json()["detail"]
    posted = await client.post(
        f"/api/public/{link['token']}/comments/",
        json={"author_name": "Client", "text": "hello", "box_ref": view["boxes"][0]["ref"]},
    )
    assert posted.status_code == 404


async def test_expired_link_is_refused_on_every_public_route(client, sessionmaker, storage):
    headers = await register(client)
    board = await make_storyboard(client, headers, sessionmaker, storage)
    link = await share(client, headers, board.project["id"], expires_at=future())
    view = (await client.get(f"/api/public/{link['token']}/")).json()
    await expire_link(sessionmaker, link["id"])

    for path in PUBLIC_READS:
        response = await client.get(path.format(token=link["token"]))
        assert response.status_code == 410, path
        assert "expired" in response.json()["detail"]
    posted = await client.post(
        f"/api/public/{link['token']}/comments/",
        json={"author_name": "Client", "text": "hello", "box_ref": view["boxes"][0]["ref"]},
    )
    assert posted.status_code == 410
    listed = await client.get(f"/api/projects/{board.project['id']}/share-links/", headers=headers)
    assert listed.json()["items"][0]["is_expired"] is True


async def test_malformed_and_unknown_tokens_are_not_found(client):
    for token in (
        "not-a-token",
        "1",
        str(uuid.uuid4()),
        str(uuid.uuid4()).replace("-", ""),
        "%27%3B--",
        "x" * 64,
    ):
        for path in PUBLIC_READS:
            response = await client.get(path.format(token=token))
            assert response.status_code == 404, (token, path, response.text)
        posted = await client.post(
            f"/api/public/{token}/comments/", json={"author_name": "A", "text": "b", "box_ref": "c"}
        )
        assert posted.status_code == 404, token


async def test_public_view_shows_headliners_and_their_videos_only(client, sessionmaker, storage):
    headers = await register(client)
    board = await make_storyboard(client, headers, sessionmaker, storage, name="Alpha")
    link = await share(client, headers, board.project["id"])

    response = await client.get(f"/api/public/{link['token']}/")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    view = response.json()
    assert view["name"] == "Alpha"
    assert [box["position"] for box in view["boxes"]] == [1, 2, 3]
    assert [box["code"] for box in view["boxes"]] == ["SH010", "SH020", "SH030"]
    assert [box["title"] for box in view["boxes"]] == ["Opening", "Close-up", "Wide"]

    first, second, third = view["boxes"]
    assert first["headliner"]["prompt"] == "Alpha headliner prompt 1"
    assert first["headliner"]["model"] == "google/nano-banana"
    assert first["headliner"]["kind"] == "image"
    assert first["video"]["prompt"] == "Alpha video prompt"
    assert first["video"]["model"] == "bytedance/seedance-1.5-pro"
    assert second["headliner"]["prompt"] == "Alpha headliner prompt 2" and second["video"] is None
    assert third["headliner"] is None and third["video"] is None

    # presigned, short-lived, and really downloadable from S3
    url = first["headliner"]["file_url"]
    assert "X-Amz-Expires" in url and "X-Amz-Signature" in url
    assert first["headliner"]["thumbnail_url"]

    raw = response.text
    for shot in board.shots:
        for hidden in shot.hidden:
            assert hidden.prompt not in raw
            assert f"assets/{hidden.id}/" not in raw
    # no owner data and no database ids (the headliners were set by "Test User": who did what stays inside)
    assert "@example.com" not in raw and "Test User" not in raw
    for key in ("id", "project_id", "box_id", "owner_id", "headliner_id", "source_asset_id", "cost_credits"):
        assert key not in _all_keys(view), key
    for key in (
        "requested_by_name",
        "headliner_set_by_name",
        "headliner_set_at",
        "author_user_id",
        "actor_name",
    ):
        assert key not in _all_keys(view), key


async def test_the_activity_feed_stays_inside_the_studio(client, sessionmaker, storage):
    headers = await register(client, display_name="Studio Member Ana")
    board = await make_storyboard(client, headers, sessionmaker, storage)
    link = await share(client, headers, board.project["id"])
    token = link["token"]
    shot = board.shots[0].box
    commented = await client.post(f"/api/boxes/{shot['id']}/comments/", json={"text": "ok"}, headers=headers)
    assert commented.status_code == 201
    feed = (await client.get(f"/api/projects/{board.project['id']}/activity/", headers=headers)).json()
    assert feed["total"] >= 3  # the headliners, the link, the comment

    # The guest reads no feed, with or without the token as a credential, and no member's id anywhere (a member's
    # name shows only on their own comment, as before: it signs it).
    for path, extra in (
        (f"/api/public/{token}/activity/", {}),
        (f"/api/projects/{board.project['id']}/activity/", {}),
        (f"/api/projects/{board.project['id']}/activity/", {"Authorization": f"Bearer {token}"}),
    ):
        response = await client.get(path, headers=extra)
        assert response.status_code in (401, 404, 405), (path, response.status_code)
    for path in PUBLIC_READS:
        response = await client.get(path.format(token=token))
        assert response.status_code == 200
        for key in ("author_user_id", "actor_name", "actor_user_id", "summary", "requested_by_name"):
            assert key not in _all_keys(response.json()), (path, key)
    assert "Studio Member Ana" not in (await client.get(f"/api/public/{token}/")).text


async def test_a_token_for_project_a_never_shows_project_b(client, sessionmaker, storage):
    alice = await register(client)
    bob = await register(client)
    board_a = await make_storyboard(client, alice, sessionmaker, storage, name="Alpha")
    board_b = await make_storyboard(client, bob, sessionmaker, storage, name="Bravo")
    # a second project of the same owner must not leak either
    board_c = await make_storyboard(client, alice, sessionmaker, storage, name="Charlie")
    link_a = await share(client, alice, board_a.project["id"])
    link_b = await share(client, bob, board_b.project["id"])

    view_a = (await client.get(f"/api/public/{link_a['token']}/")).text
    assert "Alpha" in view_a and "Bravo" not in view_a and "Charlie" not in view_a
    view_b = (await client.get(f"/api/public/{link_b['token']}/")).json()

    # a ref from project B's view cannot be used through project A's link
    posted = await client.post(
        f"/api/public/{link_a['token']}/comments/",
        json={"author_name": "Mallory", "text": "hi", "box_ref": view_b["boxes"][0]["ref"]},
    )
    assert posted.status_code == 422
    assert board_c.project["id"] != board_a.project["id"]


async def test_refs_differ_between_links_of_the_same_project(client, sessionmaker, storage):
    headers = await register(client)
    board = await make_storyboard(client, headers, sessionmaker, storage)
    one = await share(client, headers, board.project["id"])
    two = await share(client, headers, board.project["id"])
    view_one = (await client.get(f"/api/public/{one['token']}/")).json()
    view_two = (await client.get(f"/api/public/{two['token']}/")).json()
    assert view_one["boxes"][0]["ref"] != view_two["boxes"][0]["ref"]
    assert view_one["boxes"][0]["headliner"]["ref"] != view_two["boxes"][0]["headliner"]["ref"]


async def test_guests_cannot_change_or_read_anything_else(client, sessionmaker, storage):
    headers = await register(client)
    board = await make_storyboard(client, headers, sessionmaker, storage)
    link = await share(client, headers, board.project["id"])
    token = link["token"]
    shot = board.shots[0]
    hidden = shot.hidden[0]
    guest_headers = {"Authorization": f"Bearer {token}"}

    attempts = [
        ("PATCH", f"/api/assets/{hidden.id}/", {"is_favorite": True}),
        ("PATCH", f"/api/boxes/{shot.box['id']}/", {"headliner_id": hidden.id}),
        ("POST", f"/api/boxes/{shot.box['id']}/generate/", {"prompt": "x", "model": "google/nano-banana"}),
        ("POST", f"/api/assets/{hidden.id}/animate/", {"prompt": "x"}),
        ("DELETE", f"/api/assets/{hidden.id}/", None),
        ("DELETE", f"/api/boxes/{shot.box['id']}/", None),
        ("DELETE", f"/api/projects/{board.project['id']}/", None),
        ("GET", f"/api/assets/{hidden.id}/", None),
        ("GET", f"/api/boxes/{shot.box['id']}/assets/", None),
        ("GET", f"/api/projects/{board.project['id']}/comments/", None),
        ("GET", f"/api/projects/{board.project['id']}/export/", None),
    ]
    for method, path, body in attempts:
        for extra in ({}, guest_headers):
            response = await client.request(method, path, json=body, headers=extra)
            assert response.status_code in (401, 404, 405), (method, path, response.status_code)
            assert hidden.prompt not in response.text

    # every method on the public routes other than reading (and posting a comment) is refused
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        response = await client.request(method, f"/api/public/{token}/", json={"name": "x"})
        assert response.status_code == 405, method
    for method in ("PUT", "PATCH", "DELETE"):
        response = await client.request(method, f"/api/public/{token}/comments/", json={"text": "x"})
        assert response.status_code == 405, method

    # nothing changed
    async with sessionmaker() as session:
        again = await session.get(Asset, hidden.id)
        assert again is not None and again.is_favorite is False
    box = (await client.get(f"/api/boxes/{shot.box['id']}/", headers=headers)).json()
    assert box["headliner_id"] == shot.headliner.id
    view = (await client.get(f"/api/public/{token}/")).json()
    assert view["name"] == board.project["name"]


def _all_keys(value: object) -> set[str]:
    keys: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            keys.add(key)
            keys |= _all_keys(item)
    elif isinstance(value, list):
        for item in value:
            keys |= _all_keys(item)
    return keys


def test_all_keys_walks_nested_json():
    assert _all_keys(json.loads('{"a": [{"b": 1}], "c": {"d": null}}')) == {"a", "b", "c", "d"}


async def test_a_link_lives_while_its_studio_has_an_active_owner(client, sessionmaker):
    """Deactivating the only owner's account stops the studio's links; a second active owner keeps them live."""
    owner = await register(client)
    project = await make_project(client, owner)
    link = await share(client, owner, project["id"])
    url = f"/api/public/{link['token']}/"
    assert (await client.get(url)).status_code == 200

    ids: dict[str, int] = {}

    async def set_active(headers: dict[str, str], active: bool) -> None:
        key = headers["Authorization"]
        if key not in ids:
            ids[key] = (await client.get("/api/auth/me/", headers=headers)).json()["id"]
        async with sessionmaker() as session:
            user = await session.get(User, ids[key])
            assert user is not None
            user.is_active = active
            session.add(user)
            await session.commit()

    await set_active(owner, True)  # (records the id while the token still works)
    await set_active(owner, False)
    gone = await client.get(url)
    assert gone.status_code == 404, gone.text
    assert "revoked" in gone.json()["detail"]

    await set_active(owner, True)
    partner = await register(client)
    await set_active(partner, True)
    invite = await client.post(
        f"/api/studios/{project['studio_id']}/invites/", json={"role": "owner"}, headers=owner
    )
    assert invite.status_code == 201, invite.text
    joined = await client.post(f"/api/join/{invite.json()['token']}/", headers=partner)
    assert joined.status_code == 200, joined.text
    await set_active(owner, False)
    assert (await client.get(url)).status_code == 200  # the partner still stands behind it
    await set_active(partner, False)
    assert (await client.get(url)).status_code == 404
