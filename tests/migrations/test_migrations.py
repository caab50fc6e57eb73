"""Migrations on an empty database: up, one step down, up again, and the schema equals the models."""

import uuid
from pathlib import Path

import psycopg
import pytest
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from devstack.services import create_database

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def fresh_database(stack):
    admin_url = stack.env["DATABASE_URL"].rsplit("/", 1)[0] + "/postgres"
    return create_database(admin_url, f"migrations_{uuid.uuid4().hex[:8]}")


def alembic_config(url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["database_url"] = url
    config.attributes["skip_logging"] = True
    return config


def test_upgrade_downgrade_upgrade_and_no_autogenerate_diff(fresh_database):
    config = alembic_config(fresh_database)
    command.upgrade(config, "head")
    command.downgrade(config, "-1")
    command.upgrade(config, "head")
    command.check(config)  # raises when the models and the migrated schema disagree

    with psycopg.connect(fresh_database.replace("+psycopg", "")) as conn:
        models = {row[0] for row in conn.execute("SELECT provider_model_id FROM ai_model")}
        assert {"google/nano-banana", "google/nano-banana-edit", "bytedance/seedance-1.5-pro"} <= models
        assert conn.execute("SELECT retention_days FROM system_config WHERE id = 1").fetchone() == (10,)


def test_full_downgrade_to_base_leaves_no_tables(fresh_database):
    config = alembic_config(fresh_database)
    command.upgrade(config, "head")
    command.downgrade(config, "base")
    with psycopg.connect(fresh_database.replace("+psycopg", "")) as conn:
        tables = {
            row[0] for row in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        }
    assert tables <= {"alembic_version"}


def test_revisions_form_one_chain_with_dated_file_names():
    script = ScriptDirectory.from_config(alembic_config("postgresql://unused"))
    assert len(script.get_heads()) == 1
    for path in (ROOT / "migrations" / "versions").glob("*.py"):
        assert path.name[:8].isdigit(), f"{path.name} should start with its date (YYYYMMDD)"
