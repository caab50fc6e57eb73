"""Database tables (SQLModel on PostgreSQL). Every table has `id`, `created_at` and `updated_at`."""

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Optional

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlmodel import Field, Relationship, SQLModel

from core.contract import AssetKind, AssetStatus

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION


def utcnow() -> datetime:
    return datetime.now(UTC)


class ModelKind(StrEnum):
    IMAGE = "image"
    VIDEO = "video"
    TEXT = "text"


def _enum_column(enum: type[StrEnum], **kwargs: Any) -> sa.Column[Any]:
    return sa.Column(
        sa.Enum(
            enum,
            native_enum=False,
            length=16,
            values_callable=lambda e: [m.value for m in e],
            validate_strings=True,
            create_constraint=True,
            name=enum.__name__.lower(),
        ),
        **kwargs,
    )


def _json_column(**kwargs: Any) -> sa.Column[Any]:
    return sa.Column(postgresql.JSONB(none_as_null=True), **kwargs)


class TimestampedTable(SQLModel):
    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(
        default_factory=utcnow,
        sa_type=sa.DateTime(timezone=True),
        sa_column_kwargs={"server_default": sa.func.now(), "nullable": False},
    )
    updated_at: datetime = Field(
        default_factory=utcnow,
        sa_type=sa.DateTime(timezone=True),
        sa_column_kwargs={"server_default": sa.func.now(), "onupdate": utcnow, "nullable": False},
    )


class User(TimestampedTable, table=True):
    __tablename__ = "user_account"
    __table_args__ = (
        sa.Index("uq_user_account_email_lower", sa.func.lower(sa.column("email")), unique=True),
    )

    email: str = Field(max_length=320)
    password_hash: str = Field(max_length=255)
    display_name: str = Field(max_length=120)
    is_active: bool = Field(default=True, sa_column_kwargs={"server_default": sa.true()})
    is_superuser: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    # Spend limits (core/spend.py): null means SystemConfig's default.
    daily_credit_budget: float | None = None
    max_running_generations: int | None = None
    # Logout everywhere (core/sessions.py): bearer tokens issued before this are refused.
    tokens_valid_after: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))

    memberships: list["Membership"] = Relationship(
        back_populates="user", cascade_delete=True, passive_deletes=True
    )


class StudioRole(StrEnum):
    """What a member may do in a studio (docs/roles.md): each role can do everything the one before it can."""

    VIEWER = "viewer"  # reads everything in the studio, comments
    EDITOR = "editor"  # creates shots, generates, animates, smart edits, picks, deletes assets
    OWNER = "owner"  # manages members, share links and the studio's budget, deletes projects

    @property
    def rank(self) -> int:
        return _ROLE_RANKS[self]

    def allows(self, needed: "StudioRole") -> bool:
        return self.rank >= needed.rank


_ROLE_RANKS = {StudioRole.VIEWER: 1, StudioRole.EDITOR: 2, StudioRole.OWNER: 3}


class Studio(TimestampedTable, table=True):
    """A team: its members (each with a role) share its projects. Registration makes a personal one."""

    name: str = Field(max_length=120)
    # The studio's own day budget in credits (core/spend.py), on top of each member's; null means none.
    daily_credit_budget: float | None = None
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")

    memberships: list["Membership"] = Relationship(
        back_populates="studio", cascade_delete=True, passive_deletes=True
    )
    projects: list["Project"] = Relationship(
        back_populates="studio", cascade_delete=True, passive_deletes=True
    )


class Membership(TimestampedTable, table=True):
    __table_args__ = (sa.UniqueConstraint("studio_id", "user_id"),)

    studio_id: int = Field(foreign_key="studio.id", ondelete="CASCADE")
    user_id: int = Field(foreign_key="user_account.id", ondelete="CASCADE", index=True)
    role: StudioRole = Field(sa_column=_enum_column(StudioRole, nullable=False))

    studio: "Studio" = Relationship(back_populates="memberships")
    user: "User" = Relationship(back_populates="memberships")


