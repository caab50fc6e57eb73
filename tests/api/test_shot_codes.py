"""Shots people can name: each shot keeps a code (SH010, editable) that reordering never changes, and a pasted list
of shots is created at once, all or none."""

import asyncio

import pytest

from core.boxes import MAX_BULK_BODY_BYTES, MAX_SHOTS_PER_PROJECT
from tests.builders import make_box, make_project, register


async def board(client, headers, project_id):
    response = await client.get(f"/api/projects/{project_id}/boxes/?limit=200", headers=headers)
    assert response.status_code == 200
    return [(b["code"], b["title"]) for b in response.json()["items"]]


async def test_new_shots_are_numbered_in_tens_and_keep_their_codes_when_moved(client):
    headers = await register(client)
    pid = (await make_project(client, headers))["id"]
    made = [await make_box(client, headers, pid, title=title) for title in "ABC"]
    assert [box["code"] for box in made] == ["SH010", "SH020", "SH030"]

    inserted = await make_box(client, headers, pid, title="X", position=1)
    assert (inserted["code"], inserted["position"]) == ("SH040", 1)
    assert await board(client, headers, pid) == [
        ("SH040", "X"),
        ("SH010", "A"),
        ("SH020", "B"),
        ("SH030", "C"),
    ]

    order = [made[2]["id"], inserted["id"], made[0]["id"], made[1]["id"]]
    reordered = await client.post(
        f"/api/projects/{pid}/boxes/reorder/", json={"box_ids": order}, headers=headers
    )
    assert reordered.status_code == 200
    assert await board(client, headers, pid) == [
        ("SH030", "C"),
        ("SH040", "X"),
        ("SH010", "A"),
        ("SH020", "B"),
    ]
    moved = await client.patch(f"/api/boxes/{made[0]['id']}/", json={"position": 4}, headers=headers)
    assert moved.json()["code"] == "SH010"


async def test_codes_can_be_given_and_edited_and_stay_unique_whatever_the_case(client):
    headers = await register(client)
    pid = (await make_project(client, headers))["id"]
    first = await make_box(client, headers, pid, code="SH100")
    assert (await make_box(client, headers, pid))["code"] == "SH110"
    # A lower-case SH code counts as numbered too.
    other = await make_box(client, headers, pid, code="sh205")
    assert (await make_box(client, headers, pid))["code"] == "SH210"

    renamed = await client.patch(f"/api/boxes/{first['id']}/", json={"code": " Intro "}, headers=headers)
    assert renamed.status_code == 200 and renamed.json()["code"] == "Intro"
    # Its own code in another case is no conflict.
    recased = await client.patch(f"/api/boxes/{first['id']}/", json={"code": "INTRO"}, headers=headers)
    assert recased.status_code == 200 and recased.json()["code"] == "INTRO"

    taken = await client.patch(f"/api/boxes/{other['id']}/", json={"code": "intro"}, headers=headers)
    assert taken.status_code == 409
    assert taken.json()["detail"] == "Shot code intro is already used in this project."
    duplicate = await client.post(f"/api/projects/{pid}/boxes/", json={"code": "Sh110"}, headers=headers)
    assert duplicate.status_code == 409 and "Sh110 is already used" in duplicate.json()["detail"]

    # Another project may use the same codes.
    elsewhere = await make_project(client, headers)
    assert (await make_box(client, headers, elsewhere["id"], code="INTRO"))["code"] == "INTRO"


@pytest.mark.parametrize("code", ["", "-SH010", "SH 010", "SH010/2", "S" * 21, "ŠH010", "SH\x00"])
async def test_a_malformed_code_is_refused_with_a_sentence(client, code):
    headers = await register(client)
    pid = (await make_project(client, headers))["id"]
    box = await make_box(client, headers, pid)
    for response in (
        await client.post(f"/api/projects/{pid}/boxes/", json={"code": code}, headers=headers),
        await client.patch(f"/api/boxes/{box['id']}/", json={"code": code}, headers=headers),
        await client.post(
            f"/api/projects/{pid}/boxes/bulk/", json={"boxes": [{"code": code}]}, headers=headers
        ),
    ):
        assert response.status_code == 422, response.text
        assert "a shot code is 1 to 20 letters, digits" in response.json()["detail"]
    assert await board(client, headers, pid) == [("SH010", "Shot")]


async def test_shots_created_at_once_get_distinct_positions_and_codes(client):
    headers = await register(client)
    pid = (await make_project(client, headers))["id"]
    responses = await asyncio.gather(
        client.post(f"/api/projects/{pid}/boxes/", json={"title": "one"}, headers=headers),
        client.post(f"/api/projects/{pid}/boxes/", json={"title": "two"}, headers=headers),
        client.post(
            f"/api/projects/{pid}/boxes/bulk/", json={"boxes": [{"title": "three"}]}, headers=headers
        ),
    )
    assert [r.status_code for r in responses] == [201, 201, 201]
    listed = (await client.get(f"/api/projects/{pid}/boxes/", headers=headers)).json()["items"]
    assert [b["position"] for b in listed] == [1, 2, 3]
    assert sorted(b["code"] for b in listed) == ["SH010", "SH020", "SH030"]


