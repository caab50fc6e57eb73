"""A free port can be taken between `free_port()` and the server's bind (CI lost Temporal that way: "bind: address
already in use", then a panic). With free ports the stack tries fresh ones; with fixed ports it says why it failed.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack import services, stack
from devstack.services import ExitedEarly, free_port


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port another process holds (listening, as a server that won the race would)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


def only_temporal() -> dict[str, str]:
    """Everything but Temporal comes from the environment, so `start_stack` starts Temporal alone."""
    return {
        "DATABASE_URL": "postgresql+psycopg://unused@127.0.0.1:1/unused",
        "REDIS_URL": "redis://127.0.0.1:1/0",
        "S3_ENDPOINT_URL": "http://127.0.0.1:1",
    }


def test_a_port_lost_to_a_race_is_retried_on_a_fresh_one(
    tmp_path: Path, taken_port: int, monkeypatch
) -> None:
    handed_out: list[int] = []

    def first_one_taken() -> int:
        port = taken_port if not handed_out else free_port()
        handed_out.append(port)
        return port

    monkeypatch.setattr(stack, "free_port", first_one_taken)
    running = stack.start_stack(tmp_path, fixed_ports=False, environ=only_temporal())
    try:
        address = running.env["TEMPORAL_ADDRESS"]
        assert address != f"127.0.0.1:{taken_port}"
        assert len(handed_out) == 4  # frontend + UI, twice
        assert services.port_open(int(address.rsplit(":", 1)[1]))
        log = (tmp_path / "logs" / "temporal.log").read_text()
        assert "address already in use" in log  # the first attempt really did lose its port
    finally:
        running.stop()


def test_with_fixed_ports_the_error_shows_why(tmp_path: Path, taken_port: int) -> None:
    with pytest.raises(ExitedEarly) as caught:
        services.start_temporal(tmp_path / "temporal", taken_port, free_port(), tmp_path / "temporal.log")
    assert services.lost_its_port(caught.value)
    assert str(tmp_path / "temporal.log") in str(caught.value)


def test_an_early_exit_for_another_reason_is_not_retried(tmp_path: Path, monkeypatch) -> None:
    starts: list[int] = []
    log = tmp_path / "broken.log"
    log.write_text("FATAL: data directory has wrong ownership\n")

    def broken() -> services.RunningService:
        starts.append(1)
        raise ExitedEarly(
            f"broken exited with code 1 before it was ready; the end of {log}:\n{log.read_text()}"
        )

    with pytest.raises(ExitedEarly, match="wrong ownership"):
        stack._start(broken, fixed_ports=False)
    assert starts == [1]
