"""The one builder of the asset status event from an Asset row: the payload every publisher sent before it existed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from core.contract import AssetKind, AssetStatus
from core.events import EventType, asset_status_changed, asset_status_event
from core.models import Asset

ROOT = Path(__file__).resolve().parents[2]


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


def test_publishers_do_not_load_the_tables_through_core_events() -> None:
    code = "import sys, core.events; print('core.models' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
