"""Generation requests that cannot be served answer a clear 4xx and start nothing; uploads make usable assets."""

from __future__ import annotations

import io
import json
import uuid
from typing import Any

import httpx
import pytest
from PIL import Image
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.client import Client, Interceptor, OutboundInterceptor, StartWorkflowInput, WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError, RPCStatusCode

from api.main import create_app
from core.contract import AssetKind, AssetStatus
from core.events import project_stream
from core.generation import NOT_STARTED_DISCARDED
from core.models import Asset
from core.settings import Settings
from core.storage import Storage
from core.temporal import connect_temporal
from tests.builders import make_asset, make_box, make_project, png_bytes, register


async def setup_box(client: httpx.AsyncClient) -> tuple[dict[str, str], dict, dict]:
    headers = await register(client)
    project = await make_project(client, headers)
    box = await make_box(client, headers, project["id"])
    return headers, project, box


async def asset_count(sessionmaker: async_sessionmaker[AsyncSession], box_id: int) -> int:
    async with sessionmaker() as session:
        return len((await session.exec(select(Asset.id).where(Asset.box_id == box_id))).all())


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"model": "no/such-model", "prompt": "a fox"}, "Unknown or inactive model"),
        ({"model": "bytedance/seedance-1.5-pro", "prompt": "a fox running"}, "does not make images"),
        ({"model": "gemini-2.5-flash", "prompt": "a fox"}, "does not make images"),
        ({"model": "google/nano-banana", "prompt": "x" * 5001}, "at most 5000"),
        ({"model": "google/nano-banana", "prompt": "   "}, "at least 1"),
        ({"model": "google/nano-banana", "prompt": "a fox", "params": {"seed": 3}}, "does not take seed"),
        (
            {"model": "google/nano-banana", "prompt": "a fox", "params": {"aspect_ratio": "7:3"}},
            "aspect_ratio",
        ),
        (
            {"model": "google/nano-banana", "prompt": "a fox", "params": {"output_format": "gif"}},
            "output_format",
        ),
        (
            {"model": "google/nano-banana", "prompt": "a fox", "input_asset_ids": [1]},
            "does not take input images",
        ),
        ({"model": "google/nano-banana-edit", "prompt": "a fox"}, "takes 1 to 10 input image"),
    ],
)
async def test_generate_refuses_what_the_model_cannot_do(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], body: dict, fragment: str
) -> None:
    headers, _, box = await setup_box(client)
    response = await client.post(f"/api/boxes/{box['id']}/generate/", json=body, headers=headers)
    assert response.status_code == 422, response.text
    assert fragment in response.json()["detail"]
    assert await asset_count(sessionmaker, box["id"]) == 0


@pytest.mark.parametrize(
    "body",
    [
        {"model": "google/nano-banana", "prompt": "a fox", "count": 5},
        {"model": "google/nano-banana", "prompt": "a fox", "count": 0},
        {"model": "google/nano-banana", "prompt": "a fox", "seed": 1},
        {"prompt": "a fox"},
    ],
)
async def test_generate_validates_the_body(client: httpx.AsyncClient, body: dict) -> None:
    headers, _, box = await setup_box(client)
    response = await client.post(f"/api/boxes/{box['id']}/generate/", json=body, headers=headers)
    assert response.status_code == 422


async def test_someone_elses_box_and_asset_answer_404(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], storage: Storage
) -> None:
    _, _, box = await setup_box(client)
    image = await make_asset(sessionmaker, box["id"], storage=storage)
    stranger = await register(client)
    body = {"model": "google/nano-banana", "prompt": "a fox"}
    assert (
        await client.post(f"/api/boxes/{box['id']}/generate/", json=body, headers=stranger)
    ).status_code == 404
    animate = await client.post(
        f"/api/assets/{image.id}/animate/", json={"prompt": "it moves"}, headers=stranger
    )
    assert animate.status_code == 404
    assert (await client.post(f"/api/assets/{image.id}/retry/", headers=stranger)).status_code == 404
    upload = await client.post(
        f"/api/boxes/{box['id']}/upload/",
        files={"file": ("a.png", png_bytes(), "image/png")},
        headers=stranger,
    )
    assert upload.status_code == 404


