"""The one builder of the asset status event from an Asset row: the payload every publisher sent before it existed."""

from __future__ import annotations

import json

from core.contract import AssetKind, AssetStatus
from core.events import EventType, asset_status_changed, asset_status_event
from core.models import Asset


def test_the_event_says_what_the_row_says() -> None:
    asset = Asset(
        id=41,
        box_id=7,
        kind=AssetKind.VIDEO,
        status=AssetStatus.FAILED,
        error_message="Kie.ai was busy.",
        prompt="a red fox",
        model_id=1,
        params={},
    )
    event = asset_status_event(asset, 3, thumbnail_url="https://s3/t.jpg", file_url="https://s3/f.mp4")
    assert event.type is EventType.ASSET_STATUS_CHANGED
    assert event.project_id == 3
    assert event.data == {
        "asset_id": 41,
        "box_id": 7,
        "kind": "video",
        "status": "FAILED",
        "error_message": "Kie.ai was busy.",
        "thumbnail_url": "https://s3/t.jpg",
        "file_url": "https://s3/f.mp4",
    }
    # The same JSON on the wire as the field-by-field builder the publishers called before.
    by_fields = asset_status_changed(
        project_id=3,
        asset_id=41,
        box_id=7,
        kind=AssetKind.VIDEO.value,
        status=AssetStatus.FAILED.value,
        error_message="Kie.ai was busy.",
        thumbnail_url="https://s3/t.jpg",
        file_url="https://s3/f.mp4",
    )
    assert json.loads(event.body_json()) | {"ts": 0} == json.loads(by_fields.body_json()) | {"ts": 0}
