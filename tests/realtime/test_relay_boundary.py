"""Who reads the socket relay: only the socket side (`api/ws.py`, the API lifespan, `core.realtime`).

Services, activities, workflows and the worker publish through `core.events` and never load `core.relay`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOCKET_SIDE = {"core.relay", "core.realtime"}

PROBE = """
import importlib, json, sys
loaded = {}
for name in json.loads(sys.argv[1]):
    importlib.import_module(name)
    loaded[name] = "core.relay" in sys.modules
print(json.dumps(loaded))
"""


def publisher_modules() -> list[str]:
    names = []
    for package in ("core", "activities", "workflows", "worker"):
        for path in sorted((ROOT / package).glob("*.py")):
            name = f"{package}.{path.stem}" if path.stem != "__init__" else package
            if name not in SOCKET_SIDE:
                names.append(name)
    return names


def first_loads_of_relay(names: list[str]) -> dict[str, bool]:
    """Import `names` in order in a fresh interpreter; for each, whether core.relay was loaded by then."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(names)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    loaded: dict[str, bool] = json.loads(result.stdout.strip().splitlines()[-1])
    return loaded


def test_publishers_never_load_the_relay() -> None:
    names = publisher_modules()
    assert {"core.events", "core.generation", "activities.events", "worker.deps"} <= set(names)
    loaded = first_loads_of_relay(names)
    assert [name for name, relay in loaded.items() if relay] == []


def test_the_probe_sees_the_relay_when_the_socket_side_loads_it() -> None:
    # The check above would pass vacuously if the probe could not see an import; the socket side does import it.
    loaded = first_loads_of_relay(["core.events", "core.realtime"])
    assert loaded == {"core.events": False, "core.realtime": True}
