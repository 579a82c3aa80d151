"""Server-owned session state apart from client metadata; token versions; shell access per department.

Session keys the server trusts (``active_leaf``, ``team_run``, ``title_source``, ``pinned``) move
out of the client's free-form ``metadata`` into ``server_state``, which no client input reaches.
``users.token_version`` ends a user's sign-in tokens when their password changes;
``departments.shell_enabled`` lets an admin allow the sandboxed shell tool to a department.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

SERVER_KEYS = ("active_leaf", "team_run", "title_source", "pinned")

_sessions = sa.table(
    "sessions",
    sa.column("session_id", sa.String),
    sa.column("metadata", sa.JSON),
    sa.column("server_state", sa.JSON),
)


def upgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.add_column(sa.Column("server_state", sa.JSON(), nullable=False, server_default="{}"))
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("token_version", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("departments") as batch:
        batch.add_column(sa.Column("shell_enabled", sa.Boolean(), nullable=False, server_default=sa.false()))
    bind = op.get_bind()
    for session_id, meta in bind.execute(sa.select(_sessions.c.session_id, _sessions.c.metadata)).all():
        meta = dict(meta or {})
        state = {key: meta.pop(key) for key in SERVER_KEYS if key in meta}
        if state:
            bind.execute(
                _sessions.update()
                .where(_sessions.c.session_id == session_id)
                .values(metadata=meta, server_state=state)
            )


def downgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.select(_sessions.c.session_id, _sessions.c.metadata, _sessions.c.server_state))
    for session_id, meta, state in rows.all():
        if state:
            bind.execute(
                _sessions.update()
                .where(_sessions.c.session_id == session_id)
                .values(metadata={**(meta or {}), **state})
            )
    with op.batch_alter_table("departments") as batch:
        batch.drop_column("shell_enabled")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("token_version")
    with op.batch_alter_table("sessions") as batch:
        batch.drop_column("server_state")
