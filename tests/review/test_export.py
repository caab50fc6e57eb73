"""The owner exports the storyboard as .docx and opens it: one row per asset, real thumbnails embedded."""

from __future__ import annotations

import io

from docx import Document
from docx.oxml.ns import qn
from PIL import Image

from core.contract import AssetStatus
from tests.builders import make_asset, make_box, make_project, png_bytes, register
from tests.review.helpers import make_storyboard, set_headliner

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
NO_HEADLINER = "No image selected yet"
NO_ASSETS = "No images yet"


async def _export(client, headers, project_id, scope=None):
    params = {"scope": scope} if scope else None
    response = await client.get(f"/api/projects/{project_id}/export/", params=params, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == DOCX
    assert "attachment" in response.headers["content-disposition"]
    assert ".docx" in response.headers["content-disposition"]
    return Document(io.BytesIO(response.content)), response


def _rows(document):
    table = document.tables[0]
    header = [cell.text for cell in table.rows[0].cells]
    assert header == ["Shot", "Image", "Prompt", "Model", "Seed", "Status"]
    return table.rows[1:]


def _images(document, row):
    """The image bytes embedded in the row's thumbnail cell."""
    blips = row.cells[1]._tc.xpath(".//a:blip")
    return [document.part.related_parts[blip.get(qn("r:embed"))].blob for blip in blips]


async def test_export_headliners(client, sessionmaker, storage):
    headers = await register(client)
    board = await make_storyboard(client, headers, sessionmaker, storage, name="Fox & Hound")
    blue = png_bytes(color="blue")
    storage.put_bytes(board.shots[0].headliner.thumbnail_key, blue, "image/jpeg")

    document, response = await _export(client, headers, board.project["id"], "headliners")
    assert 'filename="storyboard-fox-hound-headliners.docx"' in response.headers["content-disposition"]
    assert document.paragraphs[0].text == "Fox & Hound"
    rows = _rows(document)
    assert len(rows) == 3  # shot 3 has no headliner yet: it still has its row, with a placeholder
    assert [row.cells[0].paragraphs[0].text for row in rows] == ["SH010", "SH020", "SH030"]
    assert "Opening" in rows[0].cells[0].text
    assert [row.cells[2].text for row in rows[:2]] == [
        "Fox & Hound headliner prompt 1",
        "Fox & Hound headliner prompt 2",
    ]
    assert [row.cells[3].text for row in rows[:2]] == ["Nano Banana", "Nano Banana"]
    assert [row.cells[4].text for row in rows[:2]] == ["—", "—"]
    assert all(row.cells[5].paragraphs[0].text == "COMPLETED" for row in rows[:2])
    assert all("headliner" in row.cells[5].text for row in rows[:2])
    assert _images(document, rows[0]) == [blue]
    assert _images(document, rows[1]) == [png_bytes()]
    assert rows[2].cells[1].text == NO_HEADLINER and _images(document, rows[2]) == []
    for shot in board.shots:
        for hidden in shot.hidden:
            assert hidden.prompt not in "\n".join(row.cells[2].text for row in rows)

    default, _ = await _export(client, headers, board.project["id"])
    assert len(_rows(default)) == 3


async def test_headliners_export_lists_every_shot_in_order_with_a_placeholder(
    client, sessionmaker, storage, monkeypatch
):
    headers = await register(client)
    project = await make_project(client, headers, name="Every shot")
    titles = ["Cold open", "Title card", "The chase", "Aftermath", "End card"]
    boxes = [await make_box(client, headers, project["id"], title=title) for title in titles]
    # Only shots 2 and 4 have a headliner; shot 3 has variants but none chosen; 1 and 5 are empty.
    for index in (1, 3):
        chosen = await make_asset(
            sessionmaker, boxes[index]["id"], storage=storage, prompt=f"chosen {index + 1}"
        )
        assert chosen.id is not None
        await set_headliner(client, headers, boxes[index]["id"], chosen.id)
    await make_asset(sessionmaker, boxes[2]["id"], storage=storage, prompt="an unchosen variant")

    document, _ = await _export(client, headers, project["id"], "headliners")
    rows = _rows(document)
    assert [row.cells[0].paragraphs[0].text for row in rows] == ["SH010", "SH020", "SH030", "SH040", "SH050"]
    assert [row.cells[0].paragraphs[1].text for row in rows] == titles
    with_headliner = {1, 3}
    for index, row in enumerate(rows):
        if index in with_headliner:
            assert row.cells[2].text == f"chosen {index + 1}"
            assert len(_images(document, row)) == 1
        else:
            assert row.cells[1].text == NO_HEADLINER
            assert _images(document, row) == []
            assert row.cells[2].text == "—"
    assert "an unchosen variant" not in "\n".join(row.cells[2].text for row in rows)
    assert not any("no headliners" in p.text for p in document.paragraphs)

    # Paged, the same rows in the same order (placeholder rows have no asset to page by).
    import core.export

    for page_size in (1, 2):
        monkeypatch.setattr(core.export, "PAGE_SIZE", page_size)
        paged, _ = await _export(client, headers, project["id"], "headliners")
        assert [(r.cells[0].text, r.cells[1].text, r.cells[2].text) for r in _rows(paged)] == [
            (r.cells[0].text, r.cells[1].text, r.cells[2].text) for r in rows
        ]


async def test_all_assets_export_keeps_a_shot_without_assets(client, sessionmaker, storage):
    headers = await register(client)
    project = await make_project(client, headers)
    first = await make_box(client, headers, project["id"], title="Has one")
    await make_box(client, headers, project["id"], title="Nothing yet")
    await make_asset(sessionmaker, first["id"], storage=storage, prompt="the only asset")
    document, _ = await _export(client, headers, project["id"], "all")
    rows = _rows(document)
    assert [row.cells[0].text for row in rows] == ["SH010\nHas one", "SH020\nNothing yet"]
    assert rows[0].cells[2].text == "the only asset"
    assert rows[1].cells[1].text == NO_ASSETS and _images(document, rows[1]) == []


async def test_shots_print_their_codes_in_shot_order_after_a_reorder(client):
    headers = await register(client)
    project = await make_project(client, headers)
    boxes = [await make_box(client, headers, project["id"], title=title) for title in ("Dawn", "Noon")]
    await make_box(client, headers, project["id"], title="Flashback", position=1, code="FB-1")
    await client.patch(f"/api/boxes/{boxes[0]['id']}/", json={"position": 3}, headers=headers)
    document, _ = await _export(client, headers, project["id"], "all")
    assert [row.cells[0].text for row in _rows(document)] == ["FB-1\nFlashback", "SH020\nNoon", "SH010\nDawn"]


async def test_export_all_assets_with_videos_showing_their_source_image(client, sessionmaker, storage):
    headers = await register(client)
    board = await make_storyboard(client, headers, sessionmaker, storage, name="Alpha")
    first = board.shots[0]
    source_thumb = png_bytes(color="green")
    video_thumb = png_bytes(color="purple")
    storage.put_bytes(first.headliner.thumbnail_key, source_thumb, "image/jpeg")
    storage.put_bytes(first.video.thumbnail_key, video_thumb, "image/jpeg")
    failed = await make_asset(
        sessionmaker,
        board.shots[2].box["id"],
        status=AssetStatus.FAILED,
        prompt="Alpha failed prompt",
        error_message="Kie.ai rejected the prompt",
    )
    seeded = await make_asset(
        sessionmaker, board.shots[2].box["id"], storage=storage, prompt="Alpha seeded", seed=42
    )

    document, response = await _export(client, headers, board.project["id"], "all")
    assert "storyboard-alpha-all.docx" in response.headers["content-disposition"]
    rows = _rows(document)
    # shot 1: headliner, video, variant; shot 2: headliner, variant; shot 3: variant, failed, seeded
    assert len(rows) == 8
    assert [row.cells[0].paragraphs[0].text for row in rows] == [
        *["SH010"] * 3,
        *["SH020"] * 2,
        *["SH030"] * 3,
    ]
    prompts = [row.cells[2].text for row in rows]
    assert prompts == [
        "Alpha headliner prompt 1",
        "Alpha video prompt",
        "Alpha secret variant 1",
        "Alpha headliner prompt 2",
        "Alpha secret variant 2",
        "Alpha secret variant 3",
        failed.prompt,
        seeded.prompt,
    ]
    video_row = rows[1]
    assert video_row.cells[3].text == "Seedance 1.5 Pro"
    assert "video" in video_row.cells[5].text
    assert _images(document, video_row) == [source_thumb]  # the source image, not the video's own frame
    assert _images(document, rows[0]) == [source_thumb]
    failed_row = rows[6]
    assert failed_row.cells[5].paragraphs[0].text == "FAILED"
    assert failed_row.cells[1].text == "—" and _images(document, failed_row) == []
    # Nano Banana takes no seed: a stored seed would be misleading, so the storyboard shows "—"
    assert rows[7].cells[4].text == "—"
    embedded = [row for row in rows if _images(document, row)]
    assert len(embedded) == 7
    for row in embedded:
        for blob in _images(document, row):
            with Image.open(io.BytesIO(blob)) as image:
                assert image.size == (64, 48)


async def test_missing_thumbnail_still_exports_the_row(client, sessionmaker, storage):
    headers = await register(client)
    project = await make_project(client, headers)
    box = await make_box(client, headers, project["id"])
    asset = await make_asset(sessionmaker, box["id"], storage=storage, prompt="lost thumbnail")
    storage.delete_keys([asset.thumbnail_key])
    document, _ = await _export(client, headers, project["id"], "all")
    rows = _rows(document)
    assert [row.cells[2].text for row in rows] == ["lost thumbnail"]
    assert rows[0].cells[1].text == "—"


async def test_prompts_with_line_breaks_and_control_characters_export(client, sessionmaker, storage):
    headers = await register(client)
    project = await make_project(client, headers, name="Odd\x0b <name> & co")
    box = await make_box(client, headers, project["id"], title="<b>Title</b>")
    await make_asset(
        sessionmaker, box["id"], storage=storage, prompt="line one\nline\ttwo <tag> & \x0bvt\x1f"
    )
    document, _ = await _export(client, headers, project["id"], "all")
    assert document.paragraphs[0].text == "Odd <name> & co"
    (row,) = _rows(document)
    assert row.cells[2].text == "line one\nline\ttwo <tag> & vt"
    assert "<b>Title</b>" in row.cells[0].text
    assert len(_images(document, row)) == 1


async def test_empty_project_exports_a_valid_document(client):
    headers = await register(client)
    project = await make_project(client, headers, name="Nothing yet")
    for scope in ("headliners", "all"):
        document, _ = await _export(client, headers, project["id"], scope)
        assert document.paragraphs[0].text == "Nothing yet"
        assert _rows(document) == []
        assert any("no " in p.text for p in document.paragraphs)


async def test_export_refuses_strangers_and_bad_scopes(client):
    headers = await register(client)
    stranger = await register(client)
    project = await make_project(client, headers)
    assert (await client.get(f"/api/projects/{project['id']}/export/", headers=stranger)).status_code == 404
    assert (await client.get(f"/api/projects/{project['id']}/export/")).status_code == 401
    bad = await client.get(
        f"/api/projects/{project['id']}/export/", params={"scope": "everything"}, headers=headers
    )
    assert bad.status_code == 422


async def test_paging_through_assets_keeps_every_row_once_and_in_order(
    client, sessionmaker, storage, monkeypatch
):
    import core.export

    headers = await register(client)
    board = await make_storyboard(client, headers, sessionmaker, storage, name="Paged")
    whole, _ = await _export(client, headers, board.project["id"], "all")
    expected = [(row.cells[0].paragraphs[0].text, row.cells[2].text) for row in _rows(whole)]
    assert len(expected) == 6
    for page_size in (1, 2, 4):
        monkeypatch.setattr(core.export, "PAGE_SIZE", page_size)
        paged, _ = await _export(client, headers, board.project["id"], "all")
        rows = _rows(paged)
        assert [(row.cells[0].paragraphs[0].text, row.cells[2].text) for row in rows] == expected, page_size
        assert all(_images(paged, row) for row in rows)
