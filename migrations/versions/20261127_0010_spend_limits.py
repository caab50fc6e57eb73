"""Schema: spend limits (SystemConfig defaults, per-user overrides), each asset's estimated cost, the credit ledger.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27 14:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "system_config", sa.Column("daily_credit_budget", sa.Float(), server_default="2000", nullable=False)
    )
    op.add_column(
        "system_config", sa.Column("max_running_generations", sa.Integer(), server_default="8", nullable=False)
    )
    op.add_column(
        "system_config", sa.Column("smart_edit_cost_credits", sa.Float(), server_default="1", nullable=False)
    )
    op.add_column("user_account", sa.Column("daily_credit_budget", sa.Float(), nullable=True))
    op.add_column("user_account", sa.Column("max_running_generations", sa.Integer(), nullable=True))
    op.add_column("asset", sa.Column("estimated_cost_credits", sa.Float(), nullable=True))
    op.create_table(
        "credit_charge",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("asset_id", sa.Integer(), nullable=True),
        sa.Column(
            "kind",
            sa.Enum(
                "generate", "animate", "retry", "smart_edit", name="chargekind", native_enum=False, length=16,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("estimated", sa.Float(), nullable=False),
        sa.Column("actual", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_credit_charge_user_id_user_account"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["asset_id"], ["asset.id"], name=op.f("fk_credit_charge_asset_id_asset"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_charge")),
    )
    op.create_index(op.f("ix_credit_charge_asset_id"), "credit_charge", ["asset_id"], unique=False)
    op.create_index(
        "ix_credit_charge_user_id_created_at", "credit_charge", ["user_id", "created_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_credit_charge_user_id_created_at", table_name="credit_charge")
    op.drop_index(op.f("ix_credit_charge_asset_id"), table_name="credit_charge")
    op.drop_table("credit_charge")
    op.drop_column("asset", "estimated_cost_credits")
    op.drop_column("user_account", "max_running_generations")
    op.drop_column("user_account", "daily_credit_budget")
    op.drop_column("system_config", "smart_edit_cost_credits")
    op.drop_column("system_config", "max_running_generations")
    op.drop_column("system_config", "daily_credit_budget")
