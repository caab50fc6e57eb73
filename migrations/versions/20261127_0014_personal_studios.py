"""Data: every user without a studio gets a personal one (they are its owner) holding the projects they made;
assets count as requested by their project's maker, charges as spent in their asset's studio (else the user's
personal one). Then every project must have a studio.

Written to run again after its own downgrade (which keeps the studios): only users without a membership get a
studio, only projects without a studio move, only empty who-columns are filled.

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

# The first studio a user owns (their personal one, made below or by registration).
FIRST_OWNED = (
    "(SELECT m.studio_id FROM membership m WHERE m.user_id = {user} AND m.role = 'owner' ORDER BY m.id LIMIT 1)"
)


def upgrade() -> None:
    # The name is the one registration gives (core/studios.py personal_studio_name).
    op.execute(
        "INSERT INTO studio (name, created_by_id) "
        "SELECT left(u.display_name || '''s studio', 120), u.id FROM user_account u "
        "WHERE NOT EXISTS (SELECT 1 FROM membership m WHERE m.user_id = u.id) ORDER BY u.id"
    )
    op.execute(
        "INSERT INTO membership (studio_id, user_id, role) "
        "SELECT s.id, s.created_by_id, 'owner' FROM studio s "
        "WHERE s.created_by_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM membership m WHERE m.studio_id = s.id)"
    )
    op.execute(
        "UPDATE project p SET studio_id = " + FIRST_OWNED.format(user="p.created_by_id") + " "
        "WHERE p.studio_id IS NULL"
    )
    op.execute(
        "UPDATE asset a SET requested_by_id = p.created_by_id FROM box b JOIN project p ON p.id = b.project_id "
        "WHERE b.id = a.box_id AND a.requested_by_id IS NULL"
    )
    op.execute(
        "UPDATE credit_charge c SET studio_id = p.studio_id "
        "FROM asset a JOIN box b ON b.id = a.box_id JOIN project p ON p.id = b.project_id "
        "WHERE a.id = c.asset_id AND c.studio_id IS NULL"
    )
    op.execute(
        "UPDATE credit_charge c SET studio_id = " + FIRST_OWNED.format(user="c.user_id") + " "
        "WHERE c.studio_id IS NULL"
    )
    op.alter_column("project", "studio_id", existing_type=sa.Integer(), nullable=False)


def downgrade() -> None:
    # The studios, memberships and who-columns stay (0013's downgrade drops them with their tables and columns).
    op.alter_column("project", "studio_id", existing_type=sa.Integer(), nullable=True)
