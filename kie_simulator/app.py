"""The simulator's Starlette app and its in-memory state (see the package docstring for the behaviour)."""

from __future__ import annotations

import asyncio
import base64
import hmac
import json
import logging
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from core.kie import SIMULATOR_API_KEY
from kie_simulator.media import draw_image, make_video

logger = logging.getLogger("kie_simulator")

IMAGE_ASPECT_RATIOS = ["1:1", "9:16", "16:9", "3:4", "4:3", "3:2", "2:3", "5:4", "4:5", "21:9", "auto"]
VIDEO_ASPECT_RATIOS = ["1:1", "4:3", "3:4", "16:9", "9:16", "21:9"]
CHAT_MODELS = {"gemini-2.5-flash", "gemini-2.5-pro", "gemini-3-pro", "claude-sonnet-4-5", "claude-haiku-4-5"}
SEEDANCE_CREDITS_PER_SECOND = {
    "480p": (1.75, 3.5),
    "720p": (3.5, 7.0),
    "1080p": (7.5, 15.0),
}
MAX_INPUT_BYTES = 10 * 1024 * 1024
MARKER = re.compile(r"\[sim:([a-z0-9]+)(?:=([^\]]*))?\]", re.IGNORECASE)
POLICY_MESSAGE = "Your prompt was flagged by the content policy: it contains prohibited content"


class InvalidInput(Exception):
    pass


def sign_callback(hmac_key: str, task_id: str, timestamp: str) -> str:
    """`X-Webhook-Signature` as kie-api.md §1.3 gives it: base64 of HMAC-SHA256 keyed with the webhook HMAC key over
    `"<taskId>.<timestamp>"`.

    Written here from the contract rather than imported from `core.kie`, which verifies callbacks: with one shared
    function a bug in it would sign and verify alike, and every callback test would still pass.
    """
    message = b".".join((task_id.encode("utf-8"), timestamp.encode("ascii")))
    return base64.standard_b64encode(hmac.digest(hmac_key.encode("utf-8"), message, "sha256")).decode("ascii")


def _enum(values: list[Any]) -> dict[str, Any]:
    return {"enum": values}


MODEL_SPECS: dict[str, dict[str, Any]] = {
    "google/nano-banana": {
        "kind": "image",
        "prompt": (1, 5000),
        "fields": {
            "output_format": _enum(["png", "jpeg"]),
            "aspect_ratio": _enum(IMAGE_ASPECT_RATIOS),
            "image_size": _enum(IMAGE_ASPECT_RATIOS),
            "nsfw_checker": {"bool": True},
        },
    },
    "google/nano-banana-edit": {
        "kind": "image",
        "prompt": (1, 5000),
        "urls": ("image_urls", 1, 10),
        "fields": {
            "output_format": _enum(["png", "jpeg"]),
            "aspect_ratio": _enum(IMAGE_ASPECT_RATIOS),
            "image_size": _enum(IMAGE_ASPECT_RATIOS),
            "nsfw_checker": {"bool": True},
        },
    },
    "bytedance/seedance-1.5-pro": {
        "kind": "video",
        "prompt": (3, 2500),
        "urls": ("input_urls", 0, 2),
        "required": ["aspect_ratio"],
        "fields": {
            "aspect_ratio": _enum(VIDEO_ASPECT_RATIOS),
            "resolution": _enum(["480p", "720p", "1080p"]),
            "duration": _enum([4, 8, 12]),
            "fixed_lens": {"bool": True},
            "generate_audio": {"bool": True},
            "nsfw_checker": {"bool": True},
        },
    },
}


