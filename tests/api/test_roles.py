"""The role matrix: every route of the OpenAPI schema (and both sockets) has one written rule (`tests/api/roles_*.py`),
and every HTTP route answers the studio's owner, editor and viewer, a member of another studio and an anonymous
caller as its rule says. docs/roles.md prints the same table (`make roles-doc` rewrites it).

"Allowed" is any answer but 401/403/404 or a 5xx: a 409 or 422 on the body sent still proves the caller got past
the authorisation. The sockets are opened for real in tests/realtime/test_socket_roles.py."""

from __future__ import annotations

import ast
import contextlib
import importlib
import re
import sys
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.routing import APIWebSocketRoute, iter_route_contexts
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.service import RPCError

from core.contract import AssetStatus, asset_workflow_id
from core.models import Membership, StudioInvite, StudioRole, utcnow
from core.settings import Settings
from core.storage import Storage
from core.temporal import connect_temporal
from tests.api.roles_core import (
    ADMIN,
    EDITOR,
    LOGIN,
    OWNER,
    OWNER_OR_SELF,
    PROVIDER,
    PUBLIC,
    RULES,
    VIEWER,
)
from tests.api.test_admin import make_user
from tests.builders import (
    PASSWORD,
    add_member,
    app_client,
    make_asset,
    make_box,
    make_project,
    png_bytes,
    register,
)

HERE = Path(__file__).resolve().parent
DOC = HERE.parents[1] / "docs" / "roles.md"
TABLE_START = "<!-- the table below is generated from tests/api/roles_*.py: `make roles-doc` -->"
TABLE_END = "<!-- end of the generated table -->"

COLUMNS = ("owner", "editor", "viewer", "outsider", "anonymous")
HEADINGS = ("owner", "editor", "viewer", "other studio", "anonymous")
ALLOWED = "✓"
SAME = "same"  # the provider's callback: one answer for everyone, decided by its signature
EXPECTED: dict[str, tuple[str, ...]] = {
    PUBLIC: (ALLOWED, ALLOWED, ALLOWED, ALLOWED, ALLOWED),
    LOGIN: (ALLOWED, ALLOWED, ALLOWED, ALLOWED, "401"),
    VIEWER: (ALLOWED, ALLOWED, ALLOWED, "404", "401"),
    EDITOR: (ALLOWED, ALLOWED, "403", "404", "401"),
    OWNER: (ALLOWED, "403", "403", "404", "401"),
    OWNER_OR_SELF: (ALLOWED, "403", ALLOWED, "404", "401"),  # `{user_id}` is the viewer
    ADMIN: ("403", "403", "403", "403", "401"),  # and a superuser is allowed
    PROVIDER: (SAME, SAME, SAME, SAME, SAME),
}
# The role a 403 names, per rule.
NEEDED = {VIEWER: "viewer", EDITOR: "editor", OWNER: "owner", OWNER_OR_SELF: "owner"}
METHOD_ORDER = ("get", "post", "put", "patch", "delete", "websocket")
# The health probe answers 503 "degraded" when a dependency is down (here: no worker polls): an answer, not a refusal.
PROBES = {("get", "/api/health/")}
# Run last: it ends every token of whoever calls it.
LAST = {("post", "/api/auth/logout-everywhere/")}


# --- the rules ------------------------------------------------------------------------------------------------


def written_keys(path: Path) -> list[Any]:
    """The keys of the module's `ROLES = {...}` literal as written, repeats included."""
    for node in ast.walk(ast.parse(path.read_text())):
        targets = [node.target] if isinstance(node, ast.AnnAssign) else getattr(node, "targets", [])
        value = getattr(node, "value", None)
        if any(isinstance(t, ast.Name) and t.id == "ROLES" for t in targets) and isinstance(value, ast.Dict):
            return [ast.literal_eval(key) for key in value.keys if key is not None]
    raise AssertionError(f"{path.name} has no `ROLES = {{...}}` literal")


