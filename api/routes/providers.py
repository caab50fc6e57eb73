"""Calls from AI providers: the Kie.ai task callback (HMAC-checked when a key is set), relayed as a signal.

Callbacks only speed a generation up (polling finds every task's end anyway), so whatever cannot be trusted is
answered without reaching the workflow: in production without KIE_WEBHOOK_HMAC_KEY callbacks are off; a body over
64 KiB is refused unread; a task id other than the one the asset's workflow submitted is ignored."""

import json

from fastapi import APIRouter, Header, Request

from api.deps import ObjectId, SessionDep, SettingsDep, TemporalConnectionDep
from api.errors import error_responses
from core import generation, kie
from core.db import release_connection
from core.errors import Forbidden, InvalidInput, PayloadTooLarge

router = APIRouter(tags=["providers"])

CALLBACKS_OFF = (
    "Kie.ai callbacks are turned off on this server (production without KIE_WEBHOOK_HMAC_KEY); "
    "generations are followed by polling."
)


async def read_bounded_body(request: Request, limit: int) -> bytes:
    """The body, refused with 413 as soon as it (or its announced length) passes `limit` bytes."""
    too_large = PayloadTooLarge(f"The callback body is larger than {limit // 1024} KiB.")
    announced = request.headers.get("content-length", "")
    if announced.isdigit() and int(announced) > limit:
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise too_large
    return bytes(body)


@router.post("/api/providers/kie/callback/{asset_id}/", responses=error_responses(401, 403, 413, 503))
async def kie_callback(
    asset_id: ObjectId,
    request: Request,
    settings: SettingsDep,
    session: SessionDep,
    connection: TemporalConnectionDep,
    x_webhook_timestamp: str | None = Header(default=None),
    x_webhook_signature: str | None = Header(default=None),
) -> dict[str, str]:
    """Always 2xx for a well-formed (and, with a key, well-signed) callback, even when nothing waits for it."""
    if not settings.kie_callbacks_enabled:
        raise Forbidden(CALLBACKS_OFF)
    raw = await read_bounded_body(request, kie.MAX_CALLBACK_BYTES)
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise InvalidInput("The callback body is not JSON.") from None
    task_id, state = kie.read_callback_task_id(settings, body, x_webhook_timestamp, x_webhook_signature)
    if not await generation.callback_is_for_submitted_task(session, asset_id, task_id):
        return {"status": "ignored"}
    await release_connection(session)
    # Connected only now (not through TemporalDep): a callback that is not well-formed or well-signed never waits
    # for Temporal.
    temporal = await connection.get()
    delivered = await generation.deliver_kie_callback(temporal, settings, asset_id, task_id, state)
    return {"status": "delivered" if delivered else "ignored"}
