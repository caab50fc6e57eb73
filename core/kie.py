"""The Kie.ai HTTP client: Market tasks (createTask, recordInfo), chat completions, credits, download-url; and
reading the callbacks Kie.ai sends back (task id, state, HMAC signature).

Every call checks both the HTTP status and the body `code` (Kie.ai sometimes answers HTTP 200 with an error body),
reads `msg` falling back to `message`, parses JSON without trusting the Content-Type, and raises one typed
`KieError` subclass (defined in `core.contract`: activities fail with their names). `retryable` on each error
class says whether trying again can help.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from core.contract import (
    KIE_TERMINAL_STATES,
    KieAuthError,
    KieContentPolicyError,
    KieError,
    KieGenerationFailedError,
    KieInvalidInputError,
    KieNoCreditsError,
    KieNotFoundError,
    KieProtocolError,
    KieRateLimitedError,
    KieState,
    KieTimeoutError,
    KieUnavailableError,
)
from core.errors import InvalidInput, Unauthorized
from core.settings import Settings

logger = logging.getLogger(__name__)

SIMULATOR_API_KEY = "aiam-local-simulator"
"""Not a secret: the key the client sends to the built-in simulator when KIE_API_KEY is unset."""

POLICY_WORDS = ("policy", "prohibited", "nsfw", "sensitive", "safety", "flagged", "inappropriate")

CALLBACK_MAX_AGE_SECONDS = 24 * 3600
MAX_TIMESTAMP_DIGITS = 12
MAX_TASK_ID_LENGTH = 128
MAX_CALLBACK_BYTES = 64 * 1024
"""A Kie.ai callback is a few hundred bytes (result URLs included); anything far larger is refused unread."""
MAX_CALLBACK_STATE_LENGTH = 32
"""Kie.ai's states are short words ("success", "fail"); a longer one is not relayed to the workflow."""


def looks_like_policy(message: str) -> bool:
    lowered = message.lower()
    return any(word in lowered for word in POLICY_WORDS)


def error_for_code(code: int, message: str, what: str) -> KieError:
    """The typed error for a Kie.ai error `code` (body or HTTP status)."""
    said = f"Kie.ai {what} failed: {message or 'no message'} (code {code})."
    kind: type[KieError]
    if code == 401:
        kind = KieAuthError
        said = f"Kie.ai refused the API key: {message or 'unauthorized'} (code 401)."
    elif code in (402, 433):
        kind = KieNoCreditsError
        said = f"Kie.ai has no credits left for this key: {message or 'insufficient credits'} (code {code})."
    elif code in (400, 422, 505):
        kind = KieContentPolicyError if looks_like_policy(message) else KieInvalidInputError
        said = f"Kie.ai rejected the request: {message or 'invalid input'} (code {code})."
    elif code == 404:
        kind = KieNotFoundError
    elif code == 429:
        kind = KieRateLimitedError
        said = f"Kie.ai is rate limiting requests: {message or 'rate limit exceeded'} (code 429)."
    elif code == 501:
        kind = KieGenerationFailedError
    elif code in (408, 455) or code >= 500:
        kind = KieUnavailableError
        said = f"Kie.ai is unavailable: {message or 'server error'} (code {code})."
    else:
        kind = KieProtocolError
    return kind(said, code=code, provider_message=message or None)


