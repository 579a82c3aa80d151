"""Readers' votes on messages: cast, change or clear one, read a reader's own, list them for admins.

A vote is one row per (message, voter), written with an upsert on that unique pair, so two votes of
the same reader sent at once (two tabs, a double click) leave one row, the last one written.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Insert, case, func
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete, select

from agentkit_app.store.db import in_session, writer_lock
from agentkit_app.store.models import (
    FeedbackEntry,
    FeedbackPublic,
    FeedbackRecord,
    FeedbackSummary,
    FeedbackTally,
    MessagePublic,
    MessageRecord,
    Rating,
    UserRecord,
    utcnow,
)

EXCERPT_CHARS = 200


class UnknownMessage(KeyError):
    """The message voted on does not exist (any more)."""


def _upsert(dialect: str, values: dict[str, Any]) -> Insert:
    """Return the insert of a vote that replaces the voter's earlier vote on the same message."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(FeedbackRecord).values(**values)
    return statement.on_conflict_do_update(
        index_elements=["message_id", "voter"],
        set_={
            "rating": statement.excluded.rating,
            "comment": statement.excluded.comment,
            "updated_at": statement.excluded.updated_at,
        },
    )


class FeedbackStore:
    """Keeps the votes of readers on messages."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._writer = writer_lock(engine)

    async def message(self, session_id: str, message_id: str) -> MessagePublic | None:
        """Return a message of a session, or None."""

        def work(db: Session) -> MessagePublic | None:
            row = db.exec(
                select(MessageRecord).where(
                    MessageRecord.session_id == session_id, MessageRecord.message_id == message_id
                )
            ).first()
            return MessagePublic.model_validate(row, update={"metadata": row.meta}) if row else None

        return await in_session(self.engine, work)

    async def vote(
        self,
        *,
        message_id: str,
        session_id: str,
        voter: str,
        rating: Rating | None,
        comment: str = "",
        agent_name: str | None = None,
        expert_name: str | None = None,
        message_type: str = "chat",
    ) -> FeedbackPublic | None:
        """Cast or change ``voter``'s vote on a message, or with ``rating=None`` clear it; return the vote now.

        The caller has checked that the message is rateable and the voter's to see.

        Raises:
            UnknownMessage: the message does not exist (deleted with its session meanwhile).
        """
        now = utcnow()

        def work(db: Session) -> FeedbackPublic | None:
            mine = (col(FeedbackRecord.message_id) == message_id) & (col(FeedbackRecord.voter) == voter)
            if rating is None:
                db.exec(delete(FeedbackRecord).where(mine))
                db.commit()
                return None
            values = {
                "message_id": message_id,
                "session_id": session_id,
                "voter": voter,
                "rating": Rating(rating).value,
                "comment": comment,
                "agent_name": agent_name,
                "expert_name": expert_name,
                "message_type": message_type,
                "created_at": now,
                "updated_at": now,
            }
            try:
                db.execute(_upsert(self.engine.dialect.name, values))
                db.commit()
            except IntegrityError:  # the unique pair is the upsert's; what is left is the message's key
                db.rollback()
                raise UnknownMessage(message_id) from None
            row = db.exec(select(FeedbackRecord).where(mine)).one()
            return FeedbackPublic.of(row)

        return await in_session(self.engine, work, lock=self._writer)

    async def votes_in_session(self, voter: str, session_id: str) -> dict[str, FeedbackPublic]:
        """Return ``voter``'s votes on a session's messages, by message id."""

        def work(db: Session) -> dict[str, FeedbackPublic]:
            query = select(FeedbackRecord).where(
                FeedbackRecord.session_id == session_id, FeedbackRecord.voter == voter
            )
            return {row.message_id: FeedbackPublic.of(row) for row in db.exec(query)}

        return await in_session(self.engine, work)

    async def of_session(self, session_id: str) -> dict[str, list[FeedbackPublic]]:
        """Return every vote on a session's messages, by message id, oldest first."""

        def work(db: Session) -> dict[str, list[FeedbackPublic]]:
            query = (
                select(FeedbackRecord)
                .where(FeedbackRecord.session_id == session_id)
                .order_by(col(FeedbackRecord.id))
            )
            votes: dict[str, list[FeedbackPublic]] = {}
            for row in db.exec(query):
                votes.setdefault(row.message_id, []).append(FeedbackPublic.of(row))
            return votes

        return await in_session(self.engine, work)

    async def listing(
        self,
        *,
        agent: str | None = None,
        expert: str | None = None,
        rating: Rating | None = None,
        limit: int = 50,
        before: datetime | None = None,
    ) -> list[FeedbackEntry]:
        """Return votes newest first (by when they were last changed), filtered by agent, expert and rating.

        ``before`` pages on: only votes changed before that moment (the last one of the previous page's).
        """

        def work(db: Session) -> list[FeedbackEntry]:
            query = (
                select(FeedbackRecord, MessageRecord.content, UserRecord.username)
                .join(MessageRecord, col(MessageRecord.message_id) == col(FeedbackRecord.message_id))
                .join(UserRecord, col(UserRecord.user_id) == col(FeedbackRecord.voter), isouter=True)
            )
            if agent:
                query = query.where(FeedbackRecord.agent_name == agent)
            if expert:
                query = query.where(FeedbackRecord.expert_name == expert)
            if rating is not None:
                query = query.where(FeedbackRecord.rating == Rating(rating).value)
            if before is not None:
                query = query.where(col(FeedbackRecord.updated_at) < before)
            query = query.order_by(col(FeedbackRecord.updated_at).desc(), col(FeedbackRecord.id).desc())
            return [
                FeedbackEntry.model_validate(
                    {
                        **{name: getattr(row, name) for name in FeedbackRecord.model_fields},
                        "user_id": row.voter or None,
                        "username": username,
                        "excerpt": _excerpt(content),
                    }
                )
                for row, content, username in db.exec(query.limit(limit))
            ]

        return await in_session(self.engine, work)

    async def tally(self) -> FeedbackSummary:
        """Return the thumbs up and down of each agent and each expert that has votes, by name."""

        def counts(db: Session, column: Any) -> list[FeedbackTally]:
            up = func.sum(case((col(FeedbackRecord.rating) == Rating.UP.value, 1), else_=0))
            down = func.sum(case((col(FeedbackRecord.rating) == Rating.DOWN.value, 1), else_=0))
            query = select(column, up, down).where(column.is_not(None)).group_by(column).order_by(column)
            return [
                FeedbackTally(name=name, up=int(u), down=int(d)) for name, u, d in db.execute(query) if name
            ]

        def work(db: Session) -> FeedbackSummary:
            return FeedbackSummary(
                agents=counts(db, col(FeedbackRecord.agent_name)),
                experts=counts(db, col(FeedbackRecord.expert_name)),
            )

        return await in_session(self.engine, work)


def _excerpt(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= EXCERPT_CHARS else line[: EXCERPT_CHARS - 1].rstrip() + "…"
