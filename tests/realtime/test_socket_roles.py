"""The sockets' rows of the role matrix (tests/api/roles_*.py), opened for real: the studio's owner, editor and
viewer get the project socket's snapshot (the viewer through a socket ticket, the others with a token), a member
of another studio and an anonymous caller are refused with 1008 before any snapshot; the review socket is open to
anyone holding the link."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.api.test_roles import ALLOWED, COLUMNS, EXPECTED, add_member, load_rules
from tests.builders import make_project, register
from tests.realtime.conftest import LiveServer, closed_with, next_json, open_socket, token_of

POLICY_VIOLATION = 1008


async def credential(http: httpx.AsyncClient, who: str, headers: dict[str, str], project_id: int) -> str:
    if who == "anonymous":
        return ""
    if who == "viewer":
        answer = await http.post("/api/auth/socket-ticket/", json={"project_id": project_id}, headers=headers)
        assert answer.status_code == 201, answer.text
        return f"?ticket={answer.json()['ticket']}"
    return f"?token={token_of(headers)}"


async def test_each_role_opens_the_sockets_its_rule_allows(
    live: LiveServer, http: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    headers = {name: await register(http, display_name=name.title()) for name in COLUMNS[:4]}
    headers["anonymous"] = {}
    project = await make_project(http, headers["owner"])
    for name in ("editor", "viewer"):
        user_id = (await http.get("/api/auth/me/", headers=headers[name])).json()["id"]
        await add_member(sessionmaker, project["studio_id"], user_id, name)
    link = await http.post(f"/api/projects/{project['id']}/share-links/", json={}, headers=headers["owner"])
    params = {"project_id": project["id"], "token": link.json()["token"]}

    sockets = {key: rule for key, rule in load_rules()[0].items() if key[0] == "websocket"}
    assert set(sockets) == {("websocket", "/ws/projects/{project_id}/"), ("websocket", "/ws/public/{token}/")}
    for (_, path), rule in sorted(sockets.items()):
        for who, expected in zip(COLUMNS, EXPECTED[rule], strict=True):
            query = await credential(http, who, headers[who], project["id"])
            ws = await open_socket(live.ws_url(path.format(**params) + query))
            if expected == ALLOWED:
                assert (await next_json(ws))["type"] == "snapshot", (path, who)
                await ws.close()
            else:
                code, reason, messages = await closed_with(ws)
                assert (code, messages) == (POLICY_VIOLATION, []), (path, who, code, reason)
                assert ("not found" if expected == "404" else "token") in reason.lower(), (path, who, reason)
