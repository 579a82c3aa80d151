"""Read-only share links to a conversation: a random token, who made it, who may open it, and when it was revoked.

A share goes with its session (``ON DELETE CASCADE``). ``token`` is unique: that is how a link is
found. The token itself is kept (not a hash): it guards nothing but the conversation stored beside it,
and keeping it lets the owner copy a live link again.

Revision ID: 0011_shares
Revises: 0010_catalog
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_shares"
down_revision = "0010_catalog"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "shares",
        sa.Column("share_id", sa.String(16), primary_key=True),
        sa.Column("token", sa.String(64), nullable=False),
        sa.Column(
            "session_id",
            sa.String(64),
            sa.ForeignKey("sessions.session_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("created_by", sa.String(64), nullable=True),
        sa.Column("visibility", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("token", name="uq_shares_token"),
    )
    op.create_index("ix_shares_session_id", "shares", ["session_id"])


def downgrade() -> None:
    op.drop_index("ix_shares_session_id", "shares")
    op.drop_table("shares")
