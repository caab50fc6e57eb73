"""Data: every user gets a personal studio (they are its owner) holding the projects they owned; assets count as
requested by their project's owner, charges as spent in that studio. Then every project must have a studio.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-27 23:41:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # One studio per user, made by that user (the name is the one registration gives: core/studios.py).
    op.execute(
        "INSERT INTO studio (name, created_by_id) "
        "SELECT left(display_name || '''s studio', 120), id FROM user_account ORDER BY id"
    )
    op.execute(
        "INSERT INTO membership (studio_id, user_id, role) "
        "SELECT s.id, s.created_by_id, 'owner' FROM studio s WHERE s.created_by_id IS NOT NULL"
    )
    op.execute(
        "UPDATE project p SET studio_id = s.id FROM studio s WHERE s.created_by_id = p.created_by_id"
    )
    op.execute(
        "UPDATE asset a SET requested_by_id = p.created_by_id FROM box b JOIN project p ON p.id = b.project_id "
        "WHERE b.id = a.box_id AND a.requested_by_id IS NULL"
    )
    op.execute(
        "UPDATE credit_charge c SET studio_id = s.id FROM studio s "
        "WHERE s.created_by_id = c.user_id AND c.studio_id IS NULL"
    )
    op.alter_column("project", "studio_id", existing_type=sa.Integer(), nullable=False)


def downgrade() -> None:
    op.alter_column("project", "studio_id", existing_type=sa.Integer(), nullable=True)
    # The studios 0014 made; 0013's downgrade moves projects back to their makers.
    op.execute("UPDATE credit_charge SET studio_id = NULL")
    op.execute("UPDATE asset SET requested_by_id = NULL")
