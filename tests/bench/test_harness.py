"""The benches share one harness (`bench/harness.py`): no bench script starts services or processes itself."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import httpx
import pytest

from bench.harness import percentile, server, timing_line

BENCH = Path(__file__).resolve().parents[2] / "bench"
STARTS_THINGS = ("subprocess", "uvicorn", "devstack", "tests", "socket", "tempfile", "shutil")
"""Modules a bench script would import to start services or servers, or a test fixture, by itself."""
START_CALLS = {"Popen", "create_subprocess_exec", "start_stack", "migrate", "free_port", "spawn"}


def bench_scripts() -> list[Path]:
    return sorted(p for p in BENCH.glob("*.py") if p.name not in ("__init__.py", "harness.py"))


def imported_modules(tree: ast.Module) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
    return modules


@pytest.mark.parametrize("script", bench_scripts(), ids=lambda p: p.name)
def test_bench_script_starts_nothing_itself(script: Path) -> None:
    tree = ast.parse(script.read_text())
    starting = {m for m in imported_modules(tree) if m.split(".")[0] in STARTS_THINGS}
    assert not starting, (
        f"{script.name} imports {sorted(starting)}: start services and servers via bench.harness"
    )
    called = {
        node.attr if isinstance(node, ast.Attribute) else node.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute | ast.Name)
    } & START_CALLS
    assert not called, f"{script.name} uses {sorted(called)}: start services and servers via bench.harness"


@pytest.mark.parametrize("script", [p for p in bench_scripts() if p.name != "floor.py"], ids=lambda p: p.name)
def test_bench_script_uses_the_harness(script: Path) -> None:
    assert "bench.harness" in imported_modules(ast.parse(script.read_text()))


def test_a_server_answers_then_is_stopped(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("here")
    command = [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "--directory", str(tmp_path)]
    with server("static", lambda port: [*command, str(port)], {}, tmp_path / "logs") as running:
        assert httpx.get(f"{running.url}/index.html").text == "here"
        process = running.service.process
    assert process.poll() is not None
    with pytest.raises(httpx.ConnectError):
        httpx.get(running.url)


def test_a_server_that_exits_at_start_says_why(tmp_path: Path) -> None:
    command = [sys.executable, "-c", "raise SystemExit('no such bench setting')"]
    with (
        pytest.raises(RuntimeError, match="no such bench setting"),
        server("broken", lambda port: command, {}, tmp_path / "logs"),
    ):
        pass


def test_percentiles_are_nearest_rank_and_lines_are_in_milliseconds() -> None:
    seconds = [n / 1000 for n in range(1, 101)]  # 1 ms .. 100 ms
    assert percentile(seconds, 0.5) == pytest.approx(0.051)
    assert percentile(seconds, 0.95) == pytest.approx(0.095)
    assert percentile(seconds, 1.0) == pytest.approx(0.100)
    line = timing_line("requests", seconds)
    assert "n=100" in line and "p95=   95.00 ms" in line and "max=  100.00 ms" in line
    assert timing_line("none", []).endswith("no samples")
