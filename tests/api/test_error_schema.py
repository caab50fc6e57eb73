"""The OpenAPI schema tells the truth about errors: one ErrorBody for every error status an operation can answer,
and the framework's own errors (validation, unreadable bodies, unknown paths) are rendered with that same body."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest

from tests.builders import make_box, make_project, register


@pytest.fixture
async def openapi(client) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]


def error_validator(openapi: dict[str, Any]) -> jsonschema.protocols.Validator:
    """A validator for the documented ErrorBody, resolving its references inside the OpenAPI document."""
    schema = {"$ref": "#/components/schemas/ErrorBody", "components": openapi["components"]}
    return jsonschema.Draft202012Validator(schema)


def documented(openapi: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    return openapi["paths"][path][method]["responses"]  # type: ignore[no-any-return]


async def test_there_is_one_error_schema_and_validation_errors_use_it(openapi):
    schemas = openapi["components"]["schemas"]
    assert "HTTPValidationError" not in schemas and "ValidationError" not in schemas
    body = schemas["ErrorBody"]
    assert set(body["required"]) == {"detail", "code"}
    for path, methods in openapi["paths"].items():
        for method, operation in methods.items():
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")) and not path.startswith("/api/health"):
                    ref = response["content"]["application/json"]["schema"]["$ref"]
                    assert ref == "#/components/schemas/ErrorBody", (method, path, status)


async def test_each_operation_documents_the_errors_it_can_answer(openapi):
    read_project = documented(openapi, "/api/projects/{project_id}/", "get")
    assert {"401", "404", "422", "503"} <= set(read_project)  # 503: the database is down
    assert "409" not in read_project  # derived from the code, not blanket-declared
    register_ = documented(openapi, "/api/auth/register/", "post")
    assert {"400", "409", "422"} <= set(register_)
    assert "401" not in register_ and "404" not in register_
    assert {"401", "404", "413", "400", "503"} <= set(
        documented(openapi, "/api/boxes/{box_id}/upload/", "post")
    )
    assert {"401", "403", "503"} <= set(documented(openapi, "/api/admin/retention/run/", "post"))
    assert {"404", "410", "429", "503"} <= set(documented(openapi, "/api/public/{token}/comments/", "post"))
    assert {"200", "503"} <= set(documented(openapi, "/api/health/", "get"))
    assert "422" not in documented(openapi, "/api/auth/me/", "get")  # no parameter, nothing to validate


async def test_validation_errors_have_a_sentence_a_code_and_the_field_list(client, openapi):
    response = await client.post(
        "/api/auth/register/", json={"email": "not-an-email", "password": "short", "display_name": "A"}
    )
    assert response.status_code == 422
    body = response.json()
    error_validator(openapi).validate(body)
    assert body["code"] == "validation_error"
    assert isinstance(body["detail"], str) and "email" in body["detail"] and "password" in body["detail"]
    assert {tuple(field["loc"]) for field in body["details"]} == {("body", "email"), ("body", "password")}


async def test_framework_errors_use_the_error_body(client, openapi):
    validator = error_validator(openapi)
    headers = await register(client)
    project = await make_project(client, headers)
    box = await make_box(client, headers, project["id"])
    answers = {
        "multipart without boundary": await client.post(
            f"/api/boxes/{box['id']}/upload/",
            content=b"x",
            headers={**headers, "Content-Type": "multipart/form-data"},
        ),
        "invalid UTF-8 in a JSON body": await client.post(
            "/api/projects/",
            content=b'{"name": "\xff"}',
            headers={**headers, "Content-Type": "application/json"},
        ),
        "malformed JSON": await client.post(
            "/api/projects/", content=b"{", headers={**headers, "Content-Type": "application/json"}
        ),
        "lone surrogate in an unknown field's name": await client.post(
            "/api/projects/",
            content=b'{"name": "x", "\\ud800": 1}',
            headers={**headers, "Content-Type": "application/json"},
        ),
        "JSON sent as text": await client.post(
            "/api/projects/", content=b'{"name": "x"}', headers={**headers, "Content-Type": "text/plain"}
        ),
        "bad percent-encoding": await client.get("/api/projects/?limit=%zz&offset=%ff", headers=headers),
        "unknown API path": await client.get("/api/nothing-here/", headers=headers),
        "unsupported method": await client.put("/api/projects/", json={}, headers=headers),
    }
    for case, response in answers.items():
        assert 400 <= response.status_code < 500, (case, response.status_code, response.text)
        validator.validate(response.json())
    assert answers["multipart without boundary"].status_code == 400
    assert answers["invalid UTF-8 in a JSON body"].status_code == 400
    assert answers["malformed JSON"].json()["details"][0]["type"] == "json_invalid"
    assert answers["lone surrogate in an unknown field's name"].status_code == 422
    assert answers["unknown API path"].json()["code"] == "not_found"
    assert answers["unsupported method"].json()["code"] == "method_not_allowed"