async def test_edit_inputs_must_be_completed_images_of_the_same_project(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], storage: Storage
) -> None:
    headers, _, box = await setup_box(client)
    other_project = await make_project(client, headers)
    other_box = await make_box(client, headers, other_project["id"])
    elsewhere = await make_asset(sessionmaker, other_box["id"], storage=storage)
    failed = await make_asset(sessionmaker, box["id"], status=AssetStatus.FAILED)
    for ids in ([elsewhere.id], [failed.id], [999_999_999]):
        response = await client.post(
            f"/api/boxes/{box['id']}/generate/",
            json={"model": "google/nano-banana-edit", "prompt": "make it blue", "input_asset_ids": ids},
            headers=headers,
        )
        assert response.status_code == 422, response.text
        assert response.json()["details"]["invalid_input_asset_ids"] == ids


async def test_animate_needs_a_completed_image_and_a_video_model(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], storage: Storage
) -> None:
    headers, _, box = await setup_box(client)
    image = await make_asset(sessionmaker, box["id"], storage=storage)
    failed = await make_asset(sessionmaker, box["id"], status=AssetStatus.FAILED)
    video = await make_asset(
        sessionmaker, box["id"], kind=AssetKind.VIDEO, model="bytedance/seedance-1.5-pro", params={}
    )
    cases = [
        (failed.id, {"prompt": "it moves"}, "Only a completed image"),
        (video.id, {"prompt": "it moves"}, "Only an image"),
        (image.id, {"prompt": "it moves", "model": "google/nano-banana"}, "does not make videos"),
        (image.id, {"prompt": "it moves", "params": {"duration": 5}}, "duration must be one of 4, 8, 12"),
        (
            image.id,
            {"prompt": "it moves", "params": {"fixed_lens": "yes"}},
            "fixed_lens must be true or false",
        ),
        (image.id, {"prompt": "it moves", "params": {"camera_fixed": True}}, "does not take camera_fixed"),
        (image.id, {"prompt": "go"}, "at least 3"),
    ]
    for asset_id, body, fragment in cases:
        response = await client.post(f"/api/assets/{asset_id}/animate/", json=body, headers=headers)
        assert response.status_code == 422, (body, response.text)
        assert fragment in response.json()["detail"], (body, response.text)
    assert await asset_count(sessionmaker, box["id"]) == 3


async def test_only_failed_generated_assets_can_be_retried(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], storage: Storage
) -> None:
    headers, _, box = await setup_box(client)
    done = await make_asset(sessionmaker, box["id"], storage=storage)
    response = await client.post(f"/api/assets/{done.id}/retry/", headers=headers)
    assert response.status_code == 409
    assert "Only a failed asset" in response.json()["detail"]


async def test_upload_makes_a_completed_image_checked_by_content(
    client: httpx.AsyncClient, storage: Storage
) -> None:
    headers, _, box = await setup_box(client)
    buffer = io.BytesIO()
    Image.new("RGB", (300, 200), "teal").save(buffer, format="WEBP")
    # The name and the declared type lie; the content decides.
    response = await client.post(
        f"/api/boxes/{box['id']}/upload/",
        files={"file": ("photo.png", buffer.getvalue(), "image/png")},
        data={"prompt": "my reference"},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    asset = response.json()
    assert asset["status"] == "COMPLETED" and asset["kind"] == "image" and asset["model"] is None
    assert (asset["mime_type"], asset["width"], asset["height"]) == ("image/webp", 300, 200)
    assert asset["prompt"] == "my reference"
    assert storage.get_bytes(f"assets/{asset['id']}/original.webp") == buffer.getvalue()
    assert storage.exists(f"assets/{asset['id']}/thumbnail.jpg")


@pytest.mark.parametrize(
    ("content", "name"),
    [(b"GIF89a" + b"\0" * 100, "a.gif"), (b"hello, not an image", "notes.png"), (b"", "empty.jpg")],
)
async def test_upload_refuses_what_is_not_png_jpeg_or_webp(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], content: bytes, name: str
) -> None:
    headers, _, box = await setup_box(client)
    response = await client.post(
        f"/api/boxes/{box['id']}/upload/", files={"file": (name, content, "image/png")}, headers=headers
    )
    assert response.status_code == 422, response.text
    assert "PNG, JPEG or WebP" in response.json()["detail"]
    assert await asset_count(sessionmaker, box["id"]) == 0


