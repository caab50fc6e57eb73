"""Prints the schema fuzz run's figures (operations, requests, statuses) at the end of the pytest run."""

from __future__ import annotations

import pytest


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    from tests.fuzz.test_openapi import summary

    for line in summary():
        terminalreporter.write_line(line)
