"""A client comments through the link; the owner reads and answers from the API; events reach the project channel."""

from __future__ import annotations

import asyncio
import json

from redis.asyncio import Redis

from core.comments import GUEST_COMMENTS_PER_ADDRESS
from core.events import project_channel
from core.models import Comment, StudioRole, User
from core.schemas import MAX_COMMENT_LENGTH
from tests.builders import add_member, register
from tests.review.helpers import make_storyboard, share


async def _guest_post(client, token, **body):
    return await client.post(f"/api/public/{token}/comments/", json={"author_name": "Dana (client)", **body})


async def test_guest_comments_on_a_shot_and_on_its_headliner(client, sessionmaker, storage):
    headers = await register(client)
    board = await make_storyboard(client, headers, sessionmaker, storage)
    link = await share(client, headers, board.project["id"])
    view = (await client.get(f"/api/public/{link['token']}/")).json()
    first = view["boxes"][0]

    on_box = await _guest_post(client, link["token"], text="Love the light", box_ref=first["ref"])
    assert on_box.status_code == 201, on_box.text
    assert on_box.json()["box_ref"] == first["ref"] and on_box.json()["asset_ref"] is None
    on_image = await _guest_post(
        client, link["token"], text="Warmer please", box_ref=first["ref"], asset_ref=first["headliner"]["ref"]
    )
    assert on_image.status_code == 201, on_image.text
    on_video = await _guest_post(
        client, link["token"], text="Slower camera", box_ref=first["ref"], asset_ref=first["video"]["ref"]
    )
    assert on_video.status_code == 201, on_video.text
    assert on_video.json()["from_studio"] is False
    assert "id" not in on_video.json()

    # the owner sees where each came from
    owner_view = await client.get(f"/api/projects/{board.project['id']}/comments/", headers=headers)
    assert owner_view.status_code == 200
    items = owner_view.json()["items"]
    assert [c["text"] for c in items] == ["Love the light", "Warmer please", "Slower camera"]
    assert all(c["via_link"] and c["shared_link_id"] == link["id"] for c in items)
    assert all(c["author_user_id"] is None and c["author_name"] == "Dana (client)" for c in items)
    assert items[0]["asset_id"] is None
    assert items[1]["asset_id"] == board.shots[0].headliner.id
    assert items[2]["asset_id"] == board.shots[0].video.id
    assert {c["box_id"] for c in items} == {board.shots[0].box["id"]}

    # comments made through a revoked link stay, still marked as coming through a link
    assert (await client.delete(f"/api/share-links/{link['id']}/", headers=headers)).status_code == 204
    after = (await client.get(f"/api/projects/{board.project['id']}/comments/", headers=headers)).json()
    assert after["total"] == 3
    assert all(c["via_link"] and c["shared_link_id"] is None for c in after["items"])


async def test_guests_cannot_comment_on_what_they_cannot_see(client, sessionmaker, storage):
    headers = await register(client)
    board = await make_storyboard(client, headers, sessionmaker, storage)
    link = await share(client, headers, board.project["id"])
    view = (await client.get(f"/api/public/{link['token']}/")).json()
    first, second = view["boxes"][0], view["boxes"][1]

    wrong_box = await _guest_post(
        client, link["token"], text="x", box_ref=second["ref"], asset_ref=first["headliner"]["ref"]
    )
    assert wrong_box.status_code == 422
    assert wrong_box.json()["details"] == {"field": "asset_ref"}
    guessed = await _guest_post(client, link["token"], text="x", box_ref=str(board.shots[0].box["id"]))
    assert guessed.status_code == 422
    assert guessed.json()["details"] == {"field": "box_ref"}
    missing = await client.post(f"/api/public/{link['token']}/comments/", json={"text": "x", "box_ref": "y"})
    assert missing.status_code == 422
    owner_view = await client.get(f"/api/projects/{board.project['id']}/comments/", headers=headers)
    assert owner_view.json()["total"] == 0