class StudioInvite(TimestampedTable, table=True):
    """A single-use, expiring link (`/join/?token=<token>`) an owner made to bring someone into the studio."""

    __tablename__ = "studio_invite"

    studio_id: int = Field(foreign_key="studio.id", ondelete="CASCADE", index=True)
    token: uuid.UUID = Field(default_factory=uuid.uuid4, unique=True)
    role: StudioRole = Field(sa_column=_enum_column(StudioRole, nullable=False))
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    expires_at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    used_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    used_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")


class UserSession(TimestampedTable, table=True):
    """A browser login (core/sessions.py): the `aam_session` cookie holds a random token, this row its hash."""

    __tablename__ = "user_session"

    user_id: int = Field(foreign_key="user_account.id", ondelete="CASCADE", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=sa.DateTime(timezone=True))
    expires_at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    revoked_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    user_agent: str = Field(default="", max_length=200)


class Project(TimestampedTable, table=True):
    studio_id: int = Field(foreign_key="studio.id", ondelete="CASCADE", index=True)
    # Who made it (kept when they leave the studio: the project is the studio's).
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    name: str = Field(max_length=200)
    description: str = Field(default="", sa_type=sa.Text)

    studio: "Studio" = Relationship(back_populates="projects")
    boxes: list["Box"] = Relationship(back_populates="project", cascade_delete=True, passive_deletes=True)
    share_links: list["SharedLink"] = Relationship(
        back_populates="project", cascade_delete=True, passive_deletes=True
    )
    comments: list["Comment"] = Relationship(
        back_populates="project", cascade_delete=True, passive_deletes=True
    )


class Box(TimestampedTable, table=True):
    __table_args__ = (
        sa.UniqueConstraint("project_id", "position", deferrable=True, initially="DEFERRED"),
        sa.CheckConstraint("position >= 1", name="position_positive"),
        # A shot's code names it in comments, exports and e-mails: one per project, whatever its letter case.
        sa.Index("uq_box_project_id_code_lower", "project_id", sa.func.lower(sa.column("code")), unique=True),
    )

    project_id: int = Field(foreign_key="project.id", ondelete="CASCADE", index=True)
    position: int
    code: str = Field(max_length=20)  # "SH010": stable, unlike position (core/boxes.py assigns it)
    title: str = Field(default="", max_length=200)
    notes: str = Field(default="", sa_type=sa.Text)
    headliner_id: int | None = Field(
        default=None,
        # Indexed: deleting an asset (retention purges many) looks up the box that headlines it.
        sa_column=sa.Column(
            sa.ForeignKey("asset.id", ondelete="SET NULL", use_alter=True), nullable=True, index=True
        ),
    )
    headliner_set_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    headliner_set_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))

    project: "Project" = Relationship(back_populates="boxes")
    assets: list["Asset"] = Relationship(
        back_populates="box",
        cascade_delete=True,
        passive_deletes=True,
        sa_relationship_kwargs={"foreign_keys": "Asset.box_id"},
    )
    headliner: Optional["Asset"] = Relationship(
        back_populates="headlined_box",
        sa_relationship_kwargs={"foreign_keys": "Box.headliner_id", "post_update": True},
    )
    # Deleting a box deletes its comments (the database cascades; the ORM must not try to null box_id).
    comments: list["Comment"] = Relationship(back_populates="box", cascade_delete=True, passive_deletes=True)


