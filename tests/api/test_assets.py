"""Assets in a box: filters, favourites, and deletion that takes the S3 objects with it."""

from core.contract import AssetKind, AssetStatus
from tests.builders import make_asset, make_box, make_project, register


async def test_filters_and_pagination(client, sessionmaker, storage):
    headers = await register(client)
    project = await make_project(client, headers)
    box = await make_box(client, headers, project["id"])
    fav = await make_asset(sessionmaker, box["id"], storage=storage, is_favorite=True)
    await make_asset(sessionmaker, box["id"], storage=storage)
    await make_asset(sessionmaker, box["id"], status=AssetStatus.FAILED, error_message="Kie.ai said no")
    await make_asset(
        sessionmaker,
        box["id"],
        kind=AssetKind.VIDEO,
        model="bytedance/seedance-1.5-pro",
        status=AssetStatus.RUNNING,
    )
    url = f"/api/boxes/{box['id']}/assets/"

    async def ids(query):
        response = await client.get(url + query, headers=headers)
        assert response.status_code == 200, response.text
        return response.json()

    assert (await ids(""))["total"] == 4
    assert (await ids("?kind=video"))["total"] == 1
    assert (await ids("?status=FAILED"))["items"][0]["error_message"] == "Kie.ai said no"
    favourites = await ids("?is_favorite=true")
    assert [a["id"] for a in favourites["items"]] == [fav.id]
    page = await ids("?limit=3&offset=3")
    assert page["total"] == 4 and len(page["items"]) == 1

    for bad in (
        "?kind=audio",
        "?status=DONE",
        "?limit=0",
        "?limit=100000",
        "?offset=-1",
        "?is_favorite=maybe",
    ):
        response = await client.get(url + bad, headers=headers)
        assert response.status_code == 422, bad


async def test_favourite_toggle_and_read(client, sessionmaker, storage):
    headers = await register(client)
    project = await make_project(client, headers)
    box = await make_box(client, headers, project["id"])
    asset = await make_asset(sessionmaker, box["id"], storage=storage)
    on = await client.patch(f"/api/assets/{asset.id}/", json={"is_favorite": True}, headers=headers)
    assert on.status_code == 200 and on.json()["is_favorite"] is True
    read = (await client.get(f"/api/assets/{asset.id}/", headers=headers)).json()
    assert read["is_favorite"] is True
    assert read["file_url"] and "X-Amz-Signature" in read["file_url"]
    bad = await client.patch(f"/api/assets/{asset.id}/", json={"is_favorite": "yes please"}, headers=headers)
    assert bad.status_code == 422
    empty = await client.patch(f"/api/assets/{asset.id}/", json={}, headers=headers)
    assert empty.status_code == 422


async def test_delete_asset_removes_s3_objects_and_clears_headliner(client, sessionmaker, storage):
    headers = await register(client)
    project = await make_project(client, headers)
    box = await make_box(client, headers, project["id"])
    asset = await make_asset(sessionmaker, box["id"], storage=storage)
    assert storage.exists(asset.file_key) and storage.exists(asset.thumbnail_key)
    await client.patch(f"/api/boxes/{box['id']}/", json={"headliner_id": asset.id}, headers=headers)

    assert (await client.delete(f"/api/assets/{asset.id}/", headers=headers)).status_code == 204
    assert not storage.exists(asset.file_key)
    assert not storage.exists(asset.thumbnail_key)
    assert (await client.get(f"/api/assets/{asset.id}/", headers=headers)).status_code == 404
    assert (await client.get(f"/api/boxes/{box['id']}/", headers=headers)).json()["headliner_id"] is None


async def test_delete_box_and_project_remove_their_objects(client, sessionmaker, storage):
    headers = await register(client)
    project = await make_project(client, headers)
    box = await make_box(client, headers, project["id"])
    box2 = await make_box(client, headers, project["id"])
    a1 = await make_asset(sessionmaker, box["id"], storage=storage)
    a2 = await make_asset(sessionmaker, box2["id"], storage=storage)
    assert (await client.delete(f"/api/boxes/{box['id']}/", headers=headers)).status_code == 204
    assert not storage.exists(a1.file_key) and storage.exists(a2.file_key)
    assert (await client.delete(f"/api/projects/{project['id']}/", headers=headers)).status_code == 204
    assert not storage.exists(a2.file_key)
    assert (await client.get(f"/api/boxes/{box2['id']}/", headers=headers)).status_code == 404


async def test_models_catalogue_lists_seeded_models_with_capabilities(client):
    headers = await register(client)
    response = await client.get("/api/models/", headers=headers)
    assert response.status_code == 200
    models = {m["provider_model_id"]: m for m in response.json()}
    assert {"google/nano-banana", "google/nano-banana-edit", "bytedance/seedance-1.5-pro"} <= set(models)
    seedance = models["bytedance/seedance-1.5-pro"]
    assert seedance["kind"] == "video"
    assert seedance["capabilities"]["params"]["duration"]["values"] == [4, 8, 12]
    assert models["google/nano-banana-edit"]["capabilities"]["input_images"]["max"] == 10
    images = (await client.get("/api/models/?kind=image", headers=headers)).json()
    assert {m["kind"] for m in images} == {"image"}
    assert (await client.get("/api/models/")).status_code == 401