@dataclass(frozen=True)
class KieTask:
    """One task record, from recordInfo or from a callback body."""

    task_id: str
    state: str
    result_urls: list[str] = field(default_factory=list)
    fail_code: str = ""
    fail_msg: str = ""
    credits_consumed: float | None = None
    cost_time: int | None = None

    @property
    def is_terminal(self) -> bool:
        return self.state in KIE_TERMINAL_STATES

    def failure(self) -> KieError:
        """The typed error of a task that ended in `fail`."""
        message = self.fail_msg or "no reason given"
        try:
            code = int(self.fail_code)
        except ValueError:
            code = 0
        if looks_like_policy(message):
            return KieContentPolicyError(
                f"Kie.ai rejected the prompt: {message}.", code=code, provider_message=message
            )
        if code in (400, 422):
            return KieInvalidInputError(
                f"Kie.ai rejected the request: {message}.", code=code, provider_message=message
            )
        if code in (401, 402):
            return error_for_code(code, message, "generation")
        return KieGenerationFailedError(
            f"Kie.ai could not generate it: {message}" + (f" (code {code})." if code else "."),
            code=code or None,
            provider_message=message,
        )


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def parse_task_record(data: Any) -> KieTask:
    """Read a recordInfo `data` object (also the callback's `data`); `resultJson` is a JSON string."""
    if not isinstance(data, dict):
        raise KieProtocolError("Kie.ai answered a task record that is not an object.")
    task_id = data.get("taskId") or data.get("task_id")
    state = data.get("state")
    if not isinstance(task_id, str) or not isinstance(state, str):
        raise KieProtocolError("Kie.ai answered a task record without taskId or state.")
    result_urls: list[str] = []
    raw_result = data.get("resultJson")
    if state == KieState.SUCCESS:
        parsed: Any = raw_result
        if isinstance(raw_result, str):
            try:
                parsed = json.loads(raw_result) if raw_result else {}
            except json.JSONDecodeError as exc:
                raise KieProtocolError("Kie.ai answered a resultJson that is not valid JSON.") from exc
        urls = parsed.get("resultUrls") if isinstance(parsed, dict) else None
        if not isinstance(urls, list) or not urls or not all(isinstance(u, str) for u in urls):
            raise KieProtocolError("Kie.ai reported success without any result URL.")
        result_urls = list(urls)
    credits = _number(data.get("creditsConsumed"))
    if credits is None:
        credits = _number(data.get("consumeCredits"))
    cost_time = _number(data.get("costTime"))
    return KieTask(
        task_id=task_id,
        state=state,
        result_urls=result_urls,
        fail_code=str(data.get("failCode") or ""),
        fail_msg=str(data.get("failMsg") or ""),
        credits_consumed=credits,
        cost_time=int(cost_time) if cost_time is not None else None,
    )


def webhook_signature(hmac_key: str, task_id: str, timestamp: str) -> str:
    """`base64(HMAC_SHA256(key, f"{taskId}.{timestamp}"))`, as Kie.ai signs callbacks."""
    digest = hmac.new(hmac_key.encode(), f"{task_id}.{timestamp}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def verify_webhook_signature(hmac_key: str, task_id: str, timestamp: str, signature: str) -> bool:
    # Bytes, not str: compare_digest refuses non-ASCII str, and a header is whatever the sender put there.
    expected = webhook_signature(hmac_key, task_id, timestamp).encode()
    return hmac.compare_digest(expected, signature.encode("utf-8", "surrogatepass"))


def read_callback_task_id(
    settings: Settings, body: Any, timestamp: str | None, signature: str | None
) -> tuple[str, str | None]:
    """The callback's task id and state, after checking the HMAC signature when a key is configured."""
    data = body.get("data") if isinstance(body, dict) else None
    task_id = (data.get("taskId") or data.get("task_id")) if isinstance(data, dict) else None
    if not isinstance(task_id, str) or not task_id:
        raise InvalidInput("The callback has no data.taskId.")
    if not task_id.isascii() or len(task_id) > MAX_TASK_ID_LENGTH:
        raise InvalidInput("The callback's data.taskId is not a Kie.ai task id.")
    state = data.get("state") if isinstance(data, dict) else None
    if settings.kie_webhook_hmac_key is not None:
        if not timestamp or not signature:
            raise Unauthorized("The callback is not signed.")
        # Unix seconds, as ASCII digits: anything longer could not be within a day of now (and int() of a
        # 400-digit string would overflow the float subtraction).
        if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= MAX_TIMESTAMP_DIGITS):
            raise Unauthorized("The callback timestamp is not a Unix time in seconds.")
        age = abs(time.time() - int(timestamp))
        key = settings.kie_webhook_hmac_key.get_secret_value()
        if age > CALLBACK_MAX_AGE_SECONDS or not verify_webhook_signature(key, task_id, timestamp, signature):
            raise Unauthorized("The callback signature does not match.")
    if not isinstance(state, str) or len(state) > MAX_CALLBACK_STATE_LENGTH:
        state = None
    return task_id, state