class Asset(TimestampedTable, table=True):
    __table_args__ = (
        sa.Index("ix_asset_box_id_created_at", "box_id", "created_at"),
        sa.Index("ix_asset_retention", "created_at", postgresql_where=sa.text("is_favorite = false")),
        # A model's recent durations (core/catalogue.py: typical_seconds).
        sa.Index(
            "ix_asset_model_id_finished_at",
            "model_id",
            "finished_at",
            postgresql_where=sa.text("status = 'COMPLETED' AND finished_at IS NOT NULL"),
        ),
    )

    box_id: int = Field(foreign_key="box.id", ondelete="CASCADE")
    kind: AssetKind = Field(sa_column=_enum_column(AssetKind, nullable=False))
    status: AssetStatus = Field(
        default=AssetStatus.PENDING, sa_column=_enum_column(AssetStatus, nullable=False, index=True)
    )
    prompt: str = Field(default="", sa_type=sa.Text)
    model_id: int | None = Field(default=None, foreign_key="ai_model.id", ondelete="RESTRICT", index=True)
    params: dict[str, Any] = Field(
        default_factory=dict, sa_column=_json_column(nullable=False, server_default="{}")
    )
    seed: int | None = Field(default=None, sa_type=sa.BigInteger)
    source_asset_id: int | None = Field(default=None, foreign_key="asset.id", ondelete="SET NULL", index=True)
    input_asset_ids: list[int] = Field(
        default_factory=list, sa_column=_json_column(nullable=False, server_default="[]")
    )
    provider_task_id: str | None = Field(default=None, max_length=128)
    file_key: str | None = Field(default=None, max_length=512)
    thumbnail_key: str | None = Field(default=None, max_length=512)
    mime_type: str | None = Field(default=None, max_length=100)
    size_bytes: int | None = Field(default=None, sa_type=sa.BigInteger)
    width: int | None = None
    height: int | None = None
    duration_seconds: float | None = None
    cost_credits: float | None = None
    estimated_cost_credits: float | None = None
    error_message: str | None = Field(default=None, sa_type=sa.Text)
    is_favorite: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    workflow_id: str | None = Field(default=None, max_length=128)
    # One generate request's variants share a batch; an animate, a retry and an upload each make their own.
    batch_id: uuid.UUID | None = None
    # When it became COMPLETED or FAILED (null while PENDING/RUNNING).
    finished_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    # Who asked for it (generate, animate, retry, upload); their running cap counts it (core/spend.py).
    requested_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")

    box: "Box" = Relationship(
        back_populates="assets", sa_relationship_kwargs={"foreign_keys": "Asset.box_id"}
    )
    headlined_box: Optional["Box"] = Relationship(
        back_populates="headliner",
        sa_relationship_kwargs={"foreign_keys": "Box.headliner_id", "uselist": False},
    )
    model: Optional["AIModel"] = Relationship(back_populates="assets")
    source_asset: Optional["Asset"] = Relationship(
        back_populates="derived_assets",
        sa_relationship_kwargs={"remote_side": "Asset.id", "foreign_keys": "Asset.source_asset_id"},
    )
    derived_assets: list["Asset"] = Relationship(
        back_populates="source_asset", sa_relationship_kwargs={"foreign_keys": "Asset.source_asset_id"}
    )
    # Deleting an asset deletes the comments on it: they were about that variant and must never become
    # box-level comments (which review links show). The database cascades; the ORM must not null asset_id.
    comments: list["Comment"] = Relationship(
        back_populates="asset", cascade_delete=True, passive_deletes=True
    )


class AIProvider(TimestampedTable, table=True):
    __tablename__ = "ai_provider"

    name: str = Field(max_length=100)
    slug: str = Field(max_length=50, unique=True)
    base_url: str = Field(max_length=255)
    api_key_env: str = Field(max_length=100, description="Name of the environment variable holding the key")
    is_active: bool = Field(default=True, sa_column_kwargs={"server_default": sa.true()})

    models: list["AIModel"] = Relationship(back_populates="provider", cascade_delete=True)

    def __str__(self) -> str:
        return self.name


