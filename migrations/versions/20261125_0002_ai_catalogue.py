"""Schema: AI providers, models and the system config singleton.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 09:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ai_provider",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("slug", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column("base_url", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("api_key_env", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ai_provider")),
        sa.UniqueConstraint("slug", name=op.f("uq_ai_provider_slug")),
    )
    op.create_table(
        "ai_model",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("provider_model_id", sqlmodel.sql.sqltypes.AutoString(length=150), nullable=False),
        sa.Column("display_name", sqlmodel.sql.sqltypes.AutoString(length=150), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "image",
                "video",
                "text",
                name="modelkind",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column(
            "default_params",
            postgresql.JSONB(none_as_null=True, astext_type=sa.Text()),
            server_default="{}",
            nullable=False,
        ),
        sa.Column(
            "capabilities",
            postgresql.JSONB(none_as_null=True, astext_type=sa.Text()),
            server_default="{}",
            nullable=False,
        ),
        sa.Column("price_credits", sa.Float(), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["ai_provider.id"],
            name=op.f("fk_ai_model_provider_id_ai_provider"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ai_model")),
        sa.UniqueConstraint(
            "provider_id", "provider_model_id", name=op.f("uq_ai_model_provider_id_provider_model_id")
        ),
    )
    op.create_index(op.f("ix_ai_model_provider_id"), "ai_model", ["provider_id"], unique=False)
    op.create_table(
        "system_config",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("smart_edit_model", sqlmodel.sql.sqltypes.AutoString(length=150), nullable=False),
        sa.Column("smart_edit_system_prompt", sa.Text(), nullable=False),
        sa.Column("retention_days", sa.Integer(), nullable=False),
        sa.Column("retention_hour_utc", sa.Integer(), nullable=False),
        sa.Column(
            "extra",
            postgresql.JSONB(none_as_null=True, astext_type=sa.Text()),
            server_default="{}",
            nullable=False,
        ),
        sa.CheckConstraint("id = 1", name=op.f("ck_system_config_singleton")),
        sa.CheckConstraint("retention_days >= 1", name=op.f("ck_system_config_retention_days_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_system_config")),
    )


def downgrade() -> None:
    op.drop_table("system_config")
    op.drop_table("ai_model")
    op.drop_table("ai_provider")
