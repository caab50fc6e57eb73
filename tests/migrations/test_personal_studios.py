"""Migrations 0013/0014 on a database holding two users' projects: each user becomes the owner of one personal
studio holding exactly their projects, their assets count as requested by them and their charges as spent in
that studio; logged in, each still sees exactly their projects. Down to 0012 and up again keeps all of that."""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg
from alembic import command

from core.security import hash_password
from core.settings import Settings
from tests.builders import PASSWORD, app_client
from tests.migrations.test_migrations import alembic_config, fresh_database  # noqa: F401 — the fixture

PEOPLE = {"ana@example.com": "Ana", "ben@example.com": "Ben"}


def insert_user_with_work(conn: psycopg.Connection[Any], email: str, name: str, password_hash: str) -> int:
    """A user (schema 0012: projects have an owner_id) with two projects, a shot, an asset and a charge."""
    user = conn.execute(
        "INSERT INTO user_account (email, password_hash, display_name) VALUES (%s, %s, %s) RETURNING id",
        (email, password_hash, name),
    ).fetchone()[0]
    for title in ("Spot", "Trailer"):
        project = conn.execute(
            "INSERT INTO project (owner_id, name, description) VALUES (%s, %s, '') RETURNING id",
            (user, f"{name}'s {title}"),
        ).fetchone()[0]
        box = conn.execute(
            "INSERT INTO box (project_id, position, code, title, notes) VALUES (%s, 1, 'SH010', '', '') "
            "RETURNING id",
            (project,),
        ).fetchone()[0]
        asset = conn.execute(
            "INSERT INTO asset (box_id, kind, status, prompt) VALUES (%s, 'image', 'COMPLETED', 'a fox') "
            "RETURNING id",
            (box,),
        ).fetchone()[0]
        conn.execute(
            "INSERT INTO credit_charge (user_id, asset_id, kind, estimated) VALUES (%s, %s, 'generate', 4)",
            (user, asset),
        )
    return int(user)


def assert_personal_studios(url: str, users: dict[str, int]) -> None:
    with psycopg.connect(url) as conn:
        for email, user in users.items():
            studios = conn.execute(
                "SELECT s.id, s.name, m.role FROM studio s JOIN membership m ON m.studio_id = s.id "
                "WHERE m.user_id = %s",
                (user,),
            ).fetchall()
            assert [(name, role) for _, name, role in studios] == [(f"{PEOPLE[email]}'s studio", "owner")]
            studio = studios[0][0]
            projects = conn.execute(
                "SELECT name, created_by_id FROM project WHERE studio_id = %s ORDER BY name", (studio,)
            ).fetchall()
            name = PEOPLE[email]
            assert projects == [(f"{name}'s Spot", user), (f"{name}'s Trailer", user)]
            requested = conn.execute(
                "SELECT DISTINCT a.requested_by_id FROM asset a JOIN box b ON b.id = a.box_id "
                "JOIN project p ON p.id = b.project_id WHERE p.studio_id = %s",
                (studio,),
            ).fetchall()
            assert requested == [(user,)]
            charges = conn.execute(
                "SELECT studio_id, count(*) FROM credit_charge WHERE user_id = %s GROUP BY studio_id", (user,)
            ).fetchall()
            assert charges == [(studio, 2)]
        assert conn.execute("SELECT count(*) FROM studio").fetchone()[0] == len(users)


async def projects_seen(settings: Settings, database_url: str) -> dict[str, list[str]]:
    """Each person's project names as `GET /api/projects/` lists them, logged in on an API over that database."""
    seen = {}
    async with app_client(settings.model_copy(update={"database_url": database_url})) as client:
        for email in PEOPLE:
            login = await client.post("/api/auth/login/", json={"email": email, "password": PASSWORD})
            assert login.status_code == 200, login.text
            headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
            listed = await client.get("/api/projects/", headers=headers)
            assert listed.status_code == 200, listed.text
            seen[email] = sorted(item["name"] for item in listed.json()["items"])
            assert {item["role"] for item in listed.json()["items"]} == {"owner"}
    return seen


async def test_every_user_owns_a_personal_studio_holding_exactly_their_projects(
    fresh_database: str,  # noqa: F811
    settings: Settings,
) -> None:
    config = alembic_config(fresh_database)
    await asyncio.to_thread(command.upgrade, config, "0012")
    url = fresh_database.replace("+psycopg", "")
    password_hash = await hash_password(PASSWORD)
    with psycopg.connect(url) as conn:
        users = {
            email: insert_user_with_work(conn, email, name, password_hash) for email, name in PEOPLE.items()
        }

    await asyncio.to_thread(command.upgrade, config, "head")
    assert_personal_studios(url, users)
    expected = {email: [f"{name}'s Spot", f"{name}'s Trailer"] for email, name in PEOPLE.items()}
    assert await projects_seen(settings, fresh_database) == expected

    await asyncio.to_thread(command.downgrade, config, "0012")
    with psycopg.connect(url) as conn:
        owners = conn.execute(
            "SELECT owner_id, count(*) FROM project GROUP BY owner_id ORDER BY owner_id"
        ).fetchall()
        assert owners == sorted((user, 2) for user in users.values())
    await asyncio.to_thread(command.upgrade, config, "head")
    assert_personal_studios(url, users)
    assert await projects_seen(settings, fresh_database) == expected