class AIModel(TimestampedTable, table=True):
    __tablename__ = "ai_model"
    __table_args__ = (sa.UniqueConstraint("provider_id", "provider_model_id"),)

    provider_id: int = Field(foreign_key="ai_provider.id", ondelete="CASCADE", index=True)
    provider_model_id: str = Field(max_length=150)
    display_name: str = Field(max_length=150)
    kind: ModelKind = Field(sa_column=_enum_column(ModelKind, nullable=False))
    default_params: dict[str, Any] = Field(
        default_factory=dict, sa_column=_json_column(nullable=False, server_default="{}")
    )
    capabilities: dict[str, Any] = Field(
        default_factory=dict, sa_column=_json_column(nullable=False, server_default="{}")
    )
    price_credits: float | None = None
    is_active: bool = Field(default=True, sa_column_kwargs={"server_default": sa.true()})

    provider: "AIProvider" = Relationship(back_populates="models")
    assets: list["Asset"] = Relationship(back_populates="model")

    def __str__(self) -> str:
        return self.provider_model_id


class SystemConfig(TimestampedTable, table=True):
    """Singleton row (id = 1) of tunables edited in the admin UI."""

    __tablename__ = "system_config"
    __table_args__ = (
        sa.CheckConstraint("id = 1", name="singleton"),
        sa.CheckConstraint("retention_days >= 1", name="retention_days_positive"),
    )

    smart_edit_model: str = Field(default="gemini-2.5-flash", max_length=150)
    smart_edit_system_prompt: str = Field(default="", sa_type=sa.Text)
    retention_days: int = Field(default=10)
    retention_hour_utc: int = Field(default=3)
    extra: dict[str, Any] = Field(
        default_factory=dict, sa_column=_json_column(nullable=False, server_default="{}")
    )
    # Spend limits (core/spend.py): the defaults for users without their own.
    daily_credit_budget: float = Field(default=2000.0, sa_column_kwargs={"server_default": "2000"})
    max_running_generations: int = Field(default=8, sa_column_kwargs={"server_default": "8"})
    smart_edit_cost_credits: float = Field(default=1.0, sa_column_kwargs={"server_default": "1"})


class SharedLink(TimestampedTable, table=True):
    __tablename__ = "shared_link"

    project_id: int = Field(foreign_key="project.id", ondelete="CASCADE", index=True)
    token: uuid.UUID = Field(default_factory=uuid.uuid4, unique=True)
    expires_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")

    project: "Project" = Relationship(back_populates="share_links")
    comments: list["Comment"] = Relationship(back_populates="shared_link")


class Comment(TimestampedTable, table=True):
    """A note on a box, or on one asset of it (`asset_id` set). Guests write through a shared link."""

    __table_args__ = (sa.Index("ix_comment_project_id_created_at", "project_id", "created_at"),)

    project_id: int = Field(foreign_key="project.id", ondelete="CASCADE")
    box_id: int = Field(foreign_key="box.id", ondelete="CASCADE", index=True)
    asset_id: int | None = Field(default=None, foreign_key="asset.id", ondelete="CASCADE", index=True)
    author_user_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    author_name: str = Field(max_length=120)
    shared_link_id: int | None = Field(default=None, foreign_key="shared_link.id", ondelete="SET NULL")
    via_link: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    text: str = Field(sa_type=sa.Text)

    project: "Project" = Relationship(back_populates="comments")
    box: "Box" = Relationship(back_populates="comments")
    asset: Optional["Asset"] = Relationship(back_populates="comments")
    shared_link: Optional["SharedLink"] = Relationship(back_populates="comments")


class SmartEdit(TimestampedTable, table=True):
    """One LLM prompt rewrite, kept so a box can show its prompt history (nothing is generated from it)."""

    __tablename__ = "smart_edit"
    __table_args__ = (sa.Index("ix_smart_edit_box_id_created_at", "box_id", "created_at"),)

    user_id: int = Field(foreign_key="user_account.id", ondelete="CASCADE", index=True)
    box_id: int | None = Field(default=None, foreign_key="box.id", ondelete="CASCADE")
    original_prompt: str = Field(sa_type=sa.Text)
    instruction: str = Field(sa_type=sa.Text)
    result_prompt: str = Field(sa_type=sa.Text)
    model: str = Field(max_length=150)
    workflow_id: str | None = Field(default=None, max_length=128)