async def test_owner_comments_and_filters(client, sessionmaker, storage):
    headers = await register(client)
    stranger = await register(client)
    board = await make_storyboard(client, headers, sessionmaker, storage)
    shot_one, shot_two = board.shots[0], board.shots[1]
    hidden = shot_one.hidden[0]

    on_box = await client.post(
        f"/api/boxes/{shot_one.box['id']}/comments/", json={"text": "Try dusk"}, headers=headers
    )
    assert on_box.status_code == 201, on_box.text
    assert on_box.json()["author_name"] == "Test User"
    assert on_box.json()["via_link"] is False
    assert on_box.json()["box_code"] == shot_one.box["code"] == "SH010"
    on_variant = await client.post(
        f"/api/assets/{hidden.id}/comments/", json={"text": "Backup"}, headers=headers
    )
    assert on_variant.status_code == 201
    assert on_variant.json()["asset_id"] == hidden.id
    via_box = await client.post(
        f"/api/boxes/{shot_two.box['id']}/comments/",
        json={"text": "Good", "asset_id": shot_two.headliner.id},
        headers=headers,
    )
    assert via_box.status_code == 201
    foreign_asset = await client.post(
        f"/api/boxes/{shot_two.box['id']}/comments/",
        json={"text": "x", "asset_id": hidden.id},
        headers=headers,
    )
    assert foreign_asset.status_code == 422

    base = f"/api/projects/{board.project['id']}/comments/"
    everything = (await client.get(base, headers=headers)).json()
    assert everything["total"] == 3
    only_one = (await client.get(base, params={"box_id": shot_one.box["id"]}, headers=headers)).json()
    assert [c["text"] for c in only_one["items"]] == ["Try dusk", "Backup"]
    assert [c["box_code"] for c in everything["items"]] == ["SH010", "SH010", "SH020"]
    only_asset = (await client.get(base, params={"asset_id": hidden.id}, headers=headers)).json()
    assert [c["text"] for c in only_asset["items"]] == ["Backup"]
    paged = (await client.get(base, params={"limit": 1, "offset": 1}, headers=headers)).json()
    assert paged["total"] == 3 and [c["text"] for c in paged["items"]] == ["Backup"]
    assert (await client.get(base, params={"via_link": True}, headers=headers)).json()["total"] == 0

    # strangers see nothing and cannot write
    assert (await client.get(base, headers=stranger)).status_code == 404
    assert (
        await client.post(f"/api/boxes/{shot_one.box['id']}/comments/", json={"text": "x"}, headers=stranger)
    ).status_code == 404
    assert (
        await client.post(f"/api/assets/{hidden.id}/comments/", json={"text": "x"}, headers=stranger)
    ).status_code == 404
    assert (await client.delete(f"/api/comments/{on_box.json()['id']}/", headers=stranger)).status_code == 404

    # the client sees the studio's notes on shots and headliners, but not on hidden variants
    link = await share(client, headers, board.project["id"])
    guest = (await client.get(f"/api/public/{link['token']}/comments/")).json()
    assert [c["text"] for c in guest["items"]] == ["Try dusk", "Good"]
    assert all(c["from_studio"] for c in guest["items"])
    assert "Backup" not in json.dumps(guest)

    assert (await client.delete(f"/api/comments/{on_box.json()['id']}/", headers=headers)).status_code == 204
    assert (await client.get(base, headers=headers)).json()["total"] == 2


async def test_deleting_a_variant_never_surfaces_its_internal_notes_on_the_review_link(
    client, sessionmaker, storage
):
    headers = await register(client)
    board = await make_storyboard(client, headers, sessionmaker, storage)
    shot = board.shots[0]
    hidden = shot.hidden[0]
    link = await share(client, headers, board.project["id"])
    on_box = await client.post(
        f"/api/boxes/{shot.box['id']}/comments/", json={"text": "Try dusk"}, headers=headers
    )
    assert on_box.status_code == 201
    note = await client.post(
        f"/api/assets/{hidden.id}/comments/", json={"text": "Internal: client must not see"}, headers=headers
    )
    assert note.status_code == 201
    assert "Internal" not in json.dumps((await client.get(f"/api/public/{link['token']}/comments/")).json())

    assert (await client.delete(f"/api/assets/{hidden.id}/", headers=headers)).status_code == 204

    view = await client.get(f"/api/public/{link['token']}/")
    assert view.status_code == 200
    guest = await client.get(f"/api/public/{link['token']}/comments/")
    assert guest.status_code == 200
    assert [c["text"] for c in guest.json()["items"]] == ["Try dusk"]
    assert "Internal" not in view.text + guest.text
    owner = (await client.get(f"/api/projects/{board.project['id']}/comments/", headers=headers)).json()
    assert [c["text"] for c in owner["items"]] == [
        "Try dusk"
    ]  # deleted with its variant, not moved to the shot


