"""Smart edit as a user sees it: send a prompt and an instruction, get the rewritten prompt back (nothing is
generated), find it in the box's prompt history; an admin's SystemConfig change applies to the next request."""

from __future__ import annotations

import asyncio
import contextlib
import uuid

import pytest
from sqlmodel import col, select
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from core.contract import RewritePromptInput, smart_edit_workflow_id
from core.models import ChargeKind, CreditCharge, SystemConfig
from tests.builders import make_box, make_project, register
from workflows.smart_edit import SmartEditWorkflow


def unique(text: str) -> str:
    # The simulator counts `xN` markers per exact text: keep every test's text its own.
    return f"{text} #{uuid.uuid4().hex[:6]}"


async def configure(sessionmaker, **values) -> dict:
    async with sessionmaker() as session:
        config = await session.get(SystemConfig, 1)
        previous = {name: getattr(config, name) for name in values}
        for name, value in values.items():
            setattr(config, name, value)
        session.add(config)
        await session.commit()
        return previous


@pytest.fixture
async def restore_config(sessionmaker):
    async with sessionmaker() as session:
        config = await session.get(SystemConfig, 1)
        saved = {
            "smart_edit_model": config.smart_edit_model,
            "smart_edit_system_prompt": config.smart_edit_system_prompt,
        }
    yield
    await configure(sessionmaker, **saved)