class PendingObjectDeletion(TimestampedTable, table=True):
    """An S3 key whose asset row is already deleted: the retention run removes the object, then this row.

    Written in the same transaction that deletes the asset row, so a crash between the two steps leaves a
    to-do entry (drained by the next run) instead of a visible row pointing at a missing object.
    """

    __tablename__ = "pending_object_deletion"

    asset_id: int = Field(description="The deleted asset (no foreign key: its row is gone)")
    key: str = Field(max_length=512)


class Invite(TimestampedTable, table=True):
    """A single-use, expiring registration link (`/register/?invite=<token>`) a superuser made in the admin."""

    __tablename__ = "invite"

    token: uuid.UUID = Field(default_factory=uuid.uuid4, unique=True)
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    expires_at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    used_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    used_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    note: str = Field(
        default="", max_length=200, description="Who it is for (an email or a name), for the admin"
    )

    created_by: Optional["User"] = Relationship(
        sa_relationship_kwargs={"foreign_keys": "Invite.created_by_id", "lazy": "selectin"}
    )
    used_by: Optional["User"] = Relationship(
        sa_relationship_kwargs={"foreign_keys": "Invite.used_by_id", "lazy": "selectin"}
    )


class ChargeKind(StrEnum):
    GENERATE = "generate"
    ANIMATE = "animate"
    RETRY = "retry"
    SMART_EDIT = "smart_edit"


class CreditCharge(TimestampedTable, table=True):
    """One paid request's credits (the spend ledger): deleting the asset keeps the charge, so budget never comes
    back; `actual` is Kie.ai's figure once known (0 when it failed without charging), else `estimated` counts."""

    __tablename__ = "credit_charge"
    __table_args__ = (
        sa.Index("ix_credit_charge_user_id_created_at", "user_id", "created_at"),
        sa.Index("ix_credit_charge_studio_id_created_at", "studio_id", "created_at"),
    )

    user_id: int = Field(foreign_key="user_account.id", ondelete="CASCADE")
    # The studio whose project it was for (its optional day budget counts it).
    studio_id: int | None = Field(default=None, foreign_key="studio.id", ondelete="SET NULL")
    asset_id: int | None = Field(default=None, foreign_key="asset.id", ondelete="SET NULL", index=True)
    kind: ChargeKind = Field(sa_column=_enum_column(ChargeKind, nullable=False))
    estimated: float
    actual: float | None = None


class ActivityKind(StrEnum):
    GENERATED = "generated"  # a generation or animation finished
    FAILED = "failed"  # … or failed
    HEADLINER = "headliner"  # a shot's headliner was set or cleared
    COMMENTED = "commented"
    LINK_CREATED = "link_created"  # a share link
    LINK_REVOKED = "link_revoked"
    SHOT_DELETED = "shot_deleted"
    ASSET_DELETED = "asset_deleted"


class ActivityItem(TimestampedTable, table=True):
    """One line of a project's activity feed (core/activity.py): who did what, when. Box and asset ids have no
    foreign key, so the line outlives what it names (`details` keeps the shot code and title)."""

    __tablename__ = "activity_item"
    __table_args__ = (sa.Index("ix_activity_item_project_id_id", "project_id", "id"),)

    project_id: int = Field(foreign_key="project.id", ondelete="CASCADE")
    kind: ActivityKind = Field(sa_column=_enum_column(ActivityKind, nullable=False))
    actor_user_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    actor_name: str = Field(
        max_length=120, description="A member's display name or a guest's name, as it was"
    )
    box_id: int | None = None
    asset_id: int | None = None
    details: dict[str, Any] = Field(
        default_factory=dict, sa_column=_json_column(nullable=False, server_default="{}")
    )
