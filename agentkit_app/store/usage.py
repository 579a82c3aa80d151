"""The usage ledger: one row per answered request of a department, with its tokens, and atomic admission."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import bindparam, func, insert, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, delete, select

from agentkit_app.store.db import in_session, writer_lock
from agentkit_app.store.models import DepartmentRecord, UsageRecord, UsageTotals, utcnow

# every answered turn writes one of these: statements built once, without ORM objects
_LEDGER = UsageRecord.__table__  # type: ignore[attr-defined]
_INSERT_USAGE = insert(_LEDGER)
_SETTLE_USAGE = update(_LEDGER).where(_LEDGER.c.id == bindparam("where_id"))


class UnknownDepartment(Exception):
    """A department id that does not exist."""


class UsageLedger:
    """Records what each request used, sums it per department and admits requests under a department's lock."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # SQLite: this process's writes queue for the one writer here, not in SQLite's busy wait
        self._writer = writer_lock(engine)

    async def record_usage(
        self,
        *,
        session_id: str,
        user_id: str | None = None,
        department_id: str | None = None,
        model: str = "",
        tier: str | None = None,
        prompt_tokens: int = 0,
        completion_tokens: int = 0,
        created_at: datetime | None = None,
    ) -> None:
        """Add one row to the usage ledger (``created_at`` defaults to now)."""
        row = {
            "session_id": session_id,
            "user_id": user_id,
            "department_id": department_id,
            "model": model[:200],
            "tier": tier,
            "prompt_tokens": max(0, int(prompt_tokens)),
            "completion_tokens": max(0, int(completion_tokens)),
            "created_at": created_at or utcnow(),
        }

        def work(db: Session) -> None:
            db.connection().execute(_INSERT_USAGE, row)
            db.commit()

        await in_session(self.engine, work, lock=self._writer)

    async def usage_since(self, department_id: str, since: datetime) -> UsageTotals:
        """Return a department's requests and tokens recorded at or after ``since``."""
        return await in_session(self.engine, lambda db: _totals(db, department_id, since))

    async def reserve_request(
        self,
        *,
        department_id: str,
        user_id: str | None,
        session_id: str,
        periods: dict[str, datetime],
        admit: Callable[[dict[str, UsageTotals]], None],
    ) -> int:
        """Admit one request of a department atomically; return the id of the ledger row that holds its place.

        In one transaction that holds the department's lock, the usage since each period's start
        (``periods``: period name to start) goes to ``admit``, which raises to refuse; otherwise a
        row with no tokens yet is added, so the request counts at once. Concurrent admissions of one
        department, in this process or another one on the same database, wait for each other, so a
        limit cannot be passed by asking at the same instant. The row's tokens are filled in by
        :meth:`settle_usage`, or the row is dropped by :meth:`release` if the request is never answered.

        Raises:
            UnknownDepartment: no such department.
        """

        def work(db: Session) -> int:
            # writing the department row takes its lock (SQLite: the database's write lock) until commit
            touched = db.exec(
                update(DepartmentRecord)
                .where(col(DepartmentRecord.department_id) == department_id)
                .values(name=DepartmentRecord.name)
            )
            if touched.rowcount == 0:
                raise UnknownDepartment(department_id)
            admit({period: _totals(db, department_id, since) for period, since in periods.items()})
            row = UsageRecord(session_id=session_id, user_id=user_id, department_id=department_id)
            db.add(row)
            db.commit()
            return int(row.id or 0)

        return await in_session(self.engine, work, lock=self._writer)

    async def settle_usage(
        self, row_id: int, *, model: str, tier: str | None, prompt_tokens: int, completion_tokens: int
    ) -> bool:
        """Fill in the tokens of a reserved ledger row; False if the row is gone."""
        tokens = {
            "where_id": row_id,
            "model": model[:200],
            "tier": tier,
            "prompt_tokens": max(0, int(prompt_tokens)),
            "completion_tokens": max(0, int(completion_tokens)),
        }

        def work(db: Session) -> bool:
            settled = db.connection().execute(_SETTLE_USAGE, tokens).rowcount == 1
            db.commit()
            return settled

        return await in_session(self.engine, work, lock=self._writer)

    async def release(self, row_id: int) -> None:
        """Drop a reserved ledger row whose request was never answered."""

        def work(db: Session) -> None:
            db.exec(delete(UsageRecord).where(col(UsageRecord.id) == row_id))
            db.commit()

        await in_session(self.engine, work, lock=self._writer)

    async def usage_of_session(self, session_id: str) -> list[UsageRecord]:
        """Return the ledger rows of one session, oldest first."""

        def work(db: Session) -> list[UsageRecord]:
            query = (
                select(UsageRecord).where(UsageRecord.session_id == session_id).order_by(col(UsageRecord.id))
            )
            return [UsageRecord.model_validate(r) for r in db.exec(query)]

        return await in_session(self.engine, work)


def _totals(db: Session, department_id: str, since: datetime) -> UsageTotals:
    query = select(
        func.count(col(UsageRecord.id)),
        func.coalesce(func.sum(UsageRecord.prompt_tokens), 0),
        func.coalesce(func.sum(UsageRecord.completion_tokens), 0),
    ).where(UsageRecord.department_id == department_id, col(UsageRecord.created_at) >= since)
    requests, prompt, completion = db.exec(query).one()
    return UsageTotals(requests=int(requests), prompt_tokens=int(prompt), completion_tokens=int(completion))
