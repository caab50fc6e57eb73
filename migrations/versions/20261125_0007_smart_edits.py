"""Schema: smart edits (LLM prompt rewrites), kept as a box's prompt history.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 09:30:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "smart_edit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("box_id", sa.Integer(), nullable=True),
        sa.Column("original_prompt", sa.Text(), nullable=False),
        sa.Column("instruction", sa.Text(), nullable=False),
        sa.Column("result_prompt", sa.Text(), nullable=False),
        sa.Column("model", sqlmodel.sql.sqltypes.AutoString(length=150), nullable=False),
        sa.Column("workflow_id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
        sa.ForeignKeyConstraint(["box_id"], ["box.id"], name=op.f("fk_smart_edit_box_id_box"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_smart_edit_user_id_user_account"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_smart_edit")),
    )
    op.create_index("ix_smart_edit_box_id_created_at", "smart_edit", ["box_id", "created_at"], unique=False)
    op.create_index(op.f("ix_smart_edit_user_id"), "smart_edit", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_table("smart_edit")