def validate_input(model: str, data: Any) -> dict[str, Any]:
    spec = MODEL_SPECS.get(model)
    if spec is None:
        raise InvalidInput(f"model {model!r} is not supported")
    if not isinstance(data, dict):
        raise InvalidInput("input must be an object")
    prompt = data.get("prompt")
    low, high = spec["prompt"]
    if not isinstance(prompt, str) or not low <= len(prompt) <= high:
        raise InvalidInput(f"prompt is required and must be {low}-{high} characters")
    allowed = {"prompt", *spec["fields"]}
    urls = spec.get("urls")
    if urls:
        name, least, most = urls
        allowed.add(name)
        value = data.get(name, [])
        if not isinstance(value, list) or not least <= len(value) <= most:
            raise InvalidInput(f"{name} must be a list of {least}-{most} URLs")
        for url in value:
            if not isinstance(url, str) or not url.startswith(("http://", "https://")):
                raise InvalidInput(f"{name} must hold http(s) URLs")
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise InvalidInput(f"unknown input field(s): {', '.join(unknown)}")
    for name in spec.get("required", []):
        if name not in data:
            raise InvalidInput(f"{name} is required")
    for name, rule in spec["fields"].items():
        if name not in data:
            continue
        value = data[name]
        if "enum" in rule and (isinstance(value, bool) or value not in rule["enum"]):
            raise InvalidInput(f"{name} must be one of {rule['enum']}")
        if "bool" in rule and not isinstance(value, bool):
            raise InvalidInput(f"{name} must be a boolean")
    return data


def price(model: str, data: dict[str, Any]) -> float:
    if MODEL_SPECS[model]["kind"] == "image":
        return 4.0
    silent, audio = SEEDANCE_CREDITS_PER_SECOND[data.get("resolution", "720p")]
    return (audio if data.get("generate_audio") else silent) * int(data.get("duration", 8))


def markers(text: str) -> dict[str, str]:
    return {name.lower(): (value or "") for name, value in MARKER.findall(text)}


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class SimTask:
    task_id: str
    model: str
    input: dict[str, Any]
    param: str
    callback_url: str | None
    base_url: str
    step: float
    marks: dict[str, str]
    credits: float
    state: str = "waiting"
    result_urls: list[str] = field(default_factory=list)
    fail_code: str = ""
    fail_msg: str = ""
    create_ms: int = field(default_factory=now_ms)
    update_ms: int = field(default_factory=now_ms)
    complete_ms: int | None = None
    callback_attempts: int = 0
    callback_status: int | None = None

    def record(self, remaining: float) -> dict[str, Any]:
        done = self.state in ("success", "fail")
        consumed = self.credits if self.state == "success" else 0
        return {
            "taskId": self.task_id,
            "model": self.model,
            "state": self.state,
            "param": self.param,
            "resultJson": json.dumps({"resultUrls": self.result_urls}) if self.state == "success" else "",
            "failCode": self.fail_code,
            "failMsg": self.fail_msg,
            "costTime": (self.complete_ms - self.create_ms) if self.complete_ms else None,
            "completeTime": self.complete_ms,
            "createTime": self.create_ms,
            "updateTime": self.update_ms,
            **(
                {"creditsConsumed": consumed, "consumeCredits": consumed, "remainedCredits": remaining}
                if done
                else {}
            ),
        }


