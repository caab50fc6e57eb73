"""`api/deps.py` is the only way a route reaches the world or the transaction: route modules (and the sockets)
never read `app.state`, never import each other, never commit, never create a Redis client, never check
`is_superuser` by hand, and never build a `Retry-After` header (the error handler does)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

API = Path(__file__).resolve().parents[2] / "api"
ROUTE_MODULES = [*sorted((API / "routes").glob("*.py")), API / "ws.py"]
REDIS_CONSTRUCTORS = {"Redis", "StrictRedis", "from_url", "redis_client"}


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
