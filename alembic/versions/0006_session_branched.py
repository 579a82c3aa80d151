"""Whether a session's messages fork: a session that never forked pages its history without following links.

Sessions that exist already get NULL (not known), and their active branch is followed link by link
as before; new sessions start unforked, and an edit, a regeneration or a switch of branch marks them.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.add_column(sa.Column("branched", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.drop_column("branched")