async def test_upload_refuses_a_file_over_the_limit(
    client: httpx.AsyncClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    headers, _, box = await setup_box(client)
    monkeypatch.setattr(settings, "max_upload_bytes", 1024)
    response = await client.post(
        f"/api/boxes/{box['id']}/upload/",
        files={"file": ("big.png", png_bytes((400, 400)) + b"\0" * 2048, "image/png")},
        headers=headers,
    )
    assert response.status_code == 413
    assert (await client.post(f"/api/boxes/{box['id']}/upload/", headers=headers)).status_code == 422


class RefuseNthStart(Interceptor):
    """Temporal refuses the n-th workflow start (as an overloaded or restarting frontend does); the rest go through
    to the real server."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.calls = 0

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        owner = self

        class Refusing(OutboundInterceptor):
            async def start_workflow(self, input: StartWorkflowInput) -> WorkflowHandle[Any, Any]:
                owner.calls += 1
                if owner.calls == owner.n:
                    raise RPCError("frontend is overloaded", RPCStatusCode.RESOURCE_EXHAUSTED, b"")
                return await super().start_workflow(input)

        return Refusing(next)


class FixedClient:
    def __init__(self, client: Client) -> None:
        self.client = client

    async def get(self) -> Client:
        return self.client


async def test_when_the_third_variant_cannot_start_the_started_ones_stay_pending_and_it_is_discarded(
    settings: Settings,
) -> None:
    queue = (
        f"half-started-{uuid.uuid4().hex[:8]}"  # no worker: started workflows wait, their assets stay PENDING
    )
    app = create_app(settings.model_copy(update={"temporal_task_queue": queue}))
    async with app.router.lifespan_context(app):
        real = await connect_temporal(settings)
        refusing = Client(
            real.service_client,
            namespace=settings.temporal_namespace,
            data_converter=pydantic_data_converter,
            interceptors=[RefuseNthStart(3)],
        )
        app.state.temporal = FixedClient(refusing)
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            headers, project, box = await setup_box(client)
            response = await client.post(
                f"/api/boxes/{box['id']}/generate/",
                json={"model": "google/nano-banana", "prompt": "four lighthouses", "count": 4},
                headers=headers,
            )
            assert response.status_code == 503, response.text
            body = response.json()
            assert body["code"] == "upstream_unavailable"
            started, discarded = body["details"]["started_asset_ids"], body["details"]["discarded_asset_ids"]
            assert len(started) == 3 and len(discarded) == 1
            assert body["detail"] == (
                "The job service (Temporal) is unavailable: only 3 of the 4 generations were started (assets "
                f"{', '.join(map(str, started))}); the other 1 was not started or saved. Generate the missing ones "
                "again in a moment."
            )

            listed = (await client.get(f"/api/boxes/{box['id']}/assets/", headers=headers)).json()["items"]
            assert {asset["id"]: asset["status"] for asset in listed} == dict.fromkeys(started, "PENDING")
            for asset_id in started:  # their workflows exist and will run
                await real.get_workflow_handle(f"asset-{asset_id}").terminate("test over")
            with pytest.raises(RPCError):
                await real.get_workflow_handle(f"asset-{discarded[0]}").describe()
            events = await app.state.events.redis.xrange(project_stream(project["id"]))
            sent = [json.loads(fields[b"e"])["data"] for _, fields in events]
            # All four announced PENDING before their starts; the discarded one then taken off the viewers' screens
            # (a final status makes the SPA reload the box's assets, which no longer hold it).
            assert [(d["asset_id"], d["status"]) for d in sent[:4]] == [
                (i, "PENDING") for i in sorted(started + discarded)
            ]
            assert [(d["asset_id"], d["status"], d["error_message"]) for d in sent[4:]] == [
                (discarded[0], "FAILED", NOT_STARTED_DISCARDED)
            ]
