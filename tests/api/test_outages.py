"""When Temporal is unreachable, routes that need it answer 503 with a sentence, and REST reads keep working."""

from devstack.services import free_port
from tests.builders import app_client, make_box, make_project, register


async def test_generation_without_temporal_is_503_and_reads_still_work(settings):
    cut_off = settings.model_copy(update={"temporal_address": f"127.0.0.1:{free_port()}"})
    async with app_client(cut_off) as client:
        headers = await register(client)
        project = await make_project(client, headers)
        box = await make_box(client, headers, project["id"])
        response = await client.post(
            f"/api/boxes/{box['id']}/generate/",
            json={"model": "google/nano-banana", "prompt": "a lighthouse at night"},
            headers=headers,
        )
        assert response.status_code == 503, response.text
        assert "unavailable" in response.json()["detail"] or "unreachable" in response.json()["detail"]
        listed = await client.get(f"/api/boxes/{box['id']}/assets/", headers=headers)
        assert listed.status_code == 200
        assert listed.json()["total"] == 0  # nothing half-written
        health = await client.get("/api/health/")
        assert health.status_code == 503
        assert health.json()["checks"]["temporal"]["ok"] is False
        assert health.json()["checks"]["database"]["ok"] is True