async def test_html_and_script_round_trip_as_plain_text(client, sessionmaker, storage):
    headers = await register(client)
    board = await make_storyboard(client, headers, sessionmaker, storage)
    link = await share(client, headers, board.project["id"])
    view = (await client.get(f"/api/public/{link['token']}/")).json()
    nasty = '<script>alert("x")</script><img src=x onerror=alert(1)> & "quotes" \'single\'\nsecond line'
    name = "<b>Eve</b>"

    posted = await client.post(
        f"/api/public/{link['token']}/comments/",
        json={"author_name": name, "text": nasty, "box_ref": view["boxes"][0]["ref"]},
    )
    assert posted.status_code == 201, posted.text
    assert posted.headers["content-type"].startswith("application/json")
    assert posted.json()["text"] == nasty and posted.json()["author_name"] == name

    guest = (await client.get(f"/api/public/{link['token']}/comments/")).json()
    assert guest["items"][0]["text"] == nasty
    owner = (await client.get(f"/api/projects/{board.project['id']}/comments/", headers=headers)).json()
    assert owner["items"][0]["text"] == nasty
    async with sessionmaker() as session:
        stored = await session.get(Comment, owner["items"][0]["id"])
        assert stored is not None and stored.text == nasty  # stored as written, not escaped


async def test_oversized_empty_and_binary_text_are_refused(client, sessionmaker, storage):
    headers = await register(client)
    board = await make_storyboard(client, headers, sessionmaker, storage)
    link = await share(client, headers, board.project["id"])
    box_ref = (await client.get(f"/api/public/{link['token']}/")).json()["boxes"][0]["ref"]

    at_limit = await _guest_post(client, link["token"], text="a" * MAX_COMMENT_LENGTH, box_ref=box_ref)
    assert at_limit.status_code == 201
    for text in ("a" * (MAX_COMMENT_LENGTH + 1), "", "   ", "nul\x00byte"):
        response = await _guest_post(client, link["token"], text=text, box_ref=box_ref)
        assert response.status_code == 422, repr(text[:20])
    surrogate = await client.post(
        f"/api/public/{link['token']}/comments/",
        content='{"author_name": "a", "text": "bad \\ud800 half", "box_ref": ' + json.dumps(box_ref) + "}",
        headers={"Content-Type": "application/json"},
    )
    assert surrogate.status_code == 201, (
        surrogate.text
    )  # a lone surrogate cannot be stored; it becomes U+FFFD
    assert surrogate.json()["text"] == "bad \ufffd half"
    long_name = await client.post(
        f"/api/public/{link['token']}/comments/",
        json={"author_name": "n" * 121, "text": "x", "box_ref": box_ref},
    )
    assert long_name.status_code == 422
    owner_long = await client.post(
        f"/api/boxes/{board.shots[0].box['id']}/comments/",
        json={"text": "a" * (MAX_COMMENT_LENGTH + 1)},
        headers=headers,
    )
    assert owner_long.status_code == 422
    total = (await client.get(f"/api/projects/{board.project['id']}/comments/", headers=headers)).json()[
        "total"
    ]
    assert total == 2


