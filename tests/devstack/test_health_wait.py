"""What the launcher accepts as "the API is up" before it prints READY."""

import json

from devstack.__main__ import health_accepted


def body(**oks: bool) -> str:
    checks = {
        name: {"ok": ok, "latency_ms": 1.0, "error": None if ok else "down"} for name, ok in oks.items()
    }
    return json.dumps({"status": "ok" if all(oks.values()) else "degraded", "checks": checks})


def test_a_healthy_api_is_up_with_or_without_a_worker() -> None:
    assert health_accepted(200, body(database=True, worker=True), worker_expected=True)
    assert health_accepted(200, body(database=True), worker_expected=False)  # before health knew the worker


def test_without_a_worker_a_503_for_the_worker_alone_is_up() -> None:
    assert health_accepted(503, body(database=True, redis=True, worker=False), worker_expected=False)


def test_a_missing_worker_is_not_up_when_the_launcher_started_one() -> None:
    assert not health_accepted(503, body(database=True, worker=False), worker_expected=True)


def test_any_other_failing_check_is_not_up() -> None:
    assert not health_accepted(503, body(database=False, worker=False), worker_expected=False)
    assert not health_accepted(503, body(database=False, worker=True), worker_expected=False)
    assert not health_accepted(503, "not json", worker_expected=False)
    assert not health_accepted(500, body(database=True, worker=False), worker_expected=False)
