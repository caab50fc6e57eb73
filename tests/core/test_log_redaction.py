"""What the log filter leaves of a request line: paths and harmless parameters, never a credential's value."""

from __future__ import annotations

import logging

import pytest

from api.log_redaction import RedactSecrets, redact


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("/ws/projects/3/?token=eyJ.a.b&since=1-0", "/ws/projects/3/?token=[redacted]&since=1-0"),
        ("/ws/projects/3/?since=1-0&ticket=abc", "/ws/projects/3/?since=1-0&ticket=[redacted]"),
        ("/ws/projects/3/?%74oken=eyJ", "/ws/projects/3/?%74oken=[redacted]"),
        ("/ws/public/4b87b2ea-6a5d/?since=1-0", "/ws/public/[redacted]/?since=1-0"),
        ("/api/public/4b87b2ea-6a5d/comments/?limit=5", "/api/public/[redacted]/comments/?limit=5"),
        ('"POST /api/join/4b87b2ea-6a5d/ HTTP/1.1" 200', '"POST /api/join/[redacted]/ HTTP/1.1" 200'),
        ("/x?X-Amz-Signature=ff&X-Amz-Expires=60", "/x?X-Amz-Signature=[redacted]&X-Amz-Expires=60"),
        ("/api/auth/registration/?invite=0c9d-4e2f", "/api/auth/registration/?invite=[redacted]"),
        ("/api/projects/?limit=5&offset=10", "/api/projects/?limit=5&offset=10"),
        ("/api/projects/", "/api/projects/"),
    ],
)
def test_redact(line: str, expected: str) -> None:
    assert redact(line) == expected


def test_the_filter_rewrites_a_records_arguments() -> None:
    record = logging.LogRecord(
        "uvicorn.error", logging.INFO, __file__, 1, '%s - "WebSocket %s" [accepted]',
        ("127.0.0.1:1", "/ws/projects/1/?token=eyJ.secret"), None,
    )  # fmt: skip
    assert RedactSecrets().filter(record)
    assert record.getMessage() == '127.0.0.1:1 - "WebSocket /ws/projects/1/?token=[redacted]" [accepted]'
