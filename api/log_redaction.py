"""Keeps bearer secrets out of Uvicorn's log lines: credential values in query strings and share tokens in paths.

Uvicorn logs each request's path with its query string (`uvicorn.access`) and each socket's (`uvicorn.error`:
`"WebSocket /ws/projects/1/?token=…" [accepted]`). `?token=` is an access token, `?ticket=` a socket ticket and
`/ws/public/<token>/` (like `/api/public/<token>/`) a review link's token, `/api/join/<token>/` a studio invite's:
whoever reads the log could use them.
`install_log_redaction()` (called by `create_app`, so it holds under `make dev` and in the container alike) puts a
filter on both loggers that rewrites those values to `[redacted]` before any handler formats the line.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote

REDACTED = "[redacted]"
REDACTED_LOGGERS = ("uvicorn.access", "uvicorn.error", "api.errors")
"""Uvicorn's request and socket lines, and ours naming a request's path (an unexpected error's)."""

_SECRET_KEY_PARTS = (
    "token",
    "ticket",
    "invite",
    "secret",
    "password",
    "signature",
    "key",
    "auth",
    "credential",
)
"""A query parameter whose name contains one of these has its value redacted (`X-Amz-Signature` included)."""

_SHARE_TOKEN_IN_PATH = re.compile(r"(/(?:ws|api)/public/|/api/join/)[^/?#\s\"]+")
_PATH_WITH_QUERY = re.compile(r"(?P<path>/[^\s?\"]*)\?(?P<query>[^\s\"#]*)")


def _redact_query(query: str) -> str:
    parts = []
    for part in query.split("&"):
        name, sep, _ = part.partition("=")
        if sep and any(word in unquote(name).lower() for word in _SECRET_KEY_PARTS):
            parts.append(f"{name}={REDACTED}")
        else:
            parts.append(part)
    return "&".join(parts)


def redact(text: str) -> str:
    """`text` with share tokens in public paths and credential values in query strings replaced."""
    if "/" not in text:
        return text
    text = _SHARE_TOKEN_IN_PATH.sub(lambda m: m.group(1) + REDACTED, text)
    return _PATH_WITH_QUERY.sub(lambda m: f"{m.group('path')}?{_redact_query(m.group('query'))}", text)


class RedactSecrets(logging.Filter):
    """Rewrites a record's string arguments (and a message without arguments) through `redact`."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(redact(arg) if isinstance(arg, str) else arg for arg in record.args)
        elif isinstance(record.msg, str) and not record.args:
            record.msg = redact(record.msg)
        return True


def install_log_redaction() -> None:
    """Idempotent: each logger gets one filter however many apps a process creates."""
    for name in REDACTED_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(existing, RedactSecrets) for existing in logger.filters):
            logger.addFilter(RedactSecrets())
