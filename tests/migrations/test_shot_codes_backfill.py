"""Migration 0011 on a database with data: shots get codes in their order, existing assets their batches and
finish times."""

import psycopg
from alembic import command

from tests.migrations.test_migrations import alembic_config, fresh_database  # noqa: F401 — the fixture


def test_existing_shots_assets_get_codes_batches_and_finish_times(fresh_database):  # noqa: F811
    config = alembic_config(fresh_database)
    command.upgrade(config, "0010")
    url = fresh_database.replace("+psycopg", "")
    with psycopg.connect(url) as conn:
        user = conn.execute(
            "INSERT INTO user_account (email, password_hash, display_name) VALUES ('a@b.c', 'x', 'A') RETURNING id"
        ).fetchone()[0]
        first, second = (
            conn.execute(
                "INSERT INTO project (owner_id, name, description) VALUES (%s, %s, '') RETURNING id",
                (user, name),
            ).fetchone()[0]
            for name in ("One", "Two")
        )
        # Inserted out of order: codes follow the position.
        boxes = {}
        for project, position in ((first, 3), (first, 1), (first, 2), (second, 1), (first, 100)):
            boxes[(project, position)] = conn.execute(
                "INSERT INTO box (project_id, position, title, notes) VALUES (%s, %s, '', '') RETURNING id",
                (project, position),
            ).fetchone()[0]
        box = boxes[(first, 1)]

        def asset(status: str, created: str) -> int:
            return conn.execute(
                "INSERT INTO asset (box_id, kind, status, prompt, created_at, updated_at) "
                "VALUES (%s, 'image', %s, '', %s, '2026-11-20T10:05:00+00') RETURNING id",
                (box, status, created),
            ).fetchone()[0]

        one_request = [
            asset("COMPLETED", "2026-11-20T10:00:00+00"),
            asset("FAILED", "2026-11-20T10:00:00+00"),
        ]
        later = asset("PENDING", "2026-11-20T11:00:00+00")

    command.upgrade(config, "head")
    with psycopg.connect(url) as conn:
        codes = dict(conn.execute("SELECT id, code FROM box").fetchall())
        assert {key: codes[box_id] for key, box_id in boxes.items()} == {
            (first, 1): "SH010",
            (first, 2): "SH020",
            (first, 3): "SH030",
            (first, 100): "SH1000",
            (second, 1): "SH010",
        }
        rows = {
            row[0]: row[1:]
            for row in conn.execute("SELECT id, batch_id, finished_at, updated_at FROM asset").fetchall()
        }
        batch_a, batch_b, batch_later = (rows[i][0] for i in (*one_request, later))
        assert batch_a == batch_b and batch_later not in (None, batch_a)
        assert [rows[i][1] == rows[i][2] for i in one_request] == [True, True]
        assert rows[later][1] is None
