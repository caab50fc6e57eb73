"""Kie.ai callback signatures: the client's check (`core.kie`) and the simulator's signing (`kie_simulator`) are two
implementations of kie-api.md §1.3, each held to a fixed vector, so a bug shared by both cannot pass the callback
tests unnoticed."""

from __future__ import annotations

import ast
import base64
import hashlib
import hmac
from pathlib import Path

from core.kie import verify_webhook_signature, webhook_signature
from kie_simulator.app import sign_callback

ROOT = Path(__file__).resolve().parents[2]

# kie-api.md §1.3: X-Webhook-Signature = base64(HMAC_SHA256(key=webhookHmacKey, msg=f"{taskId}.{timestamp}")),
# X-Webhook-Timestamp in Unix seconds. The task id is the doc's callback example; the timestamp is its
# completeTime in seconds.
KEY = "whk_5e3f0c1d2a"
TASK_ID = "b31f0a77d507765367dc8f5868ba3ceb"
TIMESTAMP = "1786428635"
# Computed outside Python:
#   printf '%s' "b31f0a77d507765367dc8f5868ba3ceb.1786428635" | openssl dgst -sha256 -hmac whk_5e3f0c1d2a -binary | base64
EXPECTED = "uDBqA7SoiwZxAcrCFil6wVrDCTw/FNguVWy0cLbXsUs="


def test_the_fixed_vector_follows_the_documented_recipe() -> None:
    message = f"{TASK_ID}.{TIMESTAMP}".encode()
    digest = hmac.new(KEY.encode(), message, hashlib.sha256).digest()
    assert len(digest) == 32
    assert base64.b64encode(digest).decode() == EXPECTED


def test_the_client_and_the_simulator_both_produce_the_fixed_vector() -> None:
    assert webhook_signature(KEY, TASK_ID, TIMESTAMP) == EXPECTED
    assert sign_callback(KEY, TASK_ID, TIMESTAMP) == EXPECTED


def test_the_client_accepts_the_fixed_vector_and_nothing_near_it() -> None:
    assert verify_webhook_signature(KEY, TASK_ID, TIMESTAMP, EXPECTED)
    assert verify_webhook_signature(KEY, TASK_ID, TIMESTAMP, sign_callback(KEY, TASK_ID, TIMESTAMP))
    assert not verify_webhook_signature(KEY, TASK_ID, str(int(TIMESTAMP) + 1), EXPECTED)
    assert not verify_webhook_signature(KEY, TASK_ID[:-1] + "f", TIMESTAMP, EXPECTED)
    assert not verify_webhook_signature(KEY + "x", TASK_ID, TIMESTAMP, EXPECTED)
    assert not verify_webhook_signature(KEY, TASK_ID, TIMESTAMP, EXPECTED.rstrip("="))
    assert not verify_webhook_signature(KEY, TASK_ID, TIMESTAMP, "é" + EXPECTED[1:])


def test_the_simulator_signs_with_its_own_code() -> None:
    """No module of the simulator reaches core.kie's signing or verifying helpers."""
    forbidden = {"webhook_signature", "verify_webhook_signature"}
    reached: list[str] = []
    for path in sorted((ROOT / "kie_simulator").glob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "core.kie":
                reached += [f"{path.name}: {alias.name}" for alias in node.names if alias.name in forbidden]
            elif isinstance(node, ast.Import):
                reached += [f"{path.name}: import {a.name}" for a in node.names if a.name == "core.kie"]
            elif isinstance(node, ast.Attribute) and node.attr in forbidden:
                reached.append(f"{path.name}: .{node.attr}")
    assert reached == []
