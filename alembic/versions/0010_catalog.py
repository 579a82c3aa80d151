"""The catalog an admin edits: agents, expert personas, board and team templates, and its version.

The tables start empty; the service seeds them once from ``defaults/agents.yaml`` (the version row
marks a seeded catalog). Every change increments the version, which each process reads to notice it.

Revision ID: 0010_catalog
Revises: 0008_api_tokens
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_catalog"
down_revision = "0008_api_tokens"
branch_labels = None
depends_on = None


def _stamps() -> sa.Column:
    return sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        "catalog_agents",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("display_name", sa.String(80), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("system_prompt", sa.Text(), nullable=False),
        sa.Column("model", sa.String(100), nullable=True),
        sa.Column("tools", sa.JSON(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        _stamps(),
    )
    op.create_table(
        "catalog_experts",
        sa.Column("key", sa.String(80), primary_key=True),
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("avatar", sa.String(200), nullable=False),
        sa.Column("color", sa.String(7), nullable=False),
        sa.Column("persona", sa.Text(), nullable=False),
        sa.Column("role", sa.String(40), nullable=False),
        sa.Column("is_moderator", sa.Boolean(), nullable=False),
        _stamps(),
    )
    op.create_table(
        "catalog_templates",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("lead", sa.String(40), nullable=True),
        sa.Column("experts", sa.JSON(), nullable=False),
        _stamps(),
    )
    op.create_table(
        "catalog_version",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("version", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    for table in ("catalog_version", "catalog_templates", "catalog_experts", "catalog_agents"):
        op.drop_table(table)