async def test_guest_commenting_is_rate_limited_per_link_and_address(client, sessionmaker, storage):
    headers = await register(client)
    board = await make_storyboard(client, headers, sessionmaker, storage)
    link = await share(client, headers, board.project["id"])
    other_link = await share(client, headers, board.project["id"])
    box_ref = (await client.get(f"/api/public/{link['token']}/")).json()["boxes"][0]["ref"]
    other_ref = (await client.get(f"/api/public/{other_link['token']}/")).json()["boxes"][0]["ref"]

    for index in range(GUEST_COMMENTS_PER_ADDRESS.limit):
        response = await _guest_post(client, link["token"], text=f"note {index}", box_ref=box_ref)
        assert response.status_code == 201, response.text
    refused = await _guest_post(client, link["token"], text="one too many", box_ref=box_ref)
    assert refused.status_code == 429
    retry_after = int(refused.headers["Retry-After"])
    assert 1 <= retry_after <= GUEST_COMMENTS_PER_ADDRESS.window_seconds
    assert refused.json()["code"] == "rate_limited"
    assert "Try again in" in refused.json()["detail"]

    # another link of the same project has its own budget; the owner is never limited
    assert (await _guest_post(client, other_link["token"], text="hi", box_ref=other_ref)).status_code == 201
    owner = await client.post(
        f"/api/boxes/{board.shots[0].box['id']}/comments/", json={"text": "owner"}, headers=headers
    )
    assert owner.status_code == 201
    texts = [
        c["text"]
        for c in (
            await client.get(
                f"/api/projects/{board.project['id']}/comments/", params={"limit": 200}, headers=headers
            )
        ).json()["items"]
    ]
    assert "one too many" not in texts and len(texts) == GUEST_COMMENTS_PER_ADDRESS.limit + 2


async def test_new_comment_event_is_published_to_the_project_channel(client, sessionmaker, storage, settings):
    headers = await register(client)
    board = await make_storyboard(client, headers, sessionmaker, storage)
    link = await share(client, headers, board.project["id"])
    view = (await client.get(f"/api/public/{link['token']}/")).json()

    redis = Redis.from_url(settings.redis_url)
    pubsub = redis.pubsub()
    await pubsub.subscribe(project_channel(board.project["id"]))
    try:
        await pubsub.get_message(timeout=1)  # the subscribe confirmation
        posted = await _guest_post(client, link["token"], text="Looks great", box_ref=view["boxes"][1]["ref"])
        assert posted.status_code == 201
        owner = await client.post(
            f"/api/boxes/{board.shots[1].box['id']}/comments/", json={"text": "Thanks!"}, headers=headers
        )
        assert owner.status_code == 201
        events = []
        for _ in range(50):
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.2)
            if (
                message is not None and json.loads(message["data"])["type"] != "activity"
            ):  # tests/api/test_activity.py
                events.append(json.loads(message["data"]))
            if len(events) == 2:
                break
            await asyncio.sleep(0)
    finally:
        await pubsub.unsubscribe()
        await pubsub.aclose()
        await redis.aclose()

    assert [e["type"] for e in events] == ["new_comment", "new_comment"]
    guest_event, owner_event = events
    assert guest_event["project_id"] == board.project["id"]
    assert guest_event["data"]["text"] == "Looks great" and guest_event["data"]["via_link"] is True
    assert guest_event["data"]["box_id"] == board.shots[1].box["id"]
    assert owner_event["data"]["text"] == "Thanks!" and owner_event["data"]["via_link"] is False


async def test_a_members_comment_stays_from_the_studio_after_their_account_is_gone(
    client, sessionmaker, storage
):
    """The review page's list says `from_studio` as the live event does: by how the comment was written, so a
    member who leaves (their account deleted, `author_user_id` nulled) does not turn into a guest."""
    owner = await register(client)
    board = await make_storyboard(client, owner, sessionmaker, storage)
    project = board.project
    artist = await register(client, display_name="Departed Artist")
    artist_id = (await client.get("/api/auth/me/", headers=artist)).json()["id"]
    await add_member(sessionmaker, project["studio_id"], artist_id, StudioRole.EDITOR)
    written = await client.post(
        f"/api/boxes/{board.shots[0].box['id']}/comments/", json={"text": "Warmer light"}, headers=artist
    )
    assert written.status_code == 201, written.text
    async with sessionmaker() as session:
        await session.delete(await session.get(User, artist_id))
        await session.commit()

    link = await share(client, owner, project["id"])
    listed = (await client.get(f"/api/public/{link['token']}/comments/")).json()["items"]
    assert [(c["author_name"], c["from_studio"]) for c in listed] == [("Departed Artist", True)]
