"""Personal API tokens: stored by the SHA-256 of their secret, listed without it, found by it.

The store never sees a token itself: the service hands it the hash to keep and, for each request,
the hash to look up. ``last_used_at`` is written at most once per :data:`LAST_USED_EVERY` per token,
so a busy script costs a read per request, not a write.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, delete, func, select

from agentkit_app.store.accounts import AccountStanding, standing_of
from agentkit_app.store.db import in_session, writer_lock
from agentkit_app.store.models import ApiTokenPublic, ApiTokenRecord, UserRecord, utcnow

__all__ = ["LAST_USED_EVERY", "ApiTokenStore", "TokenHolder", "TooManyTokens", "UnknownUser"]

LAST_USED_EVERY = timedelta(minutes=1)


class TooManyTokens(Exception):
    """The user has as many tokens as one may have."""


class UnknownUser(Exception):
    """No such user."""


@dataclass(frozen=True)
class TokenHolder:
    """A valid token's id and its user as access control needs them."""

    token_id: str
    standing: AccountStanding


def _aware(value: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes, which are UTC
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _public(row: ApiTokenRecord, username: str = "") -> ApiTokenPublic:
    return ApiTokenPublic(
        token_id=row.token_id,
        prefix=f"ak_{row.token_id}",
        name=row.name,
        user_id=row.user_id,
        username=username,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        expires_at=row.expires_at,
    )


class ApiTokenStore:
    """Creates, lists, finds and deletes personal API tokens."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._writer = writer_lock(engine)

    async def create(
        self,
        *,
        token_id: str,
        token_hash: str,
        user_id: str,
        name: str,
        expires_at: datetime | None,
        most: int,
    ) -> ApiTokenPublic:
        """Keep a new token of ``user_id``, unless they already hold ``most`` tokens.

        Raises:
            UnknownUser: no such user.
            TooManyTokens: the user holds ``most`` tokens (expired ones count until revoked).
        """

        def work(db: Session) -> ApiTokenPublic:
            # writing the user's row locks it until commit, so two creations at once cannot both pass the count
            touched = db.exec(
                update(UserRecord)
                .where(col(UserRecord.user_id) == user_id)
                .values(username=UserRecord.username)
            )
            if touched.rowcount == 0:
                raise UnknownUser(user_id)
            held = db.exec(
                select(func.count()).select_from(ApiTokenRecord).where(ApiTokenRecord.user_id == user_id)
            ).one()
            if held >= most:
                raise TooManyTokens(f"at most {most} tokens per user")
            row = ApiTokenRecord(
                token_id=token_id, token_hash=token_hash, user_id=user_id, name=name, expires_at=expires_at
            )
            db.add(row)
            db.commit()
            db.refresh(row)
            return _public(row)

        return await in_session(self.engine, work, lock=self._writer)

    async def list(self, user_id: str | None = None) -> list[ApiTokenPublic]:
        """Return the tokens of ``user_id`` (None: of everyone), newest first, each with its owner's name."""

        def work(db: Session) -> list[ApiTokenPublic]:
            query = select(ApiTokenRecord, UserRecord.username).join(
                UserRecord, col(UserRecord.user_id) == col(ApiTokenRecord.user_id)
            )
            if user_id is not None:
                query = query.where(ApiTokenRecord.user_id == user_id)
            rows = db.exec(
                query.order_by(col(ApiTokenRecord.created_at).desc(), col(ApiTokenRecord.token_id))
            )
            return [_public(row, username) for row, username in rows]

        return await in_session(self.engine, work)

    async def delete(self, token_id: str, user_id: str | None = None) -> bool:
        """Delete a token (only if it is ``user_id``'s, when given); False if there was none to delete."""

        def work(db: Session) -> bool:
            query = delete(ApiTokenRecord).where(col(ApiTokenRecord.token_id) == token_id)
            if user_id is not None:
                query = query.where(col(ApiTokenRecord.user_id) == user_id)
            gone = db.exec(query).rowcount > 0
            db.commit()
            return gone

        return await in_session(self.engine, work, lock=self._writer)

    async def find(self, token_hash: str, now: datetime | None = None) -> TokenHolder | None:
        """Return the unexpired token with this hash and its user, or None; note its use (at most once a minute)."""
        moment = now or utcnow()

        def read(db: Session) -> tuple[TokenHolder, datetime | None] | None:
            found = db.exec(
                select(ApiTokenRecord, UserRecord)
                .join(UserRecord, col(UserRecord.user_id) == col(ApiTokenRecord.user_id))
                .where(ApiTokenRecord.token_hash == token_hash)
            ).first()
            if found is None:
                return None
            token, user = found
            expires = _aware(token.expires_at)
            if expires is not None and expires <= moment:
                return None
            return TokenHolder(token.token_id, standing_of(db, user)), _aware(token.last_used_at)

        found = await in_session(self.engine, read)
        if found is None:
            return None
        holder, last_used = found
        if last_used is None or last_used <= moment - LAST_USED_EVERY:
            await self._note_use(holder.token_id, moment)
        return holder

    async def _note_use(self, token_id: str, moment: datetime) -> None:
        stale = moment - LAST_USED_EVERY

        def work(db: Session) -> None:
            # the condition again in SQL: of requests that arrive together, one writes
            db.exec(
                update(ApiTokenRecord)
                .where(
                    col(ApiTokenRecord.token_id) == token_id,
                    or_(
                        col(ApiTokenRecord.last_used_at).is_(None), col(ApiTokenRecord.last_used_at) <= stale
                    ),
                )
                .values(last_used_at=moment)
            )
            db.commit()

        await in_session(self.engine, work, lock=self._writer)
