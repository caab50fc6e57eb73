"""A Kie.ai simulator: a real HTTP server that follows `kie-api.md`, for tests, benches and `make dev`.

Run it: `python -m kie_simulator --host 127.0.0.1 --port 8090 [--api-key K] [--hmac-key K] [--step-seconds S]
[--instant] [--credits N]`. The app talks to it when KIE_API_KEY is unset and KIE_BASE_URL points at it; the
app then sends `settings.kie_simulator_key` (default `aiam-local-simulator`, also the simulator's default
`--api-key`; env `KIE_SIMULATOR_KEY` for both).

Endpoints (all but `/files/` and `/_sim/` need `Authorization: Bearer <api key>`, else `{"code":401}` HTTP 401):
- `POST /api/v1/jobs/createTask`: validates `model` and its `input` per model (unknown fields, enums, lengths,
  URL lists), deducts credits (402 when short), answers `{"code":200,"data":{"taskId":<32 hex>}}`.
- `GET /api/v1/jobs/recordInfo?taskId=`: state `waiting → queuing → generating → success|fail`, one step every
  `--step-seconds` (default 1.0; `--instant` = 0). `resultJson` is a JSON string `{"resultUrls":[...]}`,
  `creditsConsumed` is included. Unknown id: `{"code":422,"msg":"recordInfo is null"}`.
- Callback: when a task ends, POST the envelope (`code` 200 or 501, `data` = the record, with `creditsConsumed`,
  `consumeCredits`, `remainedCredits`) to `callBackUrl`, signed with `X-Webhook-Timestamp` /
  `X-Webhook-Signature` when `--hmac-key` is set. Up to 3 attempts, 0.5 s apart, until a 2xx.
- `GET /files/{task_id}/{name}`: the result files it made itself: a PNG (or JPEG with `output_format: jpeg`)
  drawn from the prompt for image models; an H.264 MP4 of `duration` seconds for Seedance. For
  `input_urls`/`image_urls` it downloads each input URL first (as Kie.ai does; a failed download, or an input
  image over 10 MB, fails the task with failCode 400) and uses the first image as the video's frames or the
  edit's background.
- `POST /api/v1/common/download-url`: a fresh link for one of its own file URLs; any other URL → code 422.
- `GET /api/v1/chat/credit`: the remaining credits (they decrease with every accepted task; refunded on fail).
- `POST /{model}/v1/chat/completions`: OpenAI-style; `stream:false` answers one JSON `chat.completion`;
  `stream` true or absent answers SSE. **Deterministic rewrite** (what smart edit relies on): from the last
  `user` message's text, the original prompt and the instruction are read either from a JSON object
  `{"prompt": ..., "instruction": ...}` or from lines starting `Prompt:` and `Instruction:` (case-insensitive;
  a value runs until the next labelled line). Then:
    * `replace X with Y` → the prompt with every X (case-insensitive) replaced by Y (Y appended after ", " when X
      is absent);
    * `remove X` / `without X` → the prompt with X removed (spaces and commas tidied);
    * anything else → `"<prompt without trailing punctuation>, <instruction>"` where the instruction loses a
      leading `please `, then a leading `make it ` / `add `, and its trailing `.`.
  Without a recognisable prompt/instruction the reply is `"Rewritten: <text>"`. Known chat models:
  `CHAT_MODELS`; others answer code 404.
- `/_sim/` (no auth, for tests): `GET /_sim/tasks` (every task: id, model, state, prompt, input, callback status,
  failCode/failMsg), `GET /_sim/chats` (every chat request in the order received: `text`, its last user
  message, and `answered`, false while it waits, e.g. on `[sim:slow]`),
  `PUT /_sim/credits` `{"credits": N}` and/or `{"hold": true|false}` (while held, balance reads wait; the answer
  says how many are waiting, `credit_reads_waiting`), `GET /_sim/health`.

Misbehaviour on demand: put markers in the prompt (or in a chat message). `xN` means "only the first N calls
carrying this exact prompt", otherwise every call:
- `[sim:fail=MESSAGE]`: the task ends `fail` with failCode "500" and failMsg MESSAGE (callback code 501).
- `[sim:policy]`: the task ends `fail` with failCode "422" and a content-policy failMsg.
- `[sim:http=CODE]` / `[sim:http=CODExN]`: createTask (or chat) answers HTTP CODE with `{"code":CODE,"msg":...}`.
- `[sim:429]` / `[sim:429=N]`: HTTP 429 `Rate limit exceeded` (always / first N calls).
- `[sim:code=CODE]`: HTTP 200 carrying the error envelope `{"code":CODE,...}` (e.g. 401, 402, 422, 455).
- `[sim:slow=SECONDS]`: createTask (or chat) answers only after SECONDS (to pass the client's timeout).
- `[sim:malformed]`: recordInfo (or chat) answers HTTP 200 with a body that is not JSON.
- `[sim:never]`: the task stays `generating` forever and no callback is sent.
- `[sim:nocallback]`: the task finishes normally but no callback is sent (the client must poll).
- `[sim:result404]`: the result URL (and any download-url link for it) answers 404.
- `[sim:steps=SECONDS]`: this task spends SECONDS in each state instead of `--step-seconds`.
"""
