"""Input that cannot be stored or served answers a readable 4xx, never a 500: NUL characters in stored text,
parameter values that only look like numbers, absurd webhook timestamps, non-ASCII share-link refs."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from core.settings import Settings
from core.smart_edit import clean_answer
from core.storage import Storage
from tests.builders import make_asset, make_box, make_project, png_bytes, register, unique_email
from tests.review.helpers import make_storyboard, share

NUL = "a\x00b"


def assert_refused_nul(response: httpx.Response, field: str) -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    # The sentence names the field and the rule; `details` lists the refused fields.
    assert field in body["detail"] and "NUL" in body["detail"], body
    assert any(error["loc"][-1] == field and "NUL" in error["msg"] for error in body["details"]), body


async def test_register_refuses_a_nul_in_the_display_name(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/auth/register/",
        json={"email": unique_email(), "password": "long enough password", "display_name": NUL},
    )
    assert_refused_nul(response, "display_name")


@pytest.mark.parametrize("field", ["name", "description"])
async def test_projects_refuse_a_nul_in_their_text(client: httpx.AsyncClient, field: str) -> None:
    headers = await register(client)
    created = await client.post("/api/projects/", json={"name": "Spot", field: NUL}, headers=headers)
    assert_refused_nul(created, field)
    project = await make_project(client, headers)
    updated = await client.patch(f"/api/projects/{project['id']}/", json={field: NUL}, headers=headers)
    assert_refused_nul(updated, field)
    assert (await client.get(f"/api/projects/{project['id']}/", headers=headers)).json()[field] != NUL


@pytest.mark.parametrize("field", ["title", "notes"])
async def test_boxes_refuse_a_nul_in_their_text(client: httpx.AsyncClient, field: str) -> None:
    headers = await register(client)
    project = await make_project(client, headers)
    created = await client.post(f"/api/projects/{project['id']}/boxes/", json={field: NUL}, headers=headers)
    assert_refused_nul(created, field)
    box = await make_box(client, headers, project["id"])
    updated = await client.patch(f"/api/boxes/{box['id']}/", json={field: NUL}, headers=headers)
    assert_refused_nul(updated, field)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"model": "google/nano-banana", "prompt": NUL}, "prompt"),
        ({"model": "google/nano-banana\x00", "prompt": "a fox"}, "model"),
    ],
)
async def test_generate_refuses_a_nul(client: httpx.AsyncClient, body: dict[str, Any], field: str) -> None:
    headers = await register(client)
    project = await make_project(client, headers)
    box = await make_box(client, headers, project["id"])
    response = await client.post(f"/api/boxes/{box['id']}/generate/", json=body, headers=headers)
    assert_refused_nul(response, field)


async def test_animate_and_upload_refuse_a_nul_in_the_prompt(
    client: httpx.AsyncClient, sessionmaker: Any, storage: Storage
) -> None:
    headers = await register(client)
    project = await make_project(client, headers)
    box = await make_box(client, headers, project["id"])
    image = await make_asset(sessionmaker, box["id"], storage=storage)
    animate = await client.post(f"/api/assets/{image.id}/animate/", json={"prompt": NUL}, headers=headers)
    assert_refused_nul(animate, "prompt")
    upload = await client.post(
        f"/api/boxes/{box['id']}/upload/",
        files={"file": ("a.png", png_bytes(), "image/png")},
        data={"prompt": NUL},
        headers=headers,
    )
    assert_refused_nul(upload, "prompt")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"prompt": NUL, "instruction": "add snow"}, "prompt"),
        ({"prompt": "a red fox", "instruction": NUL}, "instruction"),
    ],
)
async def test_smart_edit_refuses_a_nul(client: httpx.AsyncClient, body: dict[str, Any], field: str) -> None:
    headers = await register(client)
    response = await client.post("/api/smart-edit/", json=body, headers=headers)
    assert_refused_nul(response, field)


def test_an_llm_answer_is_stored_without_nul_or_lone_surrogates() -> None:
    assert clean_answer("a red\x00 fox \ud800 at dawn\x00", 100) == "a red fox \ufffd at dawn"


async def test_a_lone_surrogate_in_stored_text_is_replaced_not_a_500(client: httpx.AsyncClient) -> None:
    headers = await register(client)
    response = await client.post(
        "/api/projects/",
        content=b'{"name": "half \\ud800 pair", "description": "\\udfff"}',
        headers={**headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 201, response.text
    assert (response.json()["name"], response.json()["description"]) == ("half \ufffd pair", "\ufffd")


@pytest.mark.parametrize("value", ["²", "٣", "1²"])
async def test_generate_refuses_a_parameter_that_only_looks_like_a_number(
    client: httpx.AsyncClient, value: str
) -> None:
    headers = await register(client)
    project = await make_project(client, headers)
    box = await make_box(client, headers, project["id"])
    for model in ("google/nano-banana",):
        response = await client.post(
            f"/api/boxes/{box['id']}/generate/",
            json={"model": model, "prompt": "a fox", "params": {"aspect_ratio": value}},
            headers=headers,
        )
        assert response.status_code == 422, response.text
        assert "aspect_ratio must be one of" in response.json()["detail"]


async def test_animate_refuses_a_duration_that_only_looks_like_a_number(
    client: httpx.AsyncClient, sessionmaker: Any, storage: Storage
) -> None:
    headers = await register(client)
    project = await make_project(client, headers)
    box = await make_box(client, headers, project["id"])
    image = await make_asset(sessionmaker, box["id"], storage=storage)
    response = await client.post(
        f"/api/assets/{image.id}/animate/",
        json={"prompt": "slow push in", "params": {"duration": "⁸"}},
        headers=headers,
    )
    assert response.status_code == 422, response.text
    assert "duration must be one of" in response.json()["detail"]


@pytest.mark.parametrize(
    "timestamp", [b"9" * 400, b"-" + b"9" * 400, b"1" * 5000, "\u00b9\u00b2\u00b3".encode("latin-1"), b"1e9"]
)
async def test_an_absurd_webhook_timestamp_is_refused_with_401(
    client: httpx.AsyncClient, settings: Settings, monkeypatch: pytest.MonkeyPatch, timestamp: bytes
) -> None:
    monkeypatch.setattr(settings, "kie_webhook_hmac_key", SecretStr("webhook-key"))
    response = await client.post(
        "/api/providers/kie/callback/12345/",
        json={"code": 200, "data": {"taskId": "ab" * 16, "state": "success"}},
        headers={"X-Webhook-Timestamp": timestamp, "X-Webhook-Signature": b"00" * 32},
    )
    assert response.status_code == 401, response.text
    assert response.json()["code"] == "unauthorized"


async def test_a_non_ascii_webhook_signature_or_task_id_is_refused(
    client: httpx.AsyncClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "kie_webhook_hmac_key", SecretStr("webhook-key"))
    url = "/api/providers/kie/callback/12345/"
    body = {"code": 200, "data": {"taskId": "ab" * 16, "state": "success"}}
    timestamp = str(int(time.time())).encode()
    odd_signature = await client.post(
        url,
        json=body,
        headers={"X-Webhook-Timestamp": timestamp, "X-Webhook-Signature": "é".encode("latin-1")},
    )
    assert odd_signature.status_code == 401, odd_signature.text
    odd_task = await client.post(
        url,
        content=b'{"code": 200, "data": {"taskId": "\\ud800", "state": "success"}}',
        headers={
            "X-Webhook-Timestamp": timestamp,
            "X-Webhook-Signature": b"x",
            "Content-Type": "application/json",
        },
    )
    assert odd_task.status_code == 422, odd_task.text


@pytest.mark.parametrize("field", ["box_ref", "asset_ref"])
async def test_public_comment_with_a_non_ascii_ref_is_refused_not_a_500(
    client: httpx.AsyncClient, sessionmaker: Any, storage: Storage, field: str
) -> None:
    headers = await register(client)
    board = await make_storyboard(client, headers, sessionmaker, storage)
    link = await share(client, headers, board.project["id"])
    box_ref = (await client.get(f"/api/public/{link['token']}/")).json()["boxes"][0]["ref"]
    refs = {"box_ref": box_ref, field: "é" * 22}
    response = await client.post(
        f"/api/public/{link['token']}/comments/",
        json={"author_name": "Dana", "text": "Nice", **refs},
        headers={"X-Forwarded-For": "203.0.113.9"},
    )
    assert response.status_code == 422, response.text
    assert f"{field} does not name" in response.json()["detail"]