def load_rules() -> tuple[dict[tuple[str, str], str], list[str]]:
    """Every `roles_*.py` next to this file merged, and the keys more than one of them (or one twice) defines."""
    merged: dict[tuple[str, str], str] = {}
    twice: list[str] = []
    for path in sorted(HERE.glob("roles_*.py")):
        module = importlib.import_module(f"tests.api.{path.stem}")
        for key, rule in module.ROLES.items():
            if key in merged:
                twice.append(f"{path.name}: {key}")
            merged[key] = rule
        # A dict literal keeps the last of two equal keys: read the source's keys to see the first one too.
        keys = written_keys(path)
        twice += [f"{path.name}: {key} written twice" for key in set(keys) if keys.count(key) > 1]
    return merged, twice


def app_routes(app: FastAPI) -> set[tuple[str, str]]:
    routes = {(method, path) for path, item in app.openapi()["paths"].items() for method in item}
    routes |= {
        ("websocket", context.path)
        for context in iter_route_contexts(app.routes)
        if isinstance(context.original_route, APIWebSocketRoute)
    }
    return routes


def _sort_key(key: tuple[str, str]) -> tuple[str, int]:
    method, path = key
    return path, METHOD_ORDER.index(method)


def render_table(rules: dict[tuple[str, str], str]) -> str:
    lines = [
        "| method | path | rule | " + " | ".join(HEADINGS) + " |",
        "|---|---|---|" + "---|" * len(HEADINGS),
    ]
    for key in sorted(rules, key=_sort_key):
        method, path = key
        cells = " | ".join(EXPECTED[rules[key]])
        lines.append(f"| {method.upper()} | `{path}` | {rules[key]} | {cells} |")
    return "\n".join(lines)


def documented_table() -> str:
    text = DOC.read_text()
    start, end = text.index(TABLE_START) + len(TABLE_START), text.index(TABLE_END)
    return text[start:end].strip()


def write_doc() -> None:
    text = DOC.read_text()
    start, end = text.index(TABLE_START) + len(TABLE_START), text.index(TABLE_END)
    DOC.write_text(f"{text[:start]}\n\n{render_table(load_rules()[0])}\n\n{text[end:]}")


def test_every_route_has_exactly_one_rule(app: FastAPI) -> None:
    rules, twice = load_rules()
    routes = app_routes(app)
    assert twice == []
    assert sorted(routes - rules.keys()) == [], "a route without a rule: add it to a tests/api/roles_*.py"
    assert sorted(rules.keys() - routes) == [], "a rule for a route that does not exist"
    assert sorted(rule for rule in rules.values() if rule not in RULES) == []


def test_the_doc_prints_the_rules() -> None:
    assert documented_table() == render_table(load_rules()[0]), "run `make roles-doc`"


# --- the world ------------------------------------------------------------------------------------------------


@dataclass
class World:
    client: httpx.AsyncClient
    sessionmaker: async_sessionmaker[AsyncSession]
    storage: Storage
    headers: dict[str, dict[str, str]]
    user_ids: dict[str, int]
    emails: dict[str, str]
    studio_id: int
    project_id: int
    box_id: int
    asset_id: int
    share_token: str
    box_ref: str
    started: list[str] = field(default_factory=list)  # workflow ids to terminate

    async def new_project(self) -> int:
        return int((await make_project(self.client, self.headers["owner"], studio_id=self.studio_id))["id"])

    async def new_box(self) -> int:
        return int((await make_box(self.client, self.headers["owner"], self.project_id))["id"])

    async def new_asset(self, status: AssetStatus = AssetStatus.COMPLETED) -> int:
        asset = await make_asset(self.sessionmaker, self.box_id, storage=self.storage, status=status)
        assert asset.id is not None
        return asset.id

    async def new_comment(self) -> int:
        response = await self.client.post(
            f"/api/boxes/{self.box_id}/comments/",
            json={"text": "The owner's note"},
            headers=self.headers["owner"],
        )
        assert response.status_code == 201, response.text
        return int(response.json()["id"])

    async def new_link(self) -> int:
        response = await self.client.post(
            f"/api/projects/{self.project_id}/share-links/", json={}, headers=self.headers["owner"]
        )
        assert response.status_code == 201, response.text
        return int(response.json()["id"])

    async def new_invite(self) -> StudioInvite:
        async with self.sessionmaker() as session:
            invite = StudioInvite(
                studio_id=self.studio_id,
                role=StudioRole.VIEWER,
                created_by_id=self.user_ids["owner"],
                expires_at=utcnow() + timedelta(days=1),
            )
            session.add(invite)
            await session.commit()
            await session.refresh(invite)
            return invite

    async def restore_members(self) -> None:
        """The studio holds exactly its owner, editor and viewer again (after a join, a leave, a role change)."""
        members = {name: StudioRole(name) for name in ("owner", "editor", "viewer")}
        async with self.sessionmaker() as session:
            await session.exec(delete(Membership).where(col(Membership.studio_id) == self.studio_id))  # type: ignore[call-overload]
            for name, role in members.items():
                session.add(Membership(studio_id=self.studio_id, user_id=self.user_ids[name], role=role))
            await session.commit()


