"""The Kie.ai client against the simulator: typed errors, envelopes, credits, download-url, chat."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import httpx
import pytest

from core.contract import (
    KieAuthError,
    KieContentPolicyError,
    KieGenerationFailedError,
    KieInvalidInputError,
    KieNoCreditsError,
    KieNotFoundError,
    KieProtocolError,
    KieRateLimitedError,
    KieTimeoutError,
    KieUnavailableError,
)
from core.kie import (
    KieClient,
    KieTask,
    _message,
    parse_task_record,
    verify_webhook_signature,
    webhook_signature,
)
from tests.pipeline.fixtures import SimulatorProcess


@pytest.fixture
async def kie(kie_simulator: SimulatorProcess) -> AsyncIterator[KieClient]:
    client = KieClient(kie_simulator.url, kie_simulator.api_key, timeout=3)
    yield client
    await client.aclose()


async def finished(kie: KieClient, task_id: str) -> KieTask:
    async with asyncio.timeout(30):
        while not (task := await kie.record_info(task_id)).is_terminal:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    return task


async def test_a_task_runs_to_success_and_costs_credits(kie: KieClient) -> None:
    before = await kie.credits()
    task_id = await kie.create_task("google/nano-banana", {"prompt": "a kettle", "output_format": "jpeg"})
    assert len(task_id) == 32 and int(task_id, 16) >= 0
    task = await finished(kie, task_id)
    assert task.state == "success" and task.credits_consumed == 4
    assert await kie.credits() <= before - 4
    data, content_type = await kie.fetch_file(task.result_urls[0], 10_000_000)
    assert content_type == "image/jpeg" and data[:3] == b"\xff\xd8\xff"
    fresh = await kie.download_url(task.result_urls[0])
    assert fresh != task.result_urls[0] and (await kie.fetch_file(fresh, 10_000_000))[0] == data


@pytest.mark.parametrize(
    ("prompt", "error"),
    [
        ("x [sim:code=401]", KieAuthError),
        ("x [sim:code=402]", KieNoCreditsError),
        ("x [sim:code=422]", KieInvalidInputError),
        ("x [sim:code=455]", KieUnavailableError),
        ("x [sim:http=500]", KieUnavailableError),
        ("x [sim:http=502]", KieUnavailableError),
        ("x [sim:429]", KieRateLimitedError),
        ("x [sim:slow=5]", KieTimeoutError),
    ],
)
async def test_create_task_errors_are_typed(kie: KieClient, prompt: str, error: type[Exception]) -> None:
    with pytest.raises(error) as raised:
        await kie.create_task("google/nano-banana", {"prompt": prompt})
    assert str(raised.value).startswith("Kie.ai")


async def test_invalid_input_is_refused_per_model(kie: KieClient) -> None:
    for model, data in [
        ("google/nano-banana", {"prompt": "x", "aspect_ratio": "7:1"}),
        ("google/nano-banana", {"prompt": "x", "seed": 4}),
        ("google/nano-banana-edit", {"prompt": "x"}),
        ("bytedance/seedance-1.5-pro", {"prompt": "a boat", "duration": 5, "aspect_ratio": "16:9"}),
        ("bytedance/seedance-1.5-pro", {"prompt": "a boat"}),
        ("no/model", {"prompt": "x"}),
    ]:
        with pytest.raises(KieInvalidInputError):
            await kie.create_task(model, data)


async def test_failed_tasks_and_odd_answers(kie: KieClient) -> None:
    policy = await finished(kie, await kie.create_task("google/nano-banana", {"prompt": "[sim:policy]"}))
    assert isinstance(policy.failure(), KieContentPolicyError)
    failed = await finished(
        kie, await kie.create_task("google/nano-banana", {"prompt": "[sim:fail=out of GPUs]"})
    )
    assert isinstance(failed.failure(), KieGenerationFailedError)
    assert "out of GPUs" in failed.failure().message
    malformed = await kie.create_task("google/nano-banana", {"prompt": "[sim:malformed]"})
    with pytest.raises(KieProtocolError):
        await kie.record_info(malformed)
    with pytest.raises(KieNotFoundError):
        await kie.record_info("f" * 32)
    with pytest.raises(KieInvalidInputError):
        await kie.download_url("https://example.com/not-from-kie.png")
    with pytest.raises(KieAuthError):
        await KieClient(kie.base_url, "wrong-key").credits()


def test_envelopes_and_records_are_read_defensively() -> None:
    assert _message({"code": 500, "message": "from message"}) == "from message"
    assert _message({"code": 500, "msg": "from msg", "message": "ignored"}) == "from msg"
    record = {
        "taskId": "t1",
        "state": "success",
        "resultJson": json.dumps({"resultUrls": ["https://x/1.png"]}),
        "consumeCredits": "8",
    }
    task = parse_task_record(record)
    assert task.result_urls == ["https://x/1.png"] and task.credits_consumed == 8
    assert parse_task_record({"task_id": "t2", "state": "generating", "resultJson": ""}).task_id == "t2"
    for bad in [
        {"taskId": "t", "state": "success", "resultJson": "{"},
        {"taskId": "t", "state": "success"},
        [],
    ]:
        with pytest.raises(KieProtocolError):
            parse_task_record(bad)
    signature = webhook_signature("key", "t1", "1700000000")
    assert verify_webhook_signature("key", "t1", "1700000000", signature)
    assert not verify_webhook_signature("key", "t1", "1700000001", signature)


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        ("Prompt: a cat on a roof.\nInstruction: make it night time.", "a cat on a roof, night time"),
        ('{"prompt": "a cat on a roof", "instruction": "replace cat with fox"}', "a fox on a roof"),
        ("Prompt: a red car, rain, city\nInstruction: remove rain", "a red car, city"),
        ("Prompt: a red car\nInstruction: replace bike with dog", "a red car, dog"),
        ("just some text", "Rewritten: just some text"),
    ],
)
async def test_chat_rewrites_deterministically(kie: KieClient, user: str, expected: str) -> None:
    messages = [
        {"role": "system", "content": [{"type": "text", "text": "Rewrite prompts."}]},
        {"role": "user", "content": user},
    ]
    assert await kie.chat_completion("gemini-2.5-flash", messages) == expected


async def test_chat_streams_when_asked_and_fails_typed(
    kie: KieClient, kie_simulator: SimulatorProcess
) -> None:
    async with httpx.AsyncClient() as http:
        response = await http.post(
            f"{kie_simulator.url}/gemini-2.5-flash/v1/chat/completions",
            json={"messages": [{"role": "user", "content": "hello"}]},
            headers={"Authorization": f"Bearer {kie_simulator.api_key}"},
        )
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.text.rstrip().endswith("data: [DONE]")
    with pytest.raises(KieUnavailableError):
        await kie.chat_completion("gemini-2.5-flash", [{"role": "user", "content": "x [sim:http=500]"}])
    with pytest.raises(KieTimeoutError):
        await kie.chat_completion("gemini-2.5-flash", [{"role": "user", "content": "x [sim:slow=5]"}])
    with pytest.raises(KieProtocolError):
        await kie.chat_completion("gemini-2.5-flash", [{"role": "user", "content": "x [sim:malformed]"}])
    with pytest.raises(KieNotFoundError):
        await kie.chat_completion("no-such-llm", [{"role": "user", "content": "x"}])
