"""A session's messages as a tree: the active branch, its last message, and the siblings of edits and regenerations."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import or_
from sqlalchemy.engine import RowMapping
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from agentkit_app.store.models import MessageRecord, SessionRecord
from agentkit_app.store.records import MessageRole

CHAT_ROLES = (MessageRole.USER, MessageRole.ASSISTANT)
MAX_PARENTS_ASKED = (
    500  # more parents than this, and their siblings are found among all the session's messages
)


def message_in(db: Session, session_id: str, message_id: str) -> MessageRecord | None:
    """Return a message of the session by its id, or None."""
    return db.exec(
        select(MessageRecord).where(
            MessageRecord.session_id == session_id, MessageRecord.message_id == message_id
        )
    ).first()


def branch_leaf(db: Session, session: SessionRecord) -> str:
    """Return the active branch's last message id ("" = before the first message)."""
    return leaf_of(db, session.session_id, session.server_state)


def leaf_of(db: Session, session_id: str, server_state: dict[str, Any] | None) -> str:
    """Return the last message id of the branch ``server_state`` names, or of the session ("" = none yet)."""
    leaf = (server_state or {}).get("active_leaf")
    if isinstance(leaf, str):
        return leaf
    last = db.exec(
        select(MessageRecord.message_id)
        .where(MessageRecord.session_id == session_id)
        .order_by(col(MessageRecord.id).desc())
    ).first()
    return last or ""


def active_branch(db: Session, session: SessionRecord | None) -> SelectOfScalar[MessageRecord] | None:
    """Return a query of the messages on the session's active branch; None if there is none.

    A session that never forked has one branch, all its messages. Otherwise the database walks the
    parent links up from the branch's last message (a parent is always older than its child, which
    also ends the walk), so no message text is read beyond what is asked for.
    """
    leaf = branch_leaf(db, session) if session else ""
    if session is None or not leaf:
        return None
    session_id = session.session_id
    if session.branched is False:
        return select(MessageRecord).where(MessageRecord.session_id == session_id)
    step = aliased(MessageRecord)
    branch = (
        select(col(MessageRecord.id), col(MessageRecord.parent_id))
        .where(MessageRecord.session_id == session_id, MessageRecord.message_id == leaf)
        .cte("branch", recursive=True)
    )
    branch = branch.union_all(
        select(col(step.id), col(step.parent_id)).where(
            step.session_id == session_id, step.message_id == branch.c.parent_id, col(step.id) < branch.c.id
        )
    )
    return select(MessageRecord).join(branch, col(MessageRecord.id) == branch.c.id)


def alternatives(
    db: Session, session_id: str, rows: Sequence[RowMapping]
) -> dict[tuple[str | None, str], list[str]]:
    """Return the ids of the user messages and answers that share a parent with one of ``rows``, by (parent, role).

    ``rows`` are messages as the database returns them, by column name.
    """
    parents = {r["parent_id"] for r in rows if r["role"] in CHAT_ROLES}
    if not parents:
        return {}
    query = select(MessageRecord.message_id, MessageRecord.parent_id, MessageRecord.role).where(
        MessageRecord.session_id == session_id
    )
    if len(parents) <= MAX_PARENTS_ASKED:  # a page; for a whole long session, every message is read
        known = [p for p in parents if p is not None]
        among = col(MessageRecord.parent_id).in_(known)
        query = query.where(or_(among, col(MessageRecord.parent_id).is_(None)) if None in parents else among)
    siblings: dict[tuple[str | None, str], list[str]] = {}
    for message_id, parent_id, role in db.exec(query.order_by(col(MessageRecord.id))):
        siblings.setdefault((parent_id, role), []).append(message_id)
    return siblings
