"""Schema: index box.headliner_id (every asset delete looks up the box it headlines; retention deletes many).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25 10:05:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(op.f("ix_box_headliner_id"), "box", ["headliner_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_box_headliner_id"), table_name="box")