async def test_a_prompt_is_rewritten_and_kept_in_the_box_history(se_client):
    headers = await register(se_client)
    project = await make_project(se_client, headers)
    box = await make_box(se_client, headers, project["id"])
    prompt = "a cat on a roof, daylight, wide shot"

    response = await se_client.post(
        "/api/smart-edit/",
        json={"prompt": prompt, "instruction": "replace daylight with moonlight", "box_id": box["id"]},
        headers=headers,
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["prompt"] == "a cat on a roof, moonlight, wide shot"
    assert body["original_prompt"] == prompt
    assert body["instruction"] == "replace daylight with moonlight"
    assert body["model"] == "gemini-2.5-flash"

    second = await se_client.post(
        "/api/smart-edit/",
        json={"prompt": body["prompt"], "instruction": "make it rainy", "box_id": box["id"]},
        headers=headers,
    )
    assert second.status_code == 200, second.text
    assert second.json()["prompt"] == "a cat on a roof, moonlight, wide shot, rainy"

    history = await se_client.get(f"/api/boxes/{box['id']}/smart-edits/", headers=headers)
    assert history.status_code == 200, history.text
    assert history.json()["total"] == 2
    assert [item["prompt"] for item in history.json()["items"]] == [second.json()["prompt"], body["prompt"]]
    page = await se_client.get(f"/api/boxes/{box['id']}/smart-edits/?limit=1&offset=1", headers=headers)
    assert [item["original_prompt"] for item in page.json()["items"]] == [prompt]

    # A preview only: nothing was generated.
    assets = await se_client.get(f"/api/boxes/{box['id']}/assets/", headers=headers)
    assert assets.json()["total"] == 0


async def test_a_box_is_optional_but_must_be_ones_own(se_client):
    headers = await register(se_client)
    response = await se_client.post(
        "/api/smart-edit/", json={"prompt": "a red fox", "instruction": "add snow"}, headers=headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["prompt"] == "a red fox, snow"
    assert response.json()["box_id"] is None

    owner = await register(se_client)
    project = await make_project(se_client, owner)
    box = await make_box(se_client, owner, project["id"])
    stolen = await se_client.post(
        "/api/smart-edit/",
        json={"prompt": "a red fox", "instruction": "add snow", "box_id": box["id"]},
        headers=headers,
    )
    assert stolen.status_code == 404
    assert (await se_client.get(f"/api/boxes/{box['id']}/smart-edits/", headers=headers)).status_code == 404
    assert (
        await se_client.post("/api/smart-edit/", json={"prompt": "a", "instruction": "b"})
    ).status_code == 401


@pytest.mark.parametrize(
    "body",
    [
        {"prompt": "", "instruction": "add snow"},
        {"prompt": "   ", "instruction": "add snow"},
        {"prompt": "a red fox", "instruction": ""},
        {"prompt": "a red fox", "instruction": "x" * 2001},
        {"prompt": "a red fox " * 501, "instruction": "add snow"},  # longer than any model's prompt limit
        {"prompt": "y" * 20_001, "instruction": "add snow"},
        {"prompt": "a red fox", "instruction": "add snow", "seed": 3},
        {"prompt": "a red fox"},
        {"prompt": "a red fox", "instruction": "add snow", "box_id": 0},
    ],
)
async def test_bad_input_answers_422(se_client, body):
    headers = await register(se_client)
    response = await se_client.post("/api/smart-edit/", json=body, headers=headers)
    assert response.status_code == 422, response.text
    assert response.json()["detail"]


async def test_a_system_config_change_applies_to_the_next_request(se_client, sessionmaker, restore_config):
    headers = await register(se_client)
    body = {"prompt": unique("a lighthouse at dusk"), "instruction": "make it stormy"}

    await configure(sessionmaker, smart_edit_model="claude-haiku-4-5")
    response = await se_client.post("/api/smart-edit/", json=body, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["model"] == "claude-haiku-4-5"

    # The model really is what is called: one the provider does not know is refused by it.
    await configure(sessionmaker, smart_edit_model="no-such-model")
    response = await se_client.post("/api/smart-edit/", json=body, headers=headers)
    assert response.status_code == 502, response.text

    # The system prompt is re-read too (the simulator obeys a marker in it: no credits left).
    await configure(
        sessionmaker, smart_edit_model="gemini-2.5-flash", smart_edit_system_prompt="[sim:code=402]"
    )
    response = await se_client.post("/api/smart-edit/", json=body, headers=headers)
    assert response.status_code == 502, response.text
    assert "credits" in response.json()["detail"]


async def test_a_transient_rate_limit_is_retried(se_client):
    headers = await register(se_client)
    prompt = unique("a quiet harbour")
    response = await se_client.post(
        "/api/smart-edit/", json={"prompt": prompt, "instruction": "add fog [sim:429=2]"}, headers=headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["prompt"] == f"{prompt}, fog"


@pytest.mark.parametrize(
    ("marker", "status", "words"),
    [
        ("[sim:429]", 503, "rate limiting"),
        ("[sim:http=500]", 503, "unavailable"),
        ("[sim:http=503x5]", 503, "unavailable"),
        ("[sim:slow=4]", 504, "did not answer"),
        ("[sim:code=401]", 502, "API key"),
        ("[sim:malformed]", 502, "not JSON"),
    ],
)
async def test_llm_failures_answer_a_clear_5xx_after_retries(se_client, marker, status, words):
    headers = await register(se_client)
    project = await make_project(se_client, headers)
    box = await make_box(se_client, headers, project["id"])
    response = await se_client.post(
        "/api/smart-edit/",
        json={"prompt": unique("a mountain road"), "instruction": f"add snow {marker}", "box_id": box["id"]},
        headers=headers,
    )
    assert response.status_code == status, response.text
    assert words in response.json()["detail"]
    history = await se_client.get(f"/api/boxes/{box['id']}/smart-edits/", headers=headers)
    assert history.json()["total"] == 0


async def test_an_empty_answer_is_refused(se_client):
    headers = await register(se_client)
    response = await se_client.post(
        "/api/smart-edit/", json={"prompt": "a red fox", "instruction": "remove a red fox"}, headers=headers
    )
    assert response.status_code == 502, response.text
    assert response.json()["details"] == {"reason": "SmartEditEmptyAnswer"}
    assert "empty" in response.json()["detail"]


async def test_an_answer_longer_than_any_model_accepts_is_refused(se_client):
    headers = await register(se_client)
    response = await se_client.post(
        "/api/smart-edit/",
        json={"prompt": "a red fox " * 450, "instruction": "add " + "very " * 350 + "bright light"},
        headers=headers,
    )
    assert response.status_code == 502, response.text
    assert response.json()["details"] == {"reason": "SmartEditAbsurdAnswer"}
    assert "longer than any model accepts" in response.json()["detail"]


async def test_the_api_waits_at_most_the_configured_time(settings, chat_simulator):
    from tests.smart_edit.conftest import running_app, running_worker, smart_edit_settings_for

    impatient = smart_edit_settings_for(
        settings,
        chat_simulator,
        smart_edit_timeout_seconds=2.0,
        kie_timeout_seconds=30.0,
        smart_edit_attempt_timeout_seconds=30.0,
    )
    async with running_worker(impatient), running_app(impatient) as http:
        headers = await register(http)
        response = await http.post(
            "/api/smart-edit/",
            json={"prompt": unique("a desert at noon"), "instruction": "add wind [sim:slow=20]"},
            headers=headers,
        )
    assert response.status_code == 504, response.text
    assert "2 s" in response.json()["detail"]


async def test_the_workflow_replays_deterministically(smart_edit_settings, smart_edit_worker):
    client = smart_edit_worker.temporal
    payload = RewritePromptInput(
        model="gemini-2.5-flash",
        system_prompt="Rewrite prompts.",
        prompt=unique("a tram in the rain"),
        instruction="add neon signs",
        max_result_length=5000,
        attempt_timeout_seconds=5,
    )
    handle = await client.start_workflow(
        SmartEditWorkflow.run,
        payload,
        id=smart_edit_workflow_id(uuid.uuid4().hex),
        task_queue=smart_edit_settings.temporal_task_queue,
    )
    result = await handle.result()
    assert result.prompt == f"{payload.prompt}, neon signs"
    replayer = Replayer(workflows=[SmartEditWorkflow], data_converter=pydantic_data_converter)
    await replayer.replay_workflow(await handle.fetch_history())


async def test_a_smart_edit_is_charged_and_a_failed_one_costs_nothing(se_client, sessionmaker):
    headers = await register(se_client)
    user_id = (await se_client.get("/api/auth/me/", headers=headers)).json()["id"]
    ok = await se_client.post(
        "/api/smart-edit/", json={"prompt": unique("a pier"), "instruction": "add fog"}, headers=headers
    )
    failed = await se_client.post(
        "/api/smart-edit/",
        json={"prompt": unique("a pier"), "instruction": "add fog [sim:code=401]"},
        headers=headers,
    )
    assert (ok.status_code, failed.status_code) == (200, 502), failed.text
    async with sessionmaker() as session:
        rows = await session.exec(
            select(CreditCharge).where(CreditCharge.user_id == user_id).order_by(col(CreditCharge.id))
        )
        charges = [(c.kind, c.asset_id, c.estimated, c.actual) for c in rows.all()]
    assert charges == [(ChargeKind.SMART_EDIT, None, 1.0, None), (ChargeKind.SMART_EDIT, None, 1.0, 0.0)]
    usage = (await se_client.get("/api/auth/me/usage/", headers=headers)).json()
    assert usage["spent_today"] == 1


async def test_a_smart_edit_the_client_gives_up_on_costs_nothing(se_client, sessionmaker):
    """The client goes away while the LLM writes: the request is cancelled, and its charge is still settled at 0
    (in a task of its own: every await in a cancelled request may be cancelled again)."""
    headers = await register(se_client)
    user_id = (await se_client.get("/api/auth/me/", headers=headers)).json()["id"]

    async def charges() -> list[tuple[float, float | None]]:
        async with sessionmaker() as session:
            rows = await session.exec(select(CreditCharge).where(CreditCharge.user_id == user_id))
            return [(c.estimated, c.actual) for c in rows.all()]

    editing = asyncio.create_task(
        se_client.post(
            "/api/smart-edit/",
            json={"prompt": unique("a pier"), "instruction": "add fog [sim:slow=20]"},
            headers=headers,
        )
    )
    for _ in range(500):
        if await charges() != [] or editing.done():
            break
        await asyncio.sleep(0.02)
    editing.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await editing
    for _ in range(250):  # the refund's own task commits soon after
        if await charges() != [(1.0, None)]:
            break
        await asyncio.sleep(0.02)
    assert await charges() == [(1.0, 0.0)]
    usage = (await se_client.get("/api/auth/me/usage/", headers=headers)).json()
    assert usage["spent_today"] == 0
