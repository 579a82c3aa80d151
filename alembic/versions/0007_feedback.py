"""Readers' feedback on messages: one thumbs up or down, with an optional comment, per reader and message.

A row goes with its message (``ON DELETE CASCADE``); the unique pair (message, voter) makes a second
vote of the same reader replace the first, also when both arrive at once.

Revision ID: 0007_feedback
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_feedback"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "message_feedback",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "message_id",
            sa.String(64),
            sa.ForeignKey("messages.message_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.Column("voter", sa.String(64), nullable=False, server_default=""),
        sa.Column("rating", sa.String(8), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False, server_default=""),
        sa.Column("agent_name", sa.String(100), nullable=True),
        sa.Column("expert_name", sa.String(100), nullable=True),
        sa.Column("message_type", sa.String(32), nullable=False, server_default="chat"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("message_id", "voter", name="uq_message_feedback_message_voter"),
    )
    op.create_index("ix_message_feedback_message_id", "message_feedback", ["message_id"])
    op.create_index("ix_message_feedback_updated", "message_feedback", ["updated_at"])
    op.create_index("ix_message_feedback_agent_name", "message_feedback", ["agent_name"])
    op.create_index("ix_message_feedback_expert_name", "message_feedback", ["expert_name"])
    op.create_index("ix_message_feedback_session_voter", "message_feedback", ["session_id", "voter"])


def downgrade() -> None:
    op.drop_index("ix_message_feedback_session_voter", "message_feedback")
    op.drop_index("ix_message_feedback_expert_name", "message_feedback")
    op.drop_index("ix_message_feedback_agent_name", "message_feedback")
    op.drop_index("ix_message_feedback_updated", "message_feedback")
    op.drop_index("ix_message_feedback_message_id", "message_feedback")
    op.drop_table("message_feedback")
