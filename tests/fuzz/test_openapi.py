"""Schema fuzzing: Schemathesis generates requests from our OpenAPI document and checks every answer.

Every operation is fuzzed (valid and invalid inputs) with a real user's bearer token, then the stateful phase
follows inferred links (create → read / update / delete). Each answer must not be a server error, must have a
documented status code, a documented content type, and a body that matches the documented schema.

No operation is excluded and every check runs on every answer, with one written exception (smart edit's 504
without a worker, see WORKERLESS_TIMEOUTS). Notes on scope:
- The WebSocket (`/ws/...`), the admin UI and the SPA are not in the OpenAPI document, so not fuzzed here.
- Generation operations start real Temporal workflows on a task queue of this module's own that no worker polls,
  so nothing is paid or generated: the workflows just wait in the test Temporal server until the session ends.
- The retention trigger answers 403 to the fuzz user (not a superuser): fuzzing it as an administrator would
  start real retention runs that delete other tests' data.
- Smart edit waits for a workflow no worker runs; its timeout is 1 s here, so those answers are documented 504s.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import hypothesis
import pytest
import pytest_asyncio
import schemathesis
from hypothesis import HealthCheck, Phase
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.generation.stateful.state_machine import StepOutput
from schemathesis.python import asgi

from core.schemas import MAX_DB_ID
from tests.builders import make_asset, make_box, make_project, register

MAX_EXAMPLES = 25  # per operation, valid and invalid inputs together
STATEFUL_SCENARIOS = 30
STATEFUL_STEPS = 8
TIME_BUDGET_SECONDS = 150.0  # the whole module; past it the stateful phase runs only a few scenarios
# Per operation: past OPERATION_BUDGET_SECONDS (and past MIN_EXAMPLES) the remaining examples send nothing;
# MIN_EXAMPLES are sent for every operation whatever the clock says, so none goes unfuzzed on a slow machine.
OPERATION_BUDGET_SECONDS = 4.0
MIN_EXAMPLES = 20
VICTIMS = 10  # objects of each kind made only to be deleted by the DELETE operations

CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
]

HYPOTHESIS = hypothesis.settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,  # the same requests on every run: a failure reproduces
    database=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: the failing request is reported as it was sent
    suppress_health_check=list(HealthCheck),
)


@dataclass
class World:
    """Real objects of the fuzz user, so generated path parameters can hit existing objects."""

    headers: dict[str, str]
    ids: dict[str, Any]
    victims: dict[str, list[Any]]
    disposable: dict[str, str]
    """Another user's token, for logout everywhere (which would end the fuzz user's)."""


@dataclass
class Stats:
    started: float = field(default_factory=time.monotonic)
    last_answer: float = 0.0
    requests: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    out_of_time: int = 0
    flaky_stops: int = 0  # the stateful machine stopped by Hypothesis's replay check (see the stateful test)
    phases: Counter[str] = field(default_factory=Counter)
    phase: str = "fuzzing"

    def over_budget(self) -> bool:
        return time.monotonic() - self.started > TIME_BUDGET_SECONDS


STATS = Stats()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def world(app, sessionmaker, storage) -> World:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        headers = await register(http)

        async def post(url: str, body: dict[str, Any]) -> dict[str, Any]:
            response = await http.post(url, json=body, headers=headers)
            assert response.status_code == 201, response.text
            return response.json()  # type: ignore[no-any-return]

        project = await make_project(http, headers, name="Fuzz")
        box = await make_box(http, headers, project["id"])
        asset = await make_asset(sessionmaker, box["id"], storage=storage)
        link = await post(f"/api/projects/{project['id']}/share-links/", {})
        comment = await post(f"/api/boxes/{box['id']}/comments/", {"text": "first"})
        victim_project = await make_project(http, headers, name="To delete")
        victims: dict[str, list[Any]] = {key: [] for key in ("project_id", "box_id", "asset_id", "link_id")}
        victims["comment_id"] = []
        for _ in range(VICTIMS):
            victims["project_id"].append((await make_project(http, headers))["id"])
            victim_box = await make_box(http, headers, victim_project["id"])
            victims["box_id"].append(victim_box["id"])
            victims["asset_id"].append((await make_asset(sessionmaker, victim_box["id"])).id)
            victims["link_id"].append((await post(f"/api/projects/{project['id']}/share-links/", {}))["id"])
            victims["comment_id"].append(
                (await post(f"/api/boxes/{box['id']}/comments/", {"text": "to delete"}))["id"]
            )
        disposable = await register(http)
    ids = {
        "project_id": project["id"],
        "box_id": box["id"],
        "asset_id": asset.id,
        "link_id": link["id"],
        "comment_id": comment["id"],
        "token": link["token"],
    }
    return World(headers=headers, ids=ids, victims=victims, disposable=disposable)


@pytest.fixture(scope="module")
def fuzz_schema(settings, world: World) -> Iterator[schemathesis.BaseSchema]:
    from api.main import create_app

    # A fresh app: Schemathesis runs it (and its lifespan) on its own event loop thread. Its own task queue, which
    # no worker polls: the generations and smart edits it starts never run (no other test's worker picks them up).
    app = create_app(
        settings.model_copy(
            update={"smart_edit_timeout_seconds": 1.0, "temporal_task_queue": f"fuzz-{uuid.uuid4().hex[:8]}"}
        )
    )
    config = schemathesis.Config.from_dict({"headers": world.headers})
    loaded = schemathesis.openapi.from_asgi("/openapi.json", app, config=config)
    STATS.started = time.monotonic()  # the budget counts from here, not from collection
    yield loaded
    asgi.shutdown_lifespans()


def summary() -> list[str]:
    """The run's figures, printed at the end of the pytest run (see conftest.py)."""
    if not STATS.requests:
        return []
    elapsed = STATS.last_answer - STATS.started  # printed at the end of the session: not "now"
    lines = [
        f"schema fuzz: {len(STATS.requests)} operations, {sum(STATS.requests.values())} requests in "
        f"{elapsed:.0f} s ({dict(STATS.phases)}); statuses {dict(sorted(STATS.statuses.items()))}; "
        f"{STATS.out_of_time} examples skipped over the time budget; stateful machine stopped as flaky: "
        f"{STATS.flaky_stops}"
    ]
    return lines