async def build_world(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], storage: Storage
) -> World:
    headers: dict[str, dict[str, str]] = {"anonymous": {}}
    user_ids: dict[str, int] = {}
    emails: dict[str, str] = {}
    for name in ("owner", "editor", "viewer", "outsider"):
        emails[name] = f"{name}-{uuid.uuid4().hex[:12]}@example.com"
        headers[name] = await register(client, email=emails[name], display_name=name.title())
        user_ids[name] = int((await client.get("/api/auth/me/", headers=headers[name])).json()["id"])
    admin = await make_user(sessionmaker)
    assert admin.id is not None
    login = await client.post("/api/auth/login/", json={"email": admin.email, "password": PASSWORD})
    headers["admin"] = {"Authorization": f"Bearer {login.json()['access_token']}"}
    project = await make_project(client, headers["owner"])
    studio_id = int(project["studio_id"])
    for name in ("editor", "viewer"):
        await add_member(sessionmaker, studio_id, user_ids[name], name)
    box = await make_box(client, headers["owner"], project["id"])
    asset = await make_asset(sessionmaker, box["id"], storage=storage)
    assert asset.id is not None
    link = await client.post(f"/api/projects/{project['id']}/share-links/", json={}, headers=headers["owner"])
    token = link.json()["token"]
    review = (await client.get(f"/api/public/{token}/")).json()
    return World(
        client=client,
        sessionmaker=sessionmaker,
        storage=storage,
        headers=headers,
        user_ids=user_ids,
        emails=emails,
        studio_id=studio_id,
        project_id=int(project["id"]),
        box_id=int(box["id"]),
        asset_id=asset.id,
        share_token=token,
        box_ref=review["boxes"][0]["ref"],
    )


def fresh_objects(method: str, path: str) -> bool:
    """Whether each call gets objects of its own: one that deletes or uses up what its path names."""
    return (
        method == "delete" or path.endswith("/retry/") or (method == "post" and path.startswith("/api/join/"))
    )


async def path_params(world: World, method: str, path: str) -> dict[str, Any]:
    fresh = fresh_objects(method, path)
    params: dict[str, Any] = {}
    for name in re.findall(r"{(\w+)}", path):
        if name == "project_id":
            params[name] = await world.new_project() if fresh else world.project_id
        elif name == "box_id":
            params[name] = await world.new_box() if fresh else world.box_id
        elif name == "asset_id":
            status = AssetStatus.FAILED if path.endswith("/retry/") else AssetStatus.COMPLETED
            params[name] = await world.new_asset(status) if fresh else world.asset_id
        elif name == "comment_id":
            params[name] = await world.new_comment()
        elif name == "link_id":
            params[name] = await world.new_link()
        elif name == "studio_id":
            params[name] = world.studio_id
        elif name == "user_id":
            params[name] = world.user_ids["viewer"]
        elif name == "invite_id":
            params[name] = (await world.new_invite()).id
        elif name == "token" and path.startswith("/api/public/"):
            params[name] = world.share_token
        elif name == "token":
            params[name] = (await world.new_invite()).token
        else:
            raise AssertionError(f"the matrix does not know what to put in {{{name}}} of {path}")
    return params


Body = Callable[[World], Awaitable[dict[str, Any]]]


def json_body(make: Callable[[World], dict[str, Any]]) -> Body:
    async def body(world: World) -> dict[str, Any]:
        return {"json": make(world)}

    return body


