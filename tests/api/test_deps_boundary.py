"""`api/deps.py` is the only way a route reaches the world or the transaction: route modules (and the sockets)
never read `app.state`, never import each other, never commit, never create a Redis client, never check
`is_superuser` by hand, and never build a `Retry-After` header (the error handler does). Every dependency they
reach runs on the event loop (no thread-pool hop per request). A project, box or asset named in the path is loaded
only through the role aliases (`ViewedProject`, `EditedBox` …), never by a route calling a loader itself."""

from __future__ import annotations

import ast
import inspect
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import get_dependant
from fastapi.routing import iter_route_contexts

from api.deps import get_events, get_session
from api.main import create_app
from core.settings import Settings

API = Path(__file__).resolve().parents[2] / "api"
ROUTE_MODULES = [*sorted((API / "routes").glob("*.py")), API / "ws.py"]
REDIS_CONSTRUCTORS = {"Redis", "StrictRedis", "from_url", "redis_client"}
# What loads a project, box or asset by id. Routes get them from the role aliases of api/deps.py, which check the
# caller's membership and role (docs/roles.md); a route calling one of these could skip or weaken that check.
OBJECT_LOADERS = {"get_project", "get_box", "get_asset", "get_box_or_404"}
# Nor does a route query those tables itself (`session.get(Box, …)`, `select(Asset)`).
STUDIO_OBJECTS = {"Project", "Box", "Asset", "Comment", "SharedLink"}
# The exceptions, each with its reason:
LOADERS_ALLOWED = {
    # The project id comes in the body, not the path; get_project checks the membership (viewer) all the same.
    ("socket_tickets.py", "get_project"),
    # The box of an asset the route already loaded through ViewedAsset: no other object can be reached.
    ("comments.py", "get_box_or_404"),
    # The review page's dependency types the link its token finds (core.sharing loads it; no login, no studio).
    ("public.py", "SharedLink"),
}


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), filename=str(path))


def _where(path: Path, node: ast.AST) -> str:
    return f"{path.relative_to(API.parent)}:{getattr(node, 'lineno', '?')}"


def _called_name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


@pytest.mark.parametrize("path", ROUTE_MODULES, ids=lambda p: p.name)
def test_a_route_module_reaches_the_app_only_through_dependencies(path: Path) -> None:
    found = []
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Attribute) and node.attr in {"app", "state"}:
            found.append(f"{_where(path, node)} .{node.attr} (use a dependency from api/deps.py)")
        elif isinstance(node, ast.Attribute) and node.attr == "is_superuser":
            found.append(f"{_where(path, node)} is_superuser checked by hand (use superuser(action))")
        elif isinstance(node, ast.Call) and _called_name(node) == "commit":
            found.append(f"{_where(path, node)} commits (the session dependency commits, then sends events)")
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(("api.routes", "api.main")):
            found.append(f"{_where(path, node)} imports {node.module} (share it through api/deps.py)")
        elif isinstance(node, ast.Import) and any(
            a.name.startswith(("api.routes", "api.main")) for a in node.names
        ):
            found.append(f"{_where(path, node)} imports another route module")
    assert found == []


def test_routes_load_projects_boxes_and_assets_only_through_the_role_aliases() -> None:
    found = {
        (path.name, alias.name)
        for path in ROUTE_MODULES
        for node in ast.walk(_tree(path))
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
        if alias.name in OBJECT_LOADERS or (node.module == "core.models" and alias.name in STUDIO_OBJECTS)
    }
    assert found == LOADERS_ALLOWED
    # The aliases themselves go through the loaders that check the role.
    deps = _tree(API / "deps.py")
    called = {_called_name(node) for node in ast.walk(deps) if isinstance(node, ast.Call)}
    assert {"get_project", "get_box", "get_asset"} <= called


def test_the_api_creates_redis_clients_only_in_the_lifespan() -> None:
    found = [
        _where(path, node)
        for path in sorted(API.rglob("*.py"))
        if path.name != "main.py"
        for node in ast.walk(_tree(path))
        if isinstance(node, ast.Call) and _called_name(node) in REDIS_CONSTRUCTORS
    ]
    assert found == []


def test_retry_after_is_built_only_by_the_error_handlers() -> None:
    found = [
        _where(path, node)
        for path in sorted(API.rglob("*.py"))
        if path.name != "errors.py"
        for node in ast.walk(_tree(path))
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and "retry-after" in node.value.lower()
    ]
    assert found == []


def _dependencies(dependant: Dependant) -> Iterator[Dependant]:
    for sub in dependant.dependencies:
        yield sub
        yield from _dependencies(sub)


def _app_dependencies() -> dict[str, Dependant]:
    """Every dependency some route or socket of the app reaches (router-level ones included), by name."""
    app = create_app(Settings(_env_file=None))
    found: dict[str, Dependant] = {}
    for route in iter_route_contexts(app.routes):
        dependant = getattr(route, "dependant", None)
        if dependant is None:  # the SPA's mount, the docs routes
            continue
        for sub in _dependencies(dependant):
            if sub.call is not None:
                found[f"{sub.call.__module__}.{getattr(sub.call, '__qualname__', sub.call)}"] = sub
    return found


def _runs_on_the_loop(call: object) -> bool:
    """What FastAPI awaits rather than sends to the thread pool: an `async def` function or async generator, or an
    instance whose `__call__` is one (HTTPBearer). A class is always threaded: its __init__ is a plain function."""
    if inspect.isclass(call):
        return False
    function = call if inspect.isroutine(call) else getattr(call, "__call__", None)
    return inspect.iscoroutinefunction(function) or inspect.isasyncgenfunction(function)


def test_every_dependency_runs_on_the_event_loop() -> None:
    """A plain `def` dependency (or a class, whose __init__ is a plain function) is run by FastAPI through the
    thread pool: a hop per request that costs more than the getter itself and shares anyio's 40 tokens. So every
    dependency is an `async def` (a coroutine or an async generator): a getter that only reads state, a class the
    route uses (Pagination, AfterDeletion) built by an async function. A dependency that must block would say so
    here by name; there is none."""
    dependencies = _app_dependencies()
    # The walk reaches the routes' trees, the sockets' (the socket limits) and router-level ones (no_store).
    reached = {"api.deps.get_session", "api.deps.get_socket_limits", "api.routes.public.no_store"}
    assert reached <= set(dependencies)
    threaded = sorted(
        name for name, dependant in dependencies.items() if not _runs_on_the_loop(dependant.call)
    )
    assert threaded == []


def test_the_request_outbox_exists_only_with_the_request_transaction() -> None:
    """EventsDep is taken from the request's session (its `info["outbox"]`), which sends it after its commit: a
    route cannot queue events that nothing sends."""
    events = get_dependant(path="/", call=get_events)
    assert get_session in {d.call for d in _dependencies(events)}
