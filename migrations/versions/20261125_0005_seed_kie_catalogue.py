"""Data: the Kie.ai provider, its models with capabilities from kie-api.md, and the default SystemConfig.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 09:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ASPECT_RATIOS_IMAGE = ["1:1", "9:16", "16:9", "3:4", "4:3", "3:2", "2:3", "5:4", "4:5", "21:9", "auto"]
ASPECT_RATIOS_VIDEO = ["1:1", "4:3", "3:4", "16:9", "9:16", "21:9"]

MODELS = [
    {
        "provider_model_id": "google/nano-banana",
        "display_name": "Nano Banana",
        "kind": "image",
        "price_credits": 4.0,
        "default_params": {"aspect_ratio": "1:1", "output_format": "png"},
        "capabilities": {
            "prompt": {"min_length": 1, "max_length": 5000},
            "supports_seed": False,
            "input_images": None,
            "params": {
                "aspect_ratio": {"type": "enum", "values": ASPECT_RATIOS_IMAGE, "default": "1:1"},
                "output_format": {"type": "enum", "values": ["png", "jpeg"], "default": "png"},
            },
        },
    },
    {
        "provider_model_id": "google/nano-banana-edit",
        "display_name": "Nano Banana Edit",
        "kind": "image",
        "price_credits": 4.0,
        "default_params": {"aspect_ratio": "1:1", "output_format": "png"},
        "capabilities": {
            "prompt": {"min_length": 1, "max_length": 5000},
            "supports_seed": False,
            "input_images": {"field": "image_urls", "min": 1, "max": 10},
            "params": {
                "aspect_ratio": {"type": "enum", "values": ASPECT_RATIOS_IMAGE, "default": "1:1"},
                "output_format": {"type": "enum", "values": ["png", "jpeg"], "default": "png"},
            },
        },
    },
    {
        "provider_model_id": "bytedance/seedance-1.5-pro",
        "display_name": "Seedance 1.5 Pro",
        "kind": "video",
        "price_credits": 28.0,
        "default_params": {
            "aspect_ratio": "16:9",
            "resolution": "720p",
            "duration": 8,
            "fixed_lens": False,
            "generate_audio": False,
        },
        "capabilities": {
            "prompt": {"min_length": 3, "max_length": 2500},
            "supports_seed": False,
            "input_images": {"field": "input_urls", "min": 0, "max": 2},
            "params": {
                "aspect_ratio": {"type": "enum", "values": ASPECT_RATIOS_VIDEO, "default": "1:1"},
                "resolution": {"type": "enum", "values": ["480p", "720p", "1080p"], "default": "720p"},
                "duration": {"type": "enum", "values": [4, 8, 12], "default": 8},
                "fixed_lens": {"type": "bool", "default": False},
                "generate_audio": {"type": "bool", "default": False},
            },
            "credits_per_second": {
                "480p": {"silent": 1.75, "audio": 3.5},
                "720p": {"silent": 3.5, "audio": 7.0},
                "1080p": {"silent": 7.5, "audio": 15.0},
            },
        },
    },
    {
        "provider_model_id": "gemini-2.5-flash",
        "display_name": "Gemini 2.5 Flash (smart edit)",
        "kind": "text",
        "price_credits": None,
        "default_params": {},
        "capabilities": {"prompt": {"min_length": 1, "max_length": 20000}, "supports_seed": False, "params": {}},
    },
]

SMART_EDIT_SYSTEM_PROMPT = (
    "You rewrite prompts for an image and video generator. Apply the user's instruction to the prompt and "
    "answer with the rewritten prompt only: no quotes, no explanations, no markdown. Keep every detail the "
    "instruction does not change."
)

provider_table = sa.table(
    "ai_provider",
    sa.column("id", sa.Integer),
    sa.column("name", sa.String),
    sa.column("slug", sa.String),
    sa.column("base_url", sa.String),
    sa.column("api_key_env", sa.String),
    sa.column("is_active", sa.Boolean),
)
model_table = sa.table(
    "ai_model",
    sa.column("provider_id", sa.Integer),
    sa.column("provider_model_id", sa.String),
    sa.column("display_name", sa.String),
    sa.column("kind", sa.String),
    sa.column("default_params", postgresql.JSONB),
    sa.column("capabilities", postgresql.JSONB),
    sa.column("price_credits", sa.Float),
    sa.column("is_active", sa.Boolean),
)
config_table = sa.table(
    "system_config",
    sa.column("id", sa.Integer),
    sa.column("smart_edit_model", sa.String),
    sa.column("smart_edit_system_prompt", sa.Text),
    sa.column("retention_days", sa.Integer),
    sa.column("retention_hour_utc", sa.Integer),
)


def upgrade() -> None:
    conn = op.get_bind()
    provider_id = conn.execute(
        sa.insert(provider_table)
        .values(name="Kie.ai", slug="kie", base_url="https://api.kie.ai", api_key_env="KIE_API_KEY", is_active=True)
        .returning(provider_table.c.id)
    ).scalar_one()
    op.bulk_insert(model_table, [{**model, "provider_id": provider_id, "is_active": True} for model in MODELS])
    op.bulk_insert(
        config_table,
        [
            {
                "id": 1,
                "smart_edit_model": "gemini-2.5-flash",
                "smart_edit_system_prompt": SMART_EDIT_SYSTEM_PROMPT,
                "retention_days": 10,
                "retention_hour_utc": 3,
            }
        ],
    )


def downgrade() -> None:
    conn = op.get_bind()
    conn.execute(sa.delete(config_table).where(config_table.c.id == 1))
    conn.execute(
        sa.delete(model_table).where(model_table.c.provider_model_id.in_([m["provider_model_id"] for m in MODELS]))
    )
    conn.execute(sa.delete(provider_table).where(provider_table.c.slug == "kie"))
