"""Schema: shot codes (`box.code`, unique per project whatever the letter case), generation batches
(`asset.batch_id`) and when an asset finished (`asset.finished_at`), each backfilled.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27 19:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("box", sa.Column("code", sa.String(length=20), nullable=True))
    # Existing shots in their order: SH010, SH020, … (positions are 1..n per project; at least three digits).
    op.execute(
        """
        UPDATE box SET code = 'SH' || lpad((position * 10)::text, greatest(3, length((position * 10)::text)), '0')
        """
    )
    op.alter_column("box", "code", nullable=False)
    op.create_index(
        "uq_box_project_id_code_lower", "box", ["project_id", sa.text("lower(code)")], unique=True
    )

    op.add_column("asset", sa.Column("batch_id", sa.Uuid(), nullable=True))
    op.add_column("asset", sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True))
    # The rows one request inserted share its transaction's now(): one batch per (box, created_at).
    op.execute(
        """
        UPDATE asset SET batch_id = batches.id
        FROM (SELECT box_id, created_at, gen_random_uuid() AS id FROM asset GROUP BY box_id, created_at) AS batches
        WHERE asset.box_id = batches.box_id AND asset.created_at = batches.created_at
        """
    )
    op.execute("UPDATE asset SET finished_at = updated_at WHERE status IN ('COMPLETED', 'FAILED')")
    op.create_index(
        "ix_asset_model_id_finished_at",
        "asset",
        ["model_id", "finished_at"],
        postgresql_where=sa.text("status = 'COMPLETED' AND finished_at IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_asset_model_id_finished_at", table_name="asset")
    op.drop_column("asset", "finished_at")
    op.drop_column("asset", "batch_id")
    op.drop_index("uq_box_project_id_code_lower", table_name="box")
    op.drop_column("box", "code")
