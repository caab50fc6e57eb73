"""Calls from AI providers: the Kie.ai task callback (HMAC-checked when a key is set), relayed as a signal."""

import json

from fastapi import APIRouter, Header, Request

from api.deps import ObjectId, SettingsDep
from api.errors import error_responses
from core import generation
from core.errors import InvalidInput

router = APIRouter(tags=["providers"])

MAX_CALLBACK_BYTES = 1024 * 1024


@router.post("/api/providers/kie/callback/{asset_id}/", responses=error_responses(401, 503))
async def kie_callback(
    asset_id: ObjectId,
    request: Request,
    settings: SettingsDep,
    x_webhook_timestamp: str | None = Header(default=None),
    x_webhook_signature: str | None = Header(default=None),
) -> dict[str, str]:
    """Always 2xx for a well-formed (and, with a key, well-signed) callback, even when nothing waits for it."""
    raw = await request.body()
    if len(raw) > MAX_CALLBACK_BYTES:
        raise InvalidInput("The callback body is too large.")
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise InvalidInput("The callback body is not JSON.") from None
    task_id, state = generation.read_callback_task_id(
        settings, body, x_webhook_timestamp, x_webhook_signature
    )
    # Only now (not as a dependency): a callback that is not well-formed or well-signed never waits for Temporal.
    temporal = await request.app.state.temporal.get()
    delivered = await generation.deliver_kie_callback(temporal, settings, asset_id, task_id, state)
    return {"status": "delivered" if delivered else "ignored"}