class Simulator:
    def __init__(
        self,
        *,
        api_key: str = SIMULATOR_API_KEY,
        hmac_key: str | None = None,
        step_seconds: float = 1.0,
        credits: float = 100_000.0,
    ) -> None:
        self.api_key = api_key
        self.hmac_key = hmac_key
        self.step_seconds = step_seconds
        self.credits = credits
        self.tasks: dict[str, SimTask] = {}
        self.chats: list[dict[str, Any]] = []  # every chat request: its last user message, answered yet
        self.files: dict[str, tuple[bytes, str]] = {}
        self.calls: dict[tuple[str, str], int] = {}
        self._background: set[asyncio.Task[None]] = set()
        self._http: httpx.AsyncClient | None = None
        # `PUT /_sim/credits {"hold": true}`: balance reads wait until `{"hold": false}` (a slow balance, on cue).
        self.credit_release = asyncio.Event()
        self.credit_release.set()
        self.credit_reads_waiting = 0

    @property
    def http(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=httpx.Timeout(15.0, connect=5.0))
        return self._http

    async def close(self) -> None:
        for task in list(self._background):
            task.cancel()
        if self._http is not None:
            await self._http.aclose()

    def spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def authorised(self, request: Request) -> bool:
        header = request.headers.get("authorization", "")
        return header == f"Bearer {self.api_key}"

    def first_calls(self, marks: dict[str, str], name: str, text: str, default_value: str) -> str | None:
        """The marker's value if it applies to this call (`xN` / `=N` limits it to the first N calls)."""
        if name not in marks:
            return None
        raw = marks[name] or default_value
        value, _, limit = raw.partition("x")
        if name == "429":
            value, limit = "429", raw if raw != default_value else ""
        if limit:
            key = (name, text)
            self.calls[key] = self.calls.get(key, 0) + 1
            if self.calls[key] > int(limit):
                return None
        return value

    async def misbehave(self, marks: dict[str, str], text: str) -> Response | None:
        """Answer the HTTP-level misbehaviours shared by createTask and chat, or None to proceed."""
        if "slow" in marks:
            await asyncio.sleep(float(marks["slow"] or 5))
        status = self.first_calls(marks, "http", text, "500")
        if status is None:
            status = self.first_calls(marks, "429", text, "")
        if status is not None:
            code = int(status)
            message = "Rate limit exceeded" if code == 429 else f"Simulated HTTP {code}"
            return JSONResponse({"code": code, "msg": message, "data": None}, status_code=code)
        code_value = marks.get("code")
        if code_value:
            code = int(code_value)
            messages = {
                401: "You do not have access permissions",
                402: "The current credits are insufficient. Please top up.",
                422: "Validation error",
                455: "Service unavailable, maintenance in progress",
            }
            return JSONResponse(
                {"code": code, "msg": messages.get(code, f"Simulated code {code}"), "data": None}
            )
        return None

    # --- state machine ------------------------------------------------------------------------------------

    def _set_state(self, task: SimTask, state: str) -> None:
        task.state = state
        task.update_ms = now_ms()

    async def run_task(self, task: SimTask) -> None:
        for state in ("queuing", "generating"):
            if task.step:
                await asyncio.sleep(task.step)
            self._set_state(task, state)
        if "never" in task.marks:
            return
        if task.step:
            await asyncio.sleep(task.step)
        try:
            await self._produce(task)
        except Exception as exc:
            logger.exception("task %s failed", task.task_id)
            self._fail(task, "500", f"Internal server error: {exc}")
        task.complete_ms = now_ms()
        if task.state == "fail":
            self.credits += task.credits
        if task.callback_url and "nocallback" not in task.marks:
            await self.send_callback(task)

    def _fail(self, task: SimTask, code: str, message: str) -> None:
        task.fail_code, task.fail_msg = code, message
        self._set_state(task, "fail")

    async def _fetch_inputs(self, task: SimTask) -> list[bytes] | None:
        urls: list[str] = task.input.get("image_urls") or task.input.get("input_urls") or []
        images: list[bytes] = []
        for index, url in enumerate(urls, start=1):
            try:
                async with self.http.stream("GET", url) as response:
                    if response.status_code != 200:
                        self._fail(
                            task,
                            "400",
                            f"Could not download input image {index}: HTTP {response.status_code}",
                        )
                        return None
                    content = bytearray()
                    async for chunk in response.aiter_bytes():
                        content += chunk
                        if len(content) > MAX_INPUT_BYTES:
                            # As kie-api.md says: input images are limited to 10 MB each.
                            self._fail(
                                task,
                                "400",
                                f"Input image {index} is larger than 10 MB; "
                                "input images are limited to 10 MB each",
                            )
                            return None
            except httpx.HTTPError as exc:
                self._fail(task, "400", f"Could not download input image {index}: {exc.__class__.__name__}")
                return None
            images.append(bytes(content))
        return images

    async def _produce(self, task: SimTask) -> None:
        if "policy" in task.marks:
            self._fail(task, "422", POLICY_MESSAGE)
            return
        if "fail" in task.marks:
            self._fail(task, "500", task.marks["fail"] or "Internal server error")
            return
        inputs = await self._fetch_inputs(task)
        if inputs is None:
            return
        prompt = task.input["prompt"]
        if MODEL_SPECS[task.model]["kind"] == "video":
            data = await asyncio.to_thread(
                make_video,
                prompt,
                aspect_ratio=task.input.get("aspect_ratio", "1:1"),
                resolution=task.input.get("resolution", "720p"),
                duration=int(task.input.get("duration", 8)),
                first_frame=inputs[0] if inputs else None,
            )
            name, mime = "video.mp4", "video/mp4"
        else:
            fmt = task.input.get("output_format", "png")
            aspect = task.input.get("aspect_ratio") or task.input.get("image_size") or "1:1"
            data, mime = await asyncio.to_thread(draw_image, prompt, aspect, fmt)
            name = "image.png" if fmt == "png" else "image.jpeg"
        path = f"/files/{task.task_id}/{name}"
        self.files[path] = (data, mime)
        task.result_urls = [f"{task.base_url}{path}"]
        self._set_state(task, "success")

    async def send_callback(self, task: SimTask) -> None:
        assert task.callback_url
        body = {
            "code": 200 if task.state == "success" else 501,
            "msg": "Playground task completed successfully."
            if task.state == "success"
            else "Playground task failed.",
            "data": task.record(self.credits),
        }
        headers = {"Content-Type": "application/json"}
        if self.hmac_key:
            timestamp = str(int(time.time()))
            headers["X-Webhook-Timestamp"] = timestamp
            headers["X-Webhook-Signature"] = sign_callback(self.hmac_key, task.task_id, timestamp)
        for attempt in range(3):
            task.callback_attempts += 1
            try:
                response = await self.http.post(task.callback_url, content=json.dumps(body), headers=headers)
                task.callback_status = response.status_code
                if response.status_code < 300:
                    return
            except httpx.HTTPError as exc:
                logger.warning("callback for %s failed: %s", task.task_id, exc)
            if attempt < 2:
                await asyncio.sleep(0.5)

    # --- routes -------------------------------------------------------------------------------------------

    async def create_task(self, request: Request) -> Response:
        if not self.authorised(request):
            return JSONResponse({"code": 401, "msg": "You do not have access permissions"}, status_code=401)
        try:
            body = json.loads(await request.body())
        except json.JSONDecodeError:
            return JSONResponse({"code": 400, "msg": "Request body is not valid JSON", "data": None})
        if not isinstance(body, dict):
            return JSONResponse({"code": 400, "msg": "Request body must be an object", "data": None})
        model = body.get("model")
        data = body.get("input")
        prompt = data.get("prompt", "") if isinstance(data, dict) else ""
        marks = markers(prompt if isinstance(prompt, str) else "")
        early = await self.misbehave(marks, str(prompt))
        if early is not None:
            return early
        try:
            data = validate_input(str(model), data)
        except InvalidInput as exc:
            return JSONResponse({"code": 422, "msg": str(exc), "data": None})
        callback = body.get("callBackUrl")
        if callback is not None and (not isinstance(callback, str) or not callback.startswith("http")):
            return JSONResponse({"code": 422, "msg": "callBackUrl must be an http(s) URL", "data": None})
        cost = price(str(model), data)
        if self.credits < cost:
            return JSONResponse(
                {"code": 402, "msg": "The current credits are insufficient. Please top up.", "data": None}
            )
        self.credits -= cost
        step = float(marks["steps"]) if marks.get("steps") else self.step_seconds
        task = SimTask(
            task_id=secrets.token_hex(16),
            model=str(model),
            input=data,
            param=json.dumps(body),
            callback_url=callback,
            base_url=str(request.base_url).rstrip("/"),
            step=step,
            marks=marks,
            credits=cost,
        )
        self.tasks[task.task_id] = task
        self.spawn(self.run_task(task))
        return JSONResponse({"code": 200, "msg": "success", "data": {"taskId": task.task_id}})

    async def record_info(self, request: Request) -> Response:
        if not self.authorised(request):
            return JSONResponse({"code": 401, "msg": "Unauthorized"}, status_code=401)
        task_id = request.query_params.get("taskId")
        if not task_id:
            return JSONResponse({"code": 400, "msg": "taskId parameter is required"})
        task = self.tasks.get(task_id)
        if task is None:
            return JSONResponse({"code": 422, "msg": "recordInfo is null", "data": None})
        if "malformed" in task.marks:
            return Response(b'{"code": 200, "msg": "success", "data": {"taskId": ', media_type="text/html")
        return JSONResponse({"code": 200, "msg": "success", "data": task.record(self.credits)})

    async def credit(self, request: Request) -> Response:
        if not self.authorised(request):
            return JSONResponse({"code": 401, "msg": "Unauthorized"}, status_code=401)
        if not self.credit_release.is_set():
            self.credit_reads_waiting += 1
            try:
                await self.credit_release.wait()
            finally:
                self.credit_reads_waiting -= 1
        return JSONResponse({"code": 200, "msg": "success", "data": self.credits})

    async def download_url(self, request: Request) -> Response:
        if not self.authorised(request):
            return JSONResponse({"code": 401, "msg": "Unauthorized"}, status_code=401)
        try:
            url = json.loads(await request.body()).get("url")
        except (json.JSONDecodeError, AttributeError):
            url = None
        base = str(request.base_url).rstrip("/")
        if not isinstance(url, str) or not url.startswith(f"{base}/files/"):
            return JSONResponse(
                {"code": 422, "msg": "Only kie.ai generated URLs are supported", "data": None}
            )
        path = url[len(base) :].split("?", 1)[0]
        return JSONResponse({"code": 200, "msg": "success", "data": f"{base}{path}?t={secrets.token_hex(8)}"})

    async def file(self, request: Request) -> Response:
        path = request.url.path
        task = self.tasks.get(request.path_params["task_id"])
        if path not in self.files or task is None or "result404" in task.marks:
            return Response(b"Not Found", status_code=404)
        data, mime = self.files[path]
        return Response(data, media_type=mime)

    async def chat(self, request: Request) -> Response:
        received: dict[str, Any] = {"text": "", "answered": False}
        self.chats.append(received)
        try:
            return await self.answer_chat(request, received)
        finally:
            received["answered"] = True

    async def answer_chat(self, request: Request, received: dict[str, Any]) -> Response:
        if not self.authorised(request):
            return JSONResponse(
                {"error": {"message": "Invalid API key", "type": "authentication_error"}}, status_code=401
            )
        model = request.path_params["model"]
        try:
            body = json.loads(await request.body())
        except json.JSONDecodeError:
            return JSONResponse(
                {"error": {"message": "Body is not JSON", "type": "invalid_request_error"}}, status_code=400
            )
        messages = body.get("messages") if isinstance(body, dict) else None
        if not isinstance(messages, list) or not messages:
            return JSONResponse(
                {"error": {"message": "messages is required", "type": "invalid_request_error"}},
                status_code=400,
            )
        if model not in CHAT_MODELS:
            return JSONResponse({"code": 404, "msg": f"Model {model} not found", "data": None})
        user_text = ""
        all_text = []
        for message in messages:
            text = message_text(message)
            all_text.append(text)
            if isinstance(message, dict) and message.get("role") == "user":
                user_text = text
        received["text"] = user_text
        marks = markers(" ".join(all_text))
        early = await self.misbehave(marks, user_text)
        if early is not None:
            return early
        if "malformed" in marks:
            return Response(b'{"id": "chatcmpl-', media_type="text/plain")
        reply = rewrite(user_text)
        completion_id = f"chatcmpl-{secrets.token_hex(12)}"
        created = int(time.time())
        usage = {
            "prompt_tokens": sum(len(t.split()) for t in all_text),
            "completion_tokens": len(reply.split()),
        }
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        if body.get("stream", True) is False:
            return JSONResponse(
                {
                    "id": completion_id,
                    "object": "chat.completion",
                    "created": created,
                    "model": model,
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": reply},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": usage,
                }
            )

        async def events() -> Any:
            chunk = {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [
                    {"index": 0, "delta": {"role": "assistant", "content": reply}, "finish_reason": None}
                ],
            }
            yield f"data: {json.dumps(chunk)}\n\n"
            chunk["choices"] = [{"index": 0, "delta": {}, "finish_reason": "stop"}]
            yield f"data: {json.dumps(chunk)}\n\n"
            yield "data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    async def admin_tasks(self, request: Request) -> Response:
        return JSONResponse(
            [
                {
                    "taskId": t.task_id,
                    "model": t.model,
                    "state": t.state,
                    "prompt": t.input.get("prompt"),
                    "input": t.input,
                    "callbackUrl": t.callback_url,
                    "callbackAttempts": t.callback_attempts,
                    "callbackStatus": t.callback_status,
                    "failCode": t.fail_code,
                    "failMsg": t.fail_msg,
                }
                for t in self.tasks.values()
            ]
        )

    async def admin_chats(self, request: Request) -> Response:
        return JSONResponse(self.chats)

    async def admin_credits(self, request: Request) -> Response:
        body = json.loads(await request.body())
        if "credits" in body:
            self.credits = float(body["credits"])
        if "hold" in body:
            if body["hold"]:
                self.credit_release.clear()
            else:
                self.credit_release.set()
        return JSONResponse({"credits": self.credits, "credit_reads_waiting": self.credit_reads_waiting})

    async def health(self, request: Request) -> Response:
        return JSONResponse({"status": "ok", "tasks": len(self.tasks)})


