"""Personal API tokens: a user's named tokens, kept as SHA-256 hashes, with last use and optional expiry.

A token goes with its user (``ON DELETE CASCADE``); ``token_hash`` is unique, which is how a request's
token is found.

Revision ID: 0008_api_tokens
Revises: 0007_feedback
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_api_tokens"
down_revision = "0007_feedback"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("token_id", sa.String(16), primary_key=True),
        sa.Column(
            "user_id", sa.String(64), sa.ForeignKey("users.user_id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("token_hash", name="uq_api_tokens_token_hash"),
    )
    op.create_index("ix_api_tokens_user_id", "api_tokens", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_api_tokens_user_id", "api_tokens")
    op.drop_table("api_tokens")