CALLBACKS_OFF_WARNING = (
    "ENVIRONMENT=production without KIE_WEBHOOK_HMAC_KEY: Kie.ai callbacks are off (no callBackUrl is sent and "
    "the callback route refuses); generations are followed by polling alone, a few seconds slower"
)


def warn_if_callbacks_off(settings: Settings) -> None:
    if not settings.kie_callbacks_enabled:
        logger.warning(CALLBACKS_OFF_WARNING)


def kie_callback_url(settings: Settings, asset_id: int) -> str | None:
    """None when callbacks are off (production without KIE_WEBHOOK_HMAC_KEY): Kie.ai is then only polled."""
    if not settings.kie_callbacks_enabled:
        return None
    return f"{settings.public_base_url.rstrip('/')}/api/providers/kie/callback/{asset_id}/"


def _message(body: dict[str, Any]) -> str:
    for key in ("msg", "message"):
        value = body.get(key)
        if isinstance(value, str) and value:
            return value
    error = body.get("error")
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return str(error["message"])
    return ""


class KieClient:
    """One client per process (the worker); `http` is shared and closed by whoever created it."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 30.0,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self.timeout = timeout
        self._own_http = http is None
        self._http = http or httpx.AsyncClient(
            timeout=httpx.Timeout(timeout, connect=min(10.0, timeout)),
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
        )

    @classmethod
    def from_settings(cls, settings: Settings, http: httpx.AsyncClient | None = None) -> KieClient:
        key = settings.kie_api_key.get_secret_value() if settings.kie_api_key else settings.kie_simulator_key
        return cls(settings.kie_base_url, key, timeout=settings.kie_timeout_seconds, http=http)

    async def aclose(self) -> None:
        if self._own_http:
            await self._http.aclose()

    # --- transport --------------------------------------------------------------------------------------

    async def _request(self, method: str, path: str, what: str, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self._api_key}", "Accept": "application/json"}
        try:
            response = await self._http.request(
                method, f"{self.base_url}{path}", headers=headers, timeout=self.timeout, **kwargs
            )
        except httpx.TimeoutException as exc:
            raise KieTimeoutError(
                f"Kie.ai did not answer the {what} call within {self.timeout:g} s."
            ) from exc
        except httpx.HTTPError as exc:
            raise KieUnavailableError(f"Kie.ai could not be reached for the {what} call: {exc}.") from exc
        body: Any
        try:
            body = json.loads(response.content) if response.content else None
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = None
        if response.status_code >= 400:
            message = _message(body) if isinstance(body, dict) else response.text[:200]
            raise error_for_code(response.status_code, message, what)
        if body is None:
            raise KieProtocolError(
                f"Kie.ai answered the {what} call with something that is not JSON "
                f"(HTTP {response.status_code})."
            )
        return body

    async def _envelope(self, method: str, path: str, what: str, **kwargs: Any) -> Any:
        body = await self._request(method, path, what, **kwargs)
        if not isinstance(body, dict) or "code" not in body:
            raise KieProtocolError(f"Kie.ai answered the {what} call without a code.")
        code = body.get("code")
        if not isinstance(code, int):
            raise KieProtocolError(f"Kie.ai answered the {what} call with a non-numeric code.")
        if code != 200:
            raise error_for_code(code, _message(body), what)
        return body.get("data")

    # --- Market tasks -----------------------------------------------------------------------------------

    async def create_task(self, model: str, input: dict[str, Any], callback_url: str | None = None) -> str:
        payload: dict[str, Any] = {"model": model, "input": input}
        if callback_url:
            payload["callBackUrl"] = callback_url
        data = await self._envelope("POST", "/api/v1/jobs/createTask", "createTask", json=payload)
        task_id = data.get("taskId") if isinstance(data, dict) else None
        if not isinstance(task_id, str) or not task_id:
            raise KieProtocolError("Kie.ai accepted the task but returned no taskId.")
        return task_id

    async def record_info(self, task_id: str) -> KieTask:
        try:
            data = await self._envelope(
                "GET", "/api/v1/jobs/recordInfo", "recordInfo", params={"taskId": task_id}
            )
        except KieInvalidInputError as exc:
            # recordInfo answers 422 "recordInfo is null" for an unknown or expired task id.
            raise KieNotFoundError(
                f"Kie.ai does not know task {task_id} ({exc.provider_message or 'recordInfo is null'}).",
                code=exc.code,
                provider_message=exc.provider_message,
            ) from exc
        return parse_task_record(data)

    # --- common API -------------------------------------------------------------------------------------

    async def credits(self) -> float:
        data = await self._envelope("GET", "/api/v1/chat/credit", "credit")
        value = _number(data)
        if value is None:
            raise KieProtocolError("Kie.ai answered the credit call without a number.")
        return value

    async def download_url(self, url: str) -> str:
        data = await self._envelope("POST", "/api/v1/common/download-url", "download-url", json={"url": url})
        if not isinstance(data, str) or not data:
            raise KieProtocolError("Kie.ai answered the download-url call without a URL.")
        return data

    # --- chat -------------------------------------------------------------------------------------------

    async def chat_completion(self, model: str, messages: list[dict[str, Any]], **options: Any) -> str:
        """OpenAI-style chat with `stream: false`; returns the assistant's text."""
        payload = {
            "model": model,
            "messages": messages,
            "stream": False,
            "include_thoughts": False,
            **options,
        }
        body = await self._request("POST", f"/{model}/v1/chat/completions", "chat", json=payload)
        if not isinstance(body, dict):
            raise KieProtocolError("Kie.ai answered the chat call with something that is not an object.")
        code = body.get("code")
        if isinstance(code, int) and code != 200 and "choices" not in body:
            raise error_for_code(code, _message(body), "chat")
        if "error" in body and "choices" not in body:
            raise error_for_code(400, _message(body), "chat")
        try:
            content = body["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError) as exc:
            raise KieProtocolError("Kie.ai answered the chat call without a message.") from exc
        if isinstance(content, list):
            content = "".join(part.get("text", "") for part in content if isinstance(part, dict))
        if not isinstance(content, str):
            raise KieProtocolError("Kie.ai answered the chat call with a non-text message.")
        return content

    # --- result files -----------------------------------------------------------------------------------

    async def fetch_file(self, url: str, max_bytes: int) -> tuple[bytes, str | None]:
        """Download a result (or input) file without auth; raises KieNotFoundError on 404/403/410."""
        try:
            async with self._http.stream("GET", url, timeout=max(self.timeout, 60.0)) as response:
                if response.status_code in (403, 404, 410):
                    raise KieNotFoundError(
                        f"Kie.ai's result file is gone (HTTP {response.status_code}).",
                        code=response.status_code,
                    )
                if response.status_code >= 400:
                    raise KieUnavailableError(
                        f"Kie.ai's file host answered HTTP {response.status_code}.", code=response.status_code
                    )
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > max_bytes:
                        raise KieInvalidInputError(
                            f"Kie.ai's result file is larger than {max_bytes // (1024 * 1024)} MB."
                        )
                    chunks.append(chunk)
                return b"".join(chunks), response.headers.get("content-type")
        except httpx.TimeoutException as exc:
            raise KieTimeoutError("Kie.ai's file host did not answer in time.") from exc
        except httpx.HTTPError as exc:
            raise KieUnavailableError(f"Kie.ai's file host could not be reached: {exc}.") from exc