async def reorder_body(world: World) -> dict[str, Any]:
    listed = await world.client.get(
        f"/api/projects/{world.project_id}/boxes/", headers=world.headers["owner"]
    )
    return {"json": {"box_ids": [box["id"] for box in listed.json()["items"]]}}


async def upload_body(world: World) -> dict[str, Any]:
    return {"files": {"file": ("a.png", png_bytes())}}


def _register(world: World) -> dict[str, Any]:
    return {"email": f"new-{uuid.uuid4().hex[:12]}@example.com", "password": PASSWORD, "display_name": "New"}


def _login(world: World) -> dict[str, Any]:
    return {"email": world.emails["owner"], "password": PASSWORD}


# What each call sends: bodies that let an allowed caller succeed where they can. A route not listed sends `{}`
# to a POST/PUT/PATCH (a 422 then still shows the caller was let through).
BODIES: dict[tuple[str, str], Body] = {
    ("post", "/api/auth/register/"): json_body(_register),
    ("post", "/api/auth/login/"): json_body(_login),
    ("post", "/api/auth/session/"): json_body(_login),
    ("post", "/api/auth/socket-ticket/"): json_body(lambda w: {"project_id": w.project_id}),
    ("post", "/api/projects/"): json_body(lambda w: {"name": "Matrix"}),
    ("patch", "/api/projects/{project_id}/"): json_body(lambda w: {"name": "Matrix spot"}),
    ("post", "/api/projects/{project_id}/boxes/"): json_body(lambda w: {"title": "New shot"}),
    ("post", "/api/projects/{project_id}/boxes/bulk/"): json_body(lambda w: {"boxes": [{"title": "Bulk"}]}),
    ("post", "/api/projects/{project_id}/boxes/reorder/"): reorder_body,
    ("patch", "/api/boxes/{box_id}/"): json_body(lambda w: {"title": "Retitled"}),
    ("patch", "/api/assets/{asset_id}/"): json_body(lambda w: {"is_favorite": True}),
    ("post", "/api/boxes/{box_id}/generate/"): json_body(
        lambda w: {"model": "google/nano-banana", "prompt": "a fox", "count": 1}
    ),
    ("post", "/api/assets/{asset_id}/animate/"): json_body(lambda w: {"prompt": "the fox runs"}),
    ("post", "/api/boxes/{box_id}/upload/"): upload_body,
    # Longer than any model takes (5000): refused with a 422 once the box's role was checked, before the LLM.
    ("post", "/api/smart-edit/"): json_body(
        lambda w: {"prompt": "x" * 5001, "instruction": "make it night", "box_id": w.box_id}
    ),
    ("post", "/api/boxes/{box_id}/comments/"): json_body(lambda w: {"text": "A note"}),
    ("post", "/api/assets/{asset_id}/comments/"): json_body(lambda w: {"text": "A note"}),
    ("post", "/api/public/{token}/comments/"): json_body(
        lambda w: {"author_name": "Client", "text": "Lovely", "box_ref": w.box_ref}
    ),
    # helper B's studio routes, as /work/notes/issue15-api.md fixes their bodies
    ("post", "/api/studios/"): json_body(lambda w: {"name": "Another studio"}),
    ("patch", "/api/studios/{studio_id}/"): json_body(lambda w: {"name": "Matrix studio"}),
    ("patch", "/api/studios/{studio_id}/members/{user_id}/"): json_body(lambda w: {"role": "viewer"}),
    ("post", "/api/studios/{studio_id}/invites/"): json_body(lambda w: {"role": "viewer"}),
}


def refusal(rule: str, expected: str, response: httpx.Response, probe: bool = False) -> str | None:
    """What is wrong with `response` for a caller the rule gives `expected` ("✓" or a status), or None."""
    status = response.status_code
    if probe and status == 503 and response.json().get("status") == "degraded":
        return None
    if expected == ALLOWED:
        if status in {401, 403, 404} or status >= 500:
            return f"allowed, got {status}: {response.text[:200]}"
        return None
    if status != int(expected):
        return f"expected {expected}, got {status}: {response.text[:200]}"
    if status == 403 and rule in NEEDED and f"needs the {NEEDED[rule]} role" not in response.text:
        return f"a 403 that does not name the {NEEDED[rule]} role: {response.text[:200]}"
    return None


