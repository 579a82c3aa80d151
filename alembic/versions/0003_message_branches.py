"""Branches: each message links to the message it follows; existing sessions become one straight branch.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("parent_id", sa.String(64), nullable=True))
        batch.create_index("ix_messages_parent_id", ["parent_id"])
    op.execute(
        "UPDATE messages SET parent_id = (SELECT prev.message_id FROM messages prev "
        "WHERE prev.session_id = messages.session_id AND prev.id < messages.id ORDER BY prev.id DESC LIMIT 1)"
    )


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_index("ix_messages_parent_id")
        batch.drop_column("parent_id")
