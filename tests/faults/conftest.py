"""One private product per module (its own services, simulator, worker and API): the fault tests kill its parts."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.faults.harness import FaultStack, start_fault_stack


@pytest.fixture(scope="module")
def faults(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultStack]:
    stack = start_fault_stack(tmp_path_factory.mktemp("faults"))
    yield stack
    stack.stop()