async def call(world: World, who: str, method: str, path: str, *, empty: bool = False) -> httpx.Response:
    """`empty`: send `{}` whatever the route takes (a refusal must come before the body is looked at)."""
    url = path.format(**await path_params(world, method, path))
    body = None if empty else BODIES.get((method, path))
    kwargs = await body(world) if body else ({"json": {}} if method in {"post", "put", "patch"} else {})
    response = await world.client.request(method.upper(), url, headers=world.headers[who], **kwargs)
    world.client.cookies.clear()  # a login through /session/ must not make the next anonymous call a user's
    if method != "get" and path.startswith(("/api/studios/", "/api/join/")):
        await world.restore_members()
    if response.status_code == 202 and method == "post":
        answer = response.json()
        ids = answer.get("asset_ids") or ([answer["asset_id"]] if "asset_id" in answer else [])
        world.started += [asset_workflow_id(i) for i in ids]
        if "workflow_id" in answer:
            world.started.append(answer["workflow_id"])
    return response


async def check_route(world: World, method: str, path: str, rule: str) -> list[str]:
    failures = []
    answers: dict[str, int] = {}
    # The least privileged first.
    for who, expected in reversed(list(zip(COLUMNS, EXPECTED[rule], strict=True))):
        response = await call(world, who, method, path)
        answers[who] = response.status_code
        problem = None if expected == SAME else refusal(rule, expected, response, (method, path) in PROBES)
        if problem:
            failures.append(f"{method.upper()} {path} as {who}: {problem}")
        elif expected not in {ALLOWED, SAME} and method in {"post", "put", "patch"} and "{" in path:
            # The same refusal to an invalid body: nobody learns what exists from a 422.
            again = await call(world, who, method, path, empty=True)
            if again.status_code != response.status_code:
                failures.append(f"{method.upper()} {path} as {who} with {{}}: {again.status_code}")
    if rule == PROVIDER and (len(set(answers.values())) != 1 or {401, 403, 404} & set(answers.values())):
        failures.append(f"{method.upper()} {path}: the callback answers by caller {answers}")
    if rule == ADMIN:
        problem = refusal(rule, ALLOWED, await call(world, "admin", method, path))
        if problem:
            failures.append(f"{method.upper()} {path} as a superuser: {problem}")
    return failures


async def test_every_route_answers_each_role_as_its_rule_says(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], storage: Storage
) -> None:
    # A task queue no worker polls: what the matrix generates stays PENDING and is terminated at the end.
    queue = f"roles-{uuid.uuid4().hex[:8]}"
    rules, _ = load_rules()
    http_routes = sorted(
        (key for key in rules if key[0] != "websocket"), key=lambda key: (key in LAST, _sort_key(key))
    )
    async with app_client(settings.model_copy(update={"temporal_task_queue": queue})) as client:
        world = await build_world(client, sessionmaker, storage)
        try:
            failures = []
            for method, path in http_routes:
                failures += await check_route(world, method, path, rules[(method, path)])
            assert "\n".join(failures) == ""
            # Nothing the matrix did spoiled the world it checked against (a new login: the owner's token
            # ended with logout-everywhere).
            login = await client.post("/api/auth/login/", json=_login(world))
            owner = {"Authorization": f"Bearer {login.json()['access_token']}"}
            for url in (f"/api/projects/{world.project_id}/", f"/api/assets/{world.asset_id}/"):
                assert (await client.get(url, headers=owner)).status_code == 200, url
            async with sessionmaker() as session:
                roles = (
                    await session.exec(select(Membership.role).where(Membership.studio_id == world.studio_id))
                ).all()
            assert sorted(roles) == sorted([StudioRole.OWNER, StudioRole.EDITOR, StudioRole.VIEWER])
        finally:
            temporal = await connect_temporal(settings)
            for workflow_id in world.started:
                with contextlib.suppress(RPCError):
                    await temporal.get_workflow_handle(workflow_id).terminate("test over")


if __name__ == "__main__":
    write_doc()
    sys.stdout.write(f"wrote {DOC.relative_to(HERE.parents[1])}\n")