async def test_a_pasted_list_is_appended_in_order(client):
    headers = await register(client)
    pid = (await make_project(client, headers))["id"]
    await make_box(client, headers, pid, title="Opening")
    body = {
        "boxes": [
            {"title": "Kitchen", "notes": "Morning light."},
            {"title": "Street", "code": "EXT-1"},
            {"title": "  Rooftop  "},
        ]
    }
    response = await client.post(f"/api/projects/{pid}/boxes/bulk/", json=body, headers=headers)
    assert response.status_code == 201, response.text
    items = response.json()["items"]
    assert [(b["position"], b["code"], b["title"]) for b in items] == [
        (2, "SH020", "Kitchen"),
        (3, "EXT-1", "Street"),
        (4, "SH030", "Rooftop"),
    ]
    assert items[0]["notes"] == "Morning light." and items[0]["asset_count"] == 0
    assert await board(client, headers, pid) == [
        ("SH010", "Opening"),
        ("SH020", "Kitchen"),
        ("EXT-1", "Street"),
        ("SH030", "Rooftop"),
    ]


async def test_an_automatic_code_never_takes_one_a_later_shot_of_the_list_asks_for(client):
    headers = await register(client)
    pid = (await make_project(client, headers))["id"]
    body = {"boxes": [{"title": "a"}, {"title": "b", "code": "SH010"}]}
    response = await client.post(f"/api/projects/{pid}/boxes/bulk/", json=body, headers=headers)
    assert response.status_code == 201
    assert [b["code"] for b in response.json()["items"]] == ["SH020", "SH010"]


@pytest.mark.parametrize(
    ("boxes", "status", "fragment"),
    [
        ([], 422, "at least 1 item"),
        ([{"title": "x"}] * 201, 422, "at most 200 items"),
        ([{"title": "ok"}, {"title": "x" * 201}], 422, "boxes.1.title"),
        ([{"title": "ok"}, {"notes": "x" * 10_001}], 422, "boxes.1.notes"),
        ([{"title": "ok"}, {"title": "typo", "note": "x"}], 422, "boxes.1.note"),
        ([{"title": "a", "code": "A1"}, {"title": "b", "code": "a1"}], 409, "Shot code a1 is already used"),
        (
            [{"title": "a"}, {"title": "b", "code": "SH010"}, {"title": "c"}],
            409,
            "Shot code SH010 is already",
        ),
    ],
)
async def test_one_refused_item_creates_none(client, boxes, status, fragment):
    headers = await register(client)
    pid = (await make_project(client, headers))["id"]
    await make_box(client, headers, pid, title="Existing")
    response = await client.post(f"/api/projects/{pid}/boxes/bulk/", json={"boxes": boxes}, headers=headers)
    assert response.status_code == status, response.text
    assert fragment in response.json()["detail"]
    assert await board(client, headers, pid) == [("SH010", "Existing")]


async def test_the_largest_list_is_accepted_and_a_bigger_body_refused(client):
    headers = await register(client)
    pid = (await make_project(client, headers))["id"]
    boxes = [{"title": f"Shot {n}", "notes": "n" * 1000} for n in range(200)]
    response = await client.post(f"/api/projects/{pid}/boxes/bulk/", json={"boxes": boxes}, headers=headers)
    assert response.status_code == 201
    assert response.json()["items"][-1]["code"] == "SH2000"

    padded = b'{"boxes": [{"title": "x"}]' + b" " * MAX_BULK_BODY_BYTES + b"}"
    too_big = await client.post(
        f"/api/projects/{pid}/boxes/bulk/",
        content=padded,
        headers={**headers, "Content-Type": "application/json"},
    )
    assert too_big.status_code == 413
    assert too_big.json()["detail"] == "The list of shots is larger than 4 MB."
    assert (await client.get(f"/api/projects/{pid}/boxes/?limit=1", headers=headers)).json()["total"] == 200


async def test_a_full_project_refuses_more_shots_with_the_room_left(client):
    headers = await register(client)
    pid = (await make_project(client, headers))["id"]
    for start in range(0, MAX_SHOTS_PER_PROJECT - 3, 200):
        count = min(200, MAX_SHOTS_PER_PROJECT - 3 - start)
        boxes = [{"title": f"Shot {start + n}"} for n in range(count)]
        created = await client.post(
            f"/api/projects/{pid}/boxes/bulk/", json={"boxes": boxes}, headers=headers
        )
        assert created.status_code == 201, created.text

    too_many = [{"title": f"Extra {n}"} for n in range(4)]
    refused = await client.post(f"/api/projects/{pid}/boxes/bulk/", json={"boxes": too_many}, headers=headers)
    assert refused.status_code == 409
    assert refused.json()["detail"] == (
        f"A project holds at most {MAX_SHOTS_PER_PROJECT} shots; this one has {MAX_SHOTS_PER_PROJECT - 3}, "
        "so 3 more can be added. Split the storyboard into another project."
    )
    fits = await client.post(
        f"/api/projects/{pid}/boxes/bulk/", json={"boxes": too_many[:3]}, headers=headers
    )
    assert fits.status_code == 201
    one_more = await client.post(f"/api/projects/{pid}/boxes/", json={"title": "One more"}, headers=headers)
    assert one_more.status_code == 409
    assert "so 0 more can be added" in one_more.json()["detail"]
    total = (await client.get(f"/api/projects/{pid}/boxes/?limit=1", headers=headers)).json()["total"]
    assert total == MAX_SHOTS_PER_PROJECT
