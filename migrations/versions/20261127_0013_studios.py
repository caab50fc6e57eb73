"""Schema: studios, their members (with roles) and member invites; projects belong to a studio (`studio_id`,
filled by 0014) and remember who made them (`owner_id` becomes `created_by_id`); who requested each asset and who
set each headliner; the studio a charge was for; the activity feed.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-27 23:40:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLES = ("viewer", "editor", "owner")
ACTIVITY_KINDS = (
    "generated", "failed", "headliner", "commented", "link_created", "link_revoked", "shot_deleted", "asset_deleted"
)


def _timestamps() -> list[sa.Column]:
    return [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    ]


def _role() -> sa.Column:
    return sa.Column(
        "role",
        sa.Enum(*ROLES, name="studiorole", native_enum=False, length=16, create_constraint=True),
        nullable=False,
    )


def _user_fk(table: str, column: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], ["user_account.id"], name=op.f(f"fk_{table}_{column}_user_account"), ondelete="SET NULL"
    )


def upgrade() -> None:
    op.create_table(
        "studio",
        *_timestamps(),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("daily_credit_budget", sa.Float(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        _user_fk("studio", "created_by_id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_studio")),
    )
    op.create_table(
        "membership",
        *_timestamps(),
        sa.Column("studio_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        _role(),
        sa.ForeignKeyConstraint(
            ["studio_id"], ["studio.id"], name=op.f("fk_membership_studio_id_studio"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_membership_user_id_user_account"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_membership")),
        sa.UniqueConstraint("studio_id", "user_id", name=op.f("uq_membership_studio_id_user_id")),
    )
    op.create_index(op.f("ix_membership_user_id"), "membership", ["user_id"], unique=False)
    op.create_table(
        "studio_invite",
        *_timestamps(),
        sa.Column("studio_id", sa.Integer(), nullable=False),
        sa.Column("token", sa.Uuid(), nullable=False),
        _role(),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("used_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["studio_id"], ["studio.id"], name=op.f("fk_studio_invite_studio_id_studio"), ondelete="CASCADE"
        ),
        _user_fk("studio_invite", "created_by_id"),
        _user_fk("studio_invite", "used_by_id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_studio_invite")),
        sa.UniqueConstraint("token", name=op.f("uq_studio_invite_token")),
    )
    op.create_index(op.f("ix_studio_invite_studio_id"), "studio_invite", ["studio_id"], unique=False)

    # A project is the studio's; its maker is remembered (and may leave or be deleted without taking it along).
    op.add_column("project", sa.Column("studio_id", sa.Integer(), nullable=True))
    op.create_foreign_key(
        op.f("fk_project_studio_id_studio"), "project", "studio", ["studio_id"], ["id"], ondelete="CASCADE"
    )
    op.create_index(op.f("ix_project_studio_id"), "project", ["studio_id"], unique=False)
    op.drop_index("ix_project_owner_id", table_name="project")
    op.drop_constraint("fk_project_owner_id_user_account", "project", type_="foreignkey")
    op.alter_column("project", "owner_id", new_column_name="created_by_id", nullable=True)
    op.create_foreign_key(
        op.f("fk_project_created_by_id_user_account"),
        "project",
        "user_account",
        ["created_by_id"],
        ["id"],
        ondelete="SET NULL",
    )

    op.add_column("box", sa.Column("headliner_set_by_id", sa.Integer(), nullable=True))
    op.add_column("box", sa.Column("headliner_set_at", sa.DateTime(timezone=True), nullable=True))
    op.create_foreign_key(
        op.f("fk_box_headliner_set_by_id_user_account"),
        "box",
        "user_account",
        ["headliner_set_by_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.add_column("asset", sa.Column("requested_by_id", sa.Integer(), nullable=True))
    op.create_foreign_key(
        op.f("fk_asset_requested_by_id_user_account"),
        "asset",
        "user_account",
        ["requested_by_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.add_column("credit_charge", sa.Column("studio_id", sa.Integer(), nullable=True))
    op.create_foreign_key(
        op.f("fk_credit_charge_studio_id_studio"),
        "credit_charge",
        "studio",
        ["studio_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_index(
        "ix_credit_charge_studio_id_created_at", "credit_charge", ["studio_id", "created_at"], unique=False
    )

    op.create_table(
        "activity_item",
        *_timestamps(),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(*ACTIVITY_KINDS, name="activitykind", native_enum=False, length=16, create_constraint=True),
            nullable=False,
        ),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("actor_name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("box_id", sa.Integer(), nullable=True),
        sa.Column("asset_id", sa.Integer(), nullable=True),
        sa.Column("details", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"], ["project.id"], name=op.f("fk_activity_item_project_id_project"), ondelete="CASCADE"
        ),
        _user_fk("activity_item", "actor_user_id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activity_item")),
    )
    op.create_index("ix_activity_item_project_id_id", "activity_item", ["project_id", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_activity_item_project_id_id", table_name="activity_item")
    op.drop_table("activity_item")
    op.drop_index("ix_credit_charge_studio_id_created_at", table_name="credit_charge")
    op.drop_constraint(op.f("fk_credit_charge_studio_id_studio"), "credit_charge", type_="foreignkey")
    op.drop_column("credit_charge", "studio_id")
    op.drop_constraint(op.f("fk_asset_requested_by_id_user_account"), "asset", type_="foreignkey")
    op.drop_column("asset", "requested_by_id")
    op.drop_constraint(op.f("fk_box_headliner_set_by_id_user_account"), "box", type_="foreignkey")
    op.drop_column("box", "headliner_set_at")
    op.drop_column("box", "headliner_set_by_id")

    # Back to one owner per project: a project nobody made goes to its studio's first owner, else it is dropped.
    op.execute(
        "UPDATE project SET created_by_id = ("
        " SELECT m.user_id FROM membership m WHERE m.studio_id = project.studio_id AND m.role = 'owner'"
        " ORDER BY m.id LIMIT 1) WHERE created_by_id IS NULL"
    )
    op.execute("DELETE FROM project WHERE created_by_id IS NULL")
    op.drop_constraint(op.f("fk_project_created_by_id_user_account"), "project", type_="foreignkey")
    op.alter_column("project", "created_by_id", new_column_name="owner_id", nullable=False)
    op.create_foreign_key(
        "fk_project_owner_id_user_account", "project", "user_account", ["owner_id"], ["id"], ondelete="CASCADE"
    )
    op.create_index("ix_project_owner_id", "project", ["owner_id"], unique=False)
    op.drop_index(op.f("ix_project_studio_id"), table_name="project")
    op.drop_constraint(op.f("fk_project_studio_id_studio"), "project", type_="foreignkey")
    op.drop_column("project", "studio_id")

    op.drop_index(op.f("ix_studio_invite_studio_id"), table_name="studio_invite")
    op.drop_table("studio_invite")
    op.drop_index(op.f("ix_membership_user_id"), table_name="membership")
    op.drop_table("membership")
    op.drop_table("studio")
