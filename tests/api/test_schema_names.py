"""The API's schemas are named by who reads them: the owner's by the `XCreate / XUpdate / XPublic` family (as in
FastAPI's full-stack template, with its `UserRegister`, `UserLogin` and `Token`), the guest review view's `Review*`.
Read from the OpenAPI document, so a new route with a `FooRequest` or a guest route answering an owner's schema
fails here."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from api.main import create_app

AUTH_FORMS = {"UserRegister", "UserLogin"}
"""Request bodies that create nothing the owner later reads as `XPublic`: registering and logging in."""
GUEST_PREFIX = "/api/public/"
PAGE = re.compile(r"^Page_(?P<item>\w+)_$")

Operation = tuple[str, str, dict[str, Any]]


@pytest.fixture(scope="module")
def openapi() -> dict[str, Any]:
    return create_app().openapi()


def operations(openapi: dict[str, Any]) -> Iterator[Operation]:
    for path, methods in openapi["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def refs(node: Any) -> Iterator[str]:
    """Component names referenced anywhere inside a schema node."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            yield ref.rsplit("/", 1)[-1]
        for value in node.values():
            yield from refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value)


def reachable(openapi: dict[str, Any], roots: list[str]) -> set[str]:
    """The object schemas reachable from `roots` through `$ref`s (enums are shared vocabulary, left out)."""
    components = openapi["components"]["schemas"]
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo.extend(refs(components[name]))
    return {name for name in seen if "enum" not in components[name]}


def item_name(name: str) -> str:
    """`Page_AssetPublic_` is a page of `AssetPublic`: the item names the schema."""
    match = PAGE.match(name)
    return match["item"] if match else name


def json_schema(content: dict[str, Any]) -> dict[str, Any] | None:
    media = content.get("application/json")
    return media.get("schema") if media else None


def request_bodies(openapi: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    for path, method, operation in operations(openapi):
        schema = json_schema(operation.get("requestBody", {}).get("content", {}))
        for name in refs(schema):
            yield path, method, name


def answers(openapi: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    """The component each operation's success answer names (errors share ErrorBody, tested elsewhere)."""
    for path, method, operation in operations(openapi):
        for status, response in operation["responses"].items():
            if status.startswith("2"):
                for name in refs(json_schema(response.get("content", {})) or {}):
                    yield path, method, name


def test_request_bodies_are_named_create_or_update(openapi):
    for path, method, name in request_bodies(openapi):
        assert name.endswith(("Create", "Update")) or name in AUTH_FORMS, (method, path, name)
    names = {name for _, _, name in request_bodies(openapi)}
    assert {
        "ProjectCreate",
        "BoxOrderUpdate",
        "GenerationCreate",
        "ReviewCommentCreate",
        "UserLogin",
    } <= names


def test_what_the_owner_reads_is_named_public(openapi):
    for path, method, name in answers(openapi):
        if path.startswith(GUEST_PREFIX):
            continue
        for reached in reachable(openapi, [name]):
            assert item_name(reached).endswith("Public") or reached == "Token", (method, path, reached)


def test_the_guest_review_view_reads_and_sends_only_review_types(openapi):
    guest = [
        name
        for path, _, name in [*answers(openapi), *request_bodies(openapi)]
        if path.startswith(GUEST_PREFIX)
    ]
    assert guest, "no guest route found under /api/public/"
    seen = reachable(openapi, guest)
    assert {"ReviewProject", "ReviewBox", "ReviewAsset", "ReviewComment", "ReviewCommentCreate"} <= seen
    for name in seen:
        assert item_name(name).startswith("Review"), name


def test_review_types_belong_to_the_guest_view_alone(openapi):
    owner = [
        name
        for path, _, name in [*answers(openapi), *request_bodies(openapi)]
        if not path.startswith(GUEST_PREFIX)
    ]
    owners = reachable(openapi, owner)
    assert not {name for name in owners if item_name(name).startswith("Review")}
    components = openapi["components"]["schemas"]
    assert not {name for name in components if name.startswith("Public") or name.startswith("Guest")}