# A generated model name is almost never a real one; these get past the catalogue so the parameters are fuzzed.
REAL_MODELS = {
    "/api/boxes/{box_id}/generate/": "google/nano-banana",
    "/api/assets/{asset_id}/animate/": "bytedance/seedance-1.5-pro",
}


def pin_to_real_objects(case: schemathesis.Case, world: World) -> None:
    """Most generated ids are replaced by real ones (one in four is kept, so unknown ids are fuzzed too).
    A DELETE gets an object made for it, so the others keep theirs. Two in three model names become real ones
    (and then some parameter names)."""
    model = REAL_MODELS.get(case.operation.path)
    body = case.body
    if (
        model
        and isinstance(body, dict)
        and isinstance(body.get("model"), str)
        and len(body["model"]) % 3 != 0
    ):
        body["model"] = model
        params = body.get("params")
        if isinstance(params, dict) and params and len(next(iter(params))) % 2 == 1:
            params["aspect_ratio"] = params.pop(next(iter(params)))  # a real parameter with a fuzzed value
    for name, value in list(case.path_parameters.items()):
        if name not in world.ids or not isinstance(value, int | str):
            continue
        if case.method.upper() == "DELETE":
            if world.victims.get(name):
                case.path_parameters[name] = world.victims[name].pop()
            elif value == world.ids[name]:  # out of victims: never the shared object
                case.path_parameters[name] = MAX_DB_ID
        elif len(str(value)) % 4 == 0:
            continue
        elif isinstance(value, int) == isinstance(world.ids[name], int):
            case.path_parameters[name] = world.ids[name]


