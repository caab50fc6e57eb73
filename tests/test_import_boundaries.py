"""The import rules of the layout (ARCHITECTURE.md "Layout"), checked on the source itself.

- `core/` is what `api/` and `activities/` share: it never imports `workflows/` or `activities/`.
- `api/` and `activities/` never import each other; `api/` never imports `workflows/` either (it reaches Temporal
  through `core.temporal` and names workflows through `core.contract`).
- A workflow module, imported alone in a clean interpreter, loads none of SQLAlchemy/SQLModel, boto3/botocore,
  httpx, redis or broadcaster, no activity, and no module of ours that imports one of those: workflows reference
  activities by name and import only temporalio, the stdlib and the table-free `core.contract`.
- Only the socket side reads the socket relay: no module of `core/`, `activities/`, `workflows/` or `worker/` other
  than `core.relay` and `core.realtime` loads `core.relay` (publishers use `core.events` alone; in `api/`, `ws.py`,
  `deps.py` and the lifespan in `main.py` import it).
- Publishers do not load the tables through `core.events` (it types the Asset under TYPE_CHECKING only).
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OUR_PACKAGES = ("api", "activities", "core", "devstack", "kie_simulator", "worker", "workflows")
HEAVY = ("sqlalchemy", "sqlmodel", "boto3", "botocore", "httpx", "redis", "broadcaster", "psycopg", "asyncpg")
"""What a workflow module must not load: I/O clients and the ORM (and what drags them in)."""

FORBIDDEN_IMPORTS = {
    "core": ("workflows", "activities", "api", "worker"),
    "api": ("activities", "workflows", "worker"),
    "activities": ("api", "workflows", "worker"),
    "workflows": ("activities", "api", "worker"),
}
"""Package → the packages of ours its modules may not import (anywhere in the module, not only at the top)."""


def imported_modules(path: Path) -> set[str]:
    """Every module an `import` or `from … import` in this file names (absolute names; ours are absolute)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def modules_of(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def names_package(name: str, package: str) -> bool:
    return name == package or name.startswith(f"{package}.")


@pytest.mark.parametrize("package", sorted(FORBIDDEN_IMPORTS))
def test_package_imports_respect_the_layout(package: str) -> None:
    broken = [
        f"{module_name(path)} imports {name}"
        for path in modules_of(package)
        for name in sorted(imported_modules(path))
        if any(names_package(name, forbidden) for forbidden in FORBIDDEN_IMPORTS[package])
    ]
    assert not broken, "\n".join(broken)


def heavy_modules_of_ours() -> set[str]:
    """Our modules whose source imports (directly) one of HEAVY: loading one of them would load it."""
    return {
        module_name(path)
        for package in OUR_PACKAGES
        for path in modules_of(package)
        if any(names_package(name, heavy) for name in imported_modules(path) for heavy in HEAVY)
    }


PROBE = """
import importlib, json, sys
loaded = {}
for name in json.loads(sys.argv[1]):
    importlib.import_module(name)
    loaded[name] = sorted(sys.modules)
print(json.dumps(loaded))
"""


def loaded_after(names: list[str]) -> dict[str, set[str]]:
    """Import `names` in order in one fresh interpreter; for each, every module loaded by then."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(names)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    loaded: dict[str, list[str]] = json.loads(done.stdout.strip().splitlines()[-1])
    return {name: set(modules) for name, modules in loaded.items()}


WORKFLOW_MODULES = [module_name(path) for path in modules_of("workflows") if path.name != "__init__.py"]


@pytest.mark.parametrize("module", WORKFLOW_MODULES)
def test_workflow_module_loads_no_io_client(module: str) -> None:
    loaded = loaded_after([module])[module]
    heavy_libraries = sorted(
        {name.split(".")[0] for name in loaded if any(names_package(name, h) for h in HEAVY)}
    )
    activities = sorted(name for name in loaded if names_package(name, "activities"))
    heavy_ours = sorted(loaded & heavy_modules_of_ours())
    assert not heavy_libraries, f"{module} loads {heavy_libraries}"
    assert not activities, f"{module} loads {activities}"
    assert not heavy_ours, f"{module} loads modules of ours that import I/O clients: {heavy_ours}"


SOCKET_SIDE = {"core.relay", "core.realtime"}


def publisher_modules() -> list[str]:
    return [
        module_name(path)
        for package in ("core", "activities", "workflows", "worker")
        for path in modules_of(package)
        if module_name(path) not in SOCKET_SIDE
    ]


def test_publishers_never_load_the_relay() -> None:
    names = publisher_modules()
    assert {"core.events", "core.generation", "activities.events", "worker.deps"} <= set(names)
    loaded = loaded_after(names)
    assert [name for name in names if "core.relay" in loaded[name]] == []


def test_the_probe_sees_the_relay_when_the_socket_side_loads_it() -> None:
    # The check above would pass vacuously if the probe could not see an import; the socket side does import it.
    loaded = loaded_after(["core.events", "core.realtime"])
    assert {name: "core.relay" in modules for name, modules in loaded.items()} == {
        "core.events": False,
        "core.realtime": True,
    }


def test_core_events_loads_no_table() -> None:
    loaded = loaded_after(["core.events", "core.assets"])
    assert "core.models" not in loaded["core.events"]
    assert "core.models" in loaded["core.assets"]  # the probe sees the tables when a module does load them


def test_the_checks_see_the_tree() -> None:
    """The rules above check something: the packages exist and hold modules (a moved tree would pass silently)."""
    assert WORKFLOW_MODULES
    assert all(modules_of(package) for package in FORBIDDEN_IMPORTS)
    assert "core.models" in heavy_modules_of_ours()


def test_no_class_name_is_defined_twice() -> None:
    """One home per concern: a class (an error type above all: `EventsUnavailable` once had two) is defined once in
    api/, core/, activities/, workflows/ and worker/, so importing it from the wrong module cannot miss a catch.
    The Kie.ai simulator keeps its own code on purpose and is not counted."""
    homes: dict[str, list[str]] = {}
    for package in ("api", "core", "activities", "workflows", "worker"):
        for path in modules_of(package):
            for node in ast.parse(path.read_text(), filename=str(path)).body:
                if isinstance(node, ast.ClassDef):
                    homes.setdefault(node.name, []).append(module_name(path))
    assert len(homes) > 50  # the scan sees the tree
    assert {name: where for name, where in homes.items() if len(where) > 1} == {}
