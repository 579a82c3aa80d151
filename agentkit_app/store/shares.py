"""Read-only share links: one row per link to a session, found by its token, revoked by a timestamp.

A revoked link is kept (``revoked_at`` set) so that who shared what, and when it stopped, stays on
record; only links that are not revoked are listed or found.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, ForeignKey, String, update
from sqlalchemy.engine import Engine
from sqlmodel import Field, Session, SQLModel, col, func, select

from agentkit_app.store.db import in_session, writer_lock
from agentkit_app.store.models import SessionRecord, SharePublic, ShareVisibility, UserRecord, utcnow

__all__ = ["ShareRecord", "ShareStore", "TooManyShares", "UnknownSession"]


class TooManyShares(Exception):
    """The session has as many live links as one may have."""


class UnknownSession(Exception):
    """No such session."""


# A read-only link to one session.
class ShareRecord(SQLModel, table=True):
    __tablename__ = "shares"

    share_id: str = Field(primary_key=True, max_length=16)
    token: str = Field(max_length=64, unique=True)
    session_id: str = Field(
        sa_column=Column(
            String(64), ForeignKey("sessions.session_id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    # the user who made it (None: accounts off, or the API key); no foreign key, like a session's owner
    created_by: str | None = Field(default=None, max_length=64)
    visibility: ShareVisibility = Field(max_length=16, sa_type=String(16))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    revoked_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))


def _row(record: ShareRecord, username: str | None = None) -> SharePublic:
    return SharePublic(
        share_id=record.share_id,
        token=record.token,
        session_id=record.session_id,
        created_by=record.created_by,
        created_by_name=username or "",
        visibility=record.visibility,
        created_at=record.created_at,
    )


class ShareStore:
    """Creates, lists, finds and revokes share links."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._writer = writer_lock(engine)

    async def create(
        self,
        *,
        share_id: str,
        token: str,
        session_id: str,
        created_by: str | None,
        visibility: ShareVisibility,
        most: int,
    ) -> SharePublic:
        """Keep a new link to ``session_id``, unless it has ``most`` live links already.

        Raises:
            UnknownSession: no such session.
            TooManyShares: the session has ``most`` links that are not revoked.
        """

        def work(db: Session) -> SharePublic:
            # writing the session's row locks it until commit: two links made at once are counted in turn
            touched = db.exec(
                update(SessionRecord)
                .where(col(SessionRecord.session_id) == session_id)
                .values(session_id=SessionRecord.session_id)
            )
            if touched.rowcount == 0:
                raise UnknownSession(session_id)
            live = db.exec(
                select(func.count())
                .select_from(ShareRecord)
                .where(ShareRecord.session_id == session_id, col(ShareRecord.revoked_at).is_(None))
            ).one()
            if live >= most:
                raise TooManyShares(f"at most {most} links per conversation")
            record = ShareRecord(
                share_id=share_id,
                token=token,
                session_id=session_id,
                created_by=created_by,
                visibility=visibility,
            )
            db.add(record)
            db.commit()
            db.refresh(record)
            maker = db.get(UserRecord, created_by) if created_by else None
            return _row(record, maker.username if maker else None)

        return await in_session(self.engine, work, lock=self._writer)

    async def of_session(self, session_id: str) -> list[SharePublic]:
        """Return the session's live links, newest first, each with its maker's name."""

        def work(db: Session) -> list[SharePublic]:
            rows = db.exec(
                select(ShareRecord, UserRecord.username)
                .join(UserRecord, col(UserRecord.user_id) == col(ShareRecord.created_by), isouter=True)
                .where(ShareRecord.session_id == session_id, col(ShareRecord.revoked_at).is_(None))
                .order_by(col(ShareRecord.created_at).desc(), col(ShareRecord.share_id))
            )
            return [_row(record, username) for record, username in rows]

        return await in_session(self.engine, work)

    async def find(self, token: str) -> SharePublic | None:
        """Return the live link with this token, or None (unknown or revoked)."""

        def work(db: Session) -> SharePublic | None:
            record = db.exec(
                select(ShareRecord).where(ShareRecord.token == token, col(ShareRecord.revoked_at).is_(None))
            ).first()
            return None if record is None else _row(record)

        return await in_session(self.engine, work)

    async def revoke(self, session_id: str, share_id: str, now: datetime | None = None) -> bool:
        """Revoke a live link of ``session_id`` at once; False if there was none to revoke."""
        moment = now or utcnow()

        def work(db: Session) -> bool:
            done = db.exec(
                update(ShareRecord)
                .where(
                    col(ShareRecord.share_id) == share_id,
                    col(ShareRecord.session_id) == session_id,
                    col(ShareRecord.revoked_at).is_(None),
                )
                .values(revoked_at=moment)
            )
            db.commit()
            return done.rowcount > 0

        return await in_session(self.engine, work, lock=self._writer)
