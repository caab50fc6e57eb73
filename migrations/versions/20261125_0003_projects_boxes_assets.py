"""Schema: projects, boxes (shots) and assets.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 09:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "project",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["user_account.id"],
            name=op.f("fk_project_owner_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project")),
    )
    op.create_index(op.f("ix_project_owner_id"), "project", ["owner_id"], unique=False)
    op.create_table(
        "box",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("headliner_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("position >= 1", name=op.f("ck_box_position_positive")),
        sa.ForeignKeyConstraint(
            ["project_id"], ["project.id"], name=op.f("fk_box_project_id_project"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_box")),
        sa.UniqueConstraint(
            "project_id",
            "position",
            deferrable=True,
            initially="DEFERRED",
            name=op.f("uq_box_project_id_position"),
        ),
    )
    op.create_index(op.f("ix_box_project_id"), "box", ["project_id"], unique=False)
    op.create_table(
        "asset",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("box_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("image", "video", name="assetkind", native_enum=False, create_constraint=True, length=16),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "PENDING",
                "RUNNING",
                "COMPLETED",
                "FAILED",
                name="assetstatus",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=True),
        sa.Column(
            "params",
            postgresql.JSONB(none_as_null=True, astext_type=sa.Text()),
            server_default="{}",
            nullable=False,
        ),
        sa.Column("seed", sa.BigInteger(), nullable=True),
        sa.Column("source_asset_id", sa.Integer(), nullable=True),
        sa.Column(
            "input_asset_ids",
            postgresql.JSONB(none_as_null=True, astext_type=sa.Text()),
            server_default="[]",
            nullable=False,
        ),
        sa.Column("provider_task_id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
        sa.Column("file_key", sqlmodel.sql.sqltypes.AutoString(length=512), nullable=True),
        sa.Column("thumbnail_key", sqlmodel.sql.sqltypes.AutoString(length=512), nullable=True),
        sa.Column("mime_type", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("size_bytes", sa.BigInteger(), nullable=True),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("duration_seconds", sa.Float(), nullable=True),
        sa.Column("cost_credits", sa.Float(), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("is_favorite", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("workflow_id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
        sa.ForeignKeyConstraint(["box_id"], ["box.id"], name=op.f("fk_asset_box_id_box"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["model_id"], ["ai_model.id"], name=op.f("fk_asset_model_id_ai_model"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["source_asset_id"],
            ["asset.id"],
            name=op.f("fk_asset_source_asset_id_asset"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_asset")),
    )
    op.create_index("ix_asset_box_id_created_at", "asset", ["box_id", "created_at"], unique=False)
    op.create_index(op.f("ix_asset_model_id"), "asset", ["model_id"], unique=False)
    op.create_index(
        "ix_asset_retention",
        "asset",
        ["created_at"],
        unique=False,
        postgresql_where=sa.text("is_favorite = false"),
    )
    op.create_index(op.f("ix_asset_source_asset_id"), "asset", ["source_asset_id"], unique=False)
    op.create_index(op.f("ix_asset_status"), "asset", ["status"], unique=False)
    op.create_foreign_key(
        op.f("fk_box_headliner_id_asset"), "box", "asset", ["headliner_id"], ["id"], ondelete="SET NULL"
    )


def downgrade() -> None:
    op.drop_constraint(op.f("fk_box_headliner_id_asset"), "box", type_="foreignkey")
    op.drop_table("asset")
    op.drop_table("box")
    op.drop_table("project")