# Smart edit waits for a rewrite workflow that no worker runs here, so a valid request answers its documented
# 504 (upstream_timeout) after the 1 s limit set below: for that operation and status alone, `not_a_server_error`
# is not run (status, content type and body are still checked). tests/smart_edit runs it with a worker. Health
# likewise answers its documented 503 ("degraded": no worker polls the task queue; tests/api/test_outages.py).
WORKERLESS_TIMEOUTS = {("POST", "/api/smart-edit/", 504), ("GET", "/api/health/", 503)}


LOGS_OUT_EVERYWHERE = "/api/auth/logout-everywhere/"


def keep_logged_in(case: schemathesis.Case, world: World) -> None:
    """Logout everywhere is fuzzed as another user: as the fuzz user it would revoke the token every other
    operation uses (then they would only be fuzzed for their 401)."""
    if case.operation.path == LOGS_OUT_EVERYWHERE:
        case.headers = {**(case.headers or {}), **world.disposable}


def send(case: schemathesis.Case, **kwargs: Any) -> schemathesis.Response:
    """The answer (an unhandled exception in the in-process app is raised here: a server error fails the test)."""
    STATS.requests[f"{case.method.upper()} {case.operation.path}"] += 1
    STATS.phases[STATS.phase] += 1
    response = case.call(**kwargs)
    STATS.statuses[response.status_code] += 1
    STATS.last_answer = time.monotonic()
    return response


def check(case: schemathesis.Case, response: schemathesis.Response, **transport_kwargs: Any) -> None:
    checks = CHECKS
    if (case.method.upper(), case.operation.path, response.status_code) in WORKERLESS_TIMEOUTS:
        checks = [check for check in CHECKS if check is not schemathesis.checks.not_a_server_error]
    case.validate_response(response, checks=checks, transport_kwargs=transport_kwargs)


def documented_operations() -> list[tuple[str, str]]:
    """Every operation of the OpenAPI document, read at collection time (no service is needed for that)."""
    from api.main import create_app
    from core.settings import Settings

    paths = create_app(Settings()).openapi()["paths"]
    return [(method.upper(), path) for path, operations in paths.items() for method in operations]


@pytest.mark.parametrize(("method", "path"), documented_operations(), ids=lambda value: str(value))
def test_every_operation_answers_as_documented(
    method: str, path: str, fuzz_schema: schemathesis.BaseSchema, world: World
) -> None:
    operation = fuzz_schema[path][method]
    cases = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE)
    )

    started, sent = time.monotonic(), 0

    @HYPOTHESIS
    @hypothesis.given(case=cases)
    def fuzz(case: schemathesis.Case) -> None:
        nonlocal sent
        if sent >= MIN_EXAMPLES and time.monotonic() - started > OPERATION_BUDGET_SECONDS:
            STATS.out_of_time += 1
            return
        sent += 1
        pin_to_real_objects(case, world)
        keep_logged_in(case, world)
        check(case, send(case))

    fuzz()


def test_stateful_sequences_answer_as_documented(fuzz_schema: schemathesis.BaseSchema, world: World) -> None:
    failures: list[str] = []

    class Machine(fuzz_schema.as_state_machine()):  # type: ignore[misc]
        def step(self, input: Any) -> Any:
            keep_logged_in(input.case, world)
            response = send(input.case)
            try:
                check(input.case, response)
            except Exception as exc:
                failures.append(
                    f"{input.case.method} {input.case.formatted_path} → {response.status_code}: {exc}"
                )
                raise
            return StepOutput(response, input.case)

    STATS.phase = "stateful"
    scenarios = STATEFUL_SCENARIOS if not STATS.over_budget() else 3  # still a few, even out of time
    try:
        Machine.run(
            settings=hypothesis.settings(
                HYPOTHESIS, max_examples=scenarios, stateful_step_count=STATEFUL_STEPS
            )
        )
    except hypothesis.errors.FlakyStrategyDefinition:
        # The server keeps its state between scenarios (it is not reset), so a link that was followable when
        # Hypothesis first walked a sequence may not be when it walks that prefix again (a precondition reads an
        # earlier answer): Hypothesis then stops the machine as "flaky". The steps it ran were still checked; any
        # check that failed is in `failures` and fails the test here.
        assert not failures, failures
        STATS.flaky_stops += 1