def message_text(message: Any) -> str:
    if not isinstance(message, dict):
        return ""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            part.get("text", "") for part in content if isinstance(part, dict) and part.get("type") == "text"
        )
    return ""


LABEL = re.compile(r"^\s*(prompt|instruction)\s*:\s*", re.IGNORECASE)


def split_request(text: str) -> tuple[str, str] | None:
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        data = None
    if (
        isinstance(data, dict)
        and isinstance(data.get("prompt"), str)
        and isinstance(data.get("instruction"), str)
    ):
        return data["prompt"], data["instruction"]
    found: dict[str, list[str]] = {}
    current: str | None = None
    for line in text.splitlines():
        match = LABEL.match(line)
        if match:
            current = match.group(1).lower()
            found[current] = [line[match.end() :]]
        elif current is not None:
            found[current].append(line)
    if "prompt" in found and "instruction" in found:
        return "\n".join(found["prompt"]).strip(), "\n".join(found["instruction"]).strip()
    return None


def _tidy(text: str) -> str:
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r"\s*,\s*(,\s*)+", ", ", text)
    return text.strip(" ,")


def rewrite(text: str) -> str:
    """The deterministic "LLM": apply the instruction to the prompt (rules in the package docstring)."""
    parts = split_request(text)
    if parts is None:
        return f"Rewritten: {MARKER.sub('', text).strip()}"
    prompt, instruction = parts
    instruction = MARKER.sub("", instruction).strip()
    replace = re.match(r"^\s*replace\s+(.+?)\s+with\s+(.+?)\s*\.?\s*$", instruction, re.IGNORECASE)
    if replace:
        old, new = replace.group(1), replace.group(2)
        if re.search(re.escape(old), prompt, re.IGNORECASE):
            return re.sub(re.escape(old), new, prompt, flags=re.IGNORECASE)
        return f"{prompt.rstrip(' .,')}, {new}"
    remove = re.match(r"^\s*(?:remove|without)\s+(.+?)\s*\.?\s*$", instruction, re.IGNORECASE)
    if remove:
        return _tidy(re.sub(re.escape(remove.group(1)), "", prompt, flags=re.IGNORECASE))
    cleaned = re.sub(r"^please\s+", "", instruction, flags=re.IGNORECASE)
    cleaned = re.sub(r"^(make it|add)\s+", "", cleaned, flags=re.IGNORECASE).rstrip(". ")
    return f"{prompt.rstrip(' .,')}, {cleaned}"


def create_app(simulator: Simulator) -> Starlette:
    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def lifespan(_: Starlette) -> Any:
        yield
        await simulator.close()

    routes = [
        Route("/api/v1/jobs/createTask", simulator.create_task, methods=["POST"]),
        Route("/api/v1/jobs/recordInfo", simulator.record_info, methods=["GET"]),
        Route("/api/v1/chat/credit", simulator.credit, methods=["GET"]),
        Route("/api/v1/common/download-url", simulator.download_url, methods=["POST"]),
        Route("/files/{task_id}/{name}", simulator.file, methods=["GET"]),
        Route("/_sim/tasks", simulator.admin_tasks, methods=["GET"]),
        Route("/_sim/chats", simulator.admin_chats, methods=["GET"]),
        Route("/_sim/credits", simulator.admin_credits, methods=["PUT"]),
        Route("/_sim/health", simulator.health, methods=["GET"]),
        Route("/{model}/v1/chat/completions", simulator.chat, methods=["POST"]),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.simulator = simulator
    return app
