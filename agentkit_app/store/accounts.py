"""Accounts: users, departments, their quotas and the usage ledger, async over a synchronous SQLModel engine.

Passwords are hashed with Argon2id (see :mod:`agentkit_app.store.passwords`); a check for an unknown
user costs as much as one for a known user, and a legacy hash is upgraded when its owner signs in.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete, select

from agentkit_app.store.models import (
    DepartmentPublic,
    DepartmentRecord,
    QuotaPublic,
    QuotaRecord,
    UsageRecord,
    UsageTotals,
    UserPublic,
    UserRecord,
)
from agentkit_app.store.passwords import dummy_hash, hash_password, needs_rehash, verify_password

ROLES = ("admin", "user")


class AccountConflict(Exception):
    """A username or department name that is taken already."""


class UnknownDepartment(Exception):
    """A department id that does not exist."""


@dataclass(frozen=True)
class AccountStanding:
    """A user as access control needs them: the public record, the token version and the department's shell switch."""

    user: UserPublic
    # the ``ver`` claim a token must carry to be valid (raised by every password change)
    token_version: int = 0
    # whether the user's department lets its regular users run the shell tool (False: no department)
    department_shell: bool = False


class AccountStore:
    """Creates and reads users and departments, keeps department quotas and the usage ledger."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def _run(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        return await asyncio.to_thread(fn, *args, **kwargs)

    def create_user_now(
        self, *, username: str, password: str, role: str = "user", department_id: str | None = None
    ) -> UserPublic:
        """Create a user, blocking (for startup code that runs outside the event loop).

        Raises:
            ValueError: an unknown role.
            AccountConflict: the username is taken.
            UnknownDepartment: ``department_id`` does not exist.
        """
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        password_hash = hash_password(password)
        with Session(self.engine) as db:
            if department_id is not None and db.get(DepartmentRecord, department_id) is None:
                raise UnknownDepartment(department_id)
            if db.exec(select(UserRecord).where(UserRecord.username == username)).first() is not None:
                raise AccountConflict(f"username {username!r} is taken")
            row = UserRecord(
                username=username, password_hash=password_hash, role=role, department_id=department_id
            )
            db.add(row)
            try:
                db.commit()
            except IntegrityError as exc:  # the same name created at the same moment
                raise AccountConflict(f"username {username!r} is taken") from exc
            db.refresh(row)
            return UserPublic.of(row)

    async def create_user(
        self, *, username: str, password: str, role: str = "user", department_id: str | None = None
    ) -> UserPublic:
        """Create a user (see :meth:`create_user_now` for the errors)."""
        return await self._run(
            self.create_user_now, username=username, password=password, role=role, department_id=department_id
        )

    async def get_user(self, user_id: str) -> UserPublic | None:
        """Return a user by id, or None."""

        def work() -> UserPublic | None:
            with Session(self.engine) as db:
                row = db.get(UserRecord, user_id)
                return UserPublic.of(row) if row else None

        return await self._run(work)

    async def list_users(self) -> list[UserPublic]:
        """Return every user, by username."""

        def work() -> list[UserPublic]:
            with Session(self.engine) as db:
                return [
                    UserPublic.of(r) for r in db.exec(select(UserRecord).order_by(col(UserRecord.username)))
                ]

        return await self._run(work)

    def has_admin_now(self) -> bool:
        """Return whether any enabled admin exists, blocking (for startup code)."""
        with Session(self.engine) as db:
            query = select(UserRecord.user_id).where(
                UserRecord.role == "admin", col(UserRecord.disabled).is_(False)
            )
            return db.exec(query).first() is not None

    async def update_user(
        self,
        user_id: str,
        *,
        password: str | None = None,
        role: str | None = None,
        department_id: str | None = None,
        clear_department: bool = False,
        disabled: bool | None = None,
    ) -> UserPublic | None:
        """Change a user's password, role, department (or, with ``clear_department``, none) or disabled flag.

        A new password raises the user's token version, which ends every sign-in token issued before.
        Returns None for an unknown user; raises ValueError or UnknownDepartment like :meth:`create_user_now`.
        """
        if role is not None and role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        password_hash = hash_password(password) if password is not None else None

        def work() -> UserPublic | None:
            with Session(self.engine) as db:
                row = db.get(UserRecord, user_id)
                if row is None:
                    return None
                if department_id is not None:
                    if db.get(DepartmentRecord, department_id) is None:
                        raise UnknownDepartment(department_id)
                    row.department_id = department_id
                elif clear_department:
                    row.department_id = None
                if password_hash is not None:
                    row.password_hash = password_hash
                    # counted in SQL, so that two changes at once raise it twice
                    row.token_version = UserRecord.token_version + 1  # type: ignore[assignment]
                if role is not None:
                    row.role = role
                if disabled is not None:
                    row.disabled = disabled
                db.add(row)
                db.commit()
                db.refresh(row)
                return UserPublic.of(row)

        return await self._run(work)

    async def check_password(self, username: str, password: str) -> AccountStanding | None:
        """Return the user if the username exists, is enabled and the password matches; else None.

        A matching hash that is scrypt or has outdated Argon2 parameters is replaced by a new one (unless
        the password changed meanwhile). An unknown username is checked against a dummy hash, so that
        it takes about as long as a known one.
        """

        def work() -> AccountStanding | None:
            with Session(self.engine) as db:  # closed before hashing: no connection held meanwhile
                row = db.exec(select(UserRecord).where(UserRecord.username == username)).first()
            if row is None:
                verify_password(password, dummy_hash())
                return None
            stored = row.password_hash
            if not verify_password(password, stored) or row.disabled:
                return None
            upgraded = hash_password(password) if needs_rehash(stored) else None
            with Session(self.engine) as db:
                if upgraded is not None:
                    db.exec(
                        update(UserRecord)
                        .where(
                            col(UserRecord.user_id) == row.user_id, col(UserRecord.password_hash) == stored
                        )
                        .values(password_hash=upgraded)
                    )
                    db.commit()
                current = db.get(UserRecord, row.user_id)
                # a password changed or an account disabled while the old password was being checked wins
                if current is None or current.disabled or current.password_hash not in (stored, upgraded):
                    return None
                return _standing(db, current)

        return await self._run(work)

    async def get_standing(self, user_id: str) -> AccountStanding | None:
        """Return a user with their token version and their department's shell switch, or None."""

        def work() -> AccountStanding | None:
            with Session(self.engine) as db:
                row = db.get(UserRecord, user_id)
                return _standing(db, row) if row else None

        return await self._run(work)

    async def create_department(self, name: str, *, shell_enabled: bool = False) -> DepartmentPublic:
        """Create a department (AccountConflict if the name is taken); ``shell_enabled`` lets its users run the shell."""

        def work() -> DepartmentPublic:
            with Session(self.engine) as db:
                if db.exec(select(DepartmentRecord).where(DepartmentRecord.name == name)).first() is not None:
                    raise AccountConflict(f"department {name!r} exists")
                row = DepartmentRecord(name=name, shell_enabled=shell_enabled)
                db.add(row)
                try:
                    db.commit()
                except IntegrityError as exc:
                    raise AccountConflict(f"department {name!r} exists") from exc
                return DepartmentPublic.of(row)

        return await self._run(work)

    async def update_department(
        self, department_id: str, *, shell_enabled: bool | None = None
    ) -> DepartmentPublic | None:
        """Turn a department's shell switch on or off (None: leave it); return the department, or None if unknown."""

        def work() -> DepartmentPublic | None:
            with Session(self.engine) as db:
                row = db.get(DepartmentRecord, department_id)
                if row is None:
                    return None
                if shell_enabled is not None:
                    row.shell_enabled = shell_enabled
                    db.add(row)
                    db.commit()
                    db.refresh(row)
                return DepartmentPublic.of(row)

        return await self._run(work)

    async def get_department(self, department_id: str) -> DepartmentPublic | None:
        """Return a department by id, or None."""

        def work() -> DepartmentPublic | None:
            with Session(self.engine) as db:
                row = db.get(DepartmentRecord, department_id)
                return DepartmentPublic.of(row) if row else None

        return await self._run(work)

    async def list_departments(self) -> list[DepartmentPublic]:
        """Return every department, by name."""

        def work() -> list[DepartmentPublic]:
            with Session(self.engine) as db:
                rows = db.exec(select(DepartmentRecord).order_by(col(DepartmentRecord.name)))
                return [DepartmentPublic.of(r) for r in rows]

        return await self._run(work)

    async def set_quotas(self, department_id: str, quotas: list[QuotaPublic]) -> list[QuotaPublic]:
        """Replace a department's quotas with ``quotas`` (an empty list removes every limit).

        Raises:
            UnknownDepartment: no such department.
            ValueError: two quotas of the same type and period.
        """
        keys = [(q.quota_type, q.period) for q in quotas]
        if len(set(keys)) != len(keys):
            raise ValueError("at most one quota per type and period")

        def work() -> list[QuotaPublic]:
            with Session(self.engine) as db:
                if db.get(DepartmentRecord, department_id) is None:
                    raise UnknownDepartment(department_id)
                db.exec(delete(QuotaRecord).where(col(QuotaRecord.department_id) == department_id))
                for quota in quotas:
                    db.add(
                        QuotaRecord(
                            department_id=department_id,
                            quota_type=quota.quota_type,
                            period=quota.period,
                            limit=quota.limit,
                        )
                    )
                db.commit()
            return list(quotas)

        return await self._run(work)

    async def get_quotas(self, department_id: str) -> list[QuotaPublic]:
        """Return a department's quotas (empty: no limits, or no such department)."""

        def work() -> list[QuotaPublic]:
            with Session(self.engine) as db:
                rows = db.exec(
                    select(QuotaRecord)
                    .where(QuotaRecord.department_id == department_id)
                    .order_by(col(QuotaRecord.id))
                )
                return [QuotaPublic(quota_type=r.quota_type, period=r.period, limit=r.limit) for r in rows]  # type: ignore[arg-type]

        return await self._run(work)

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

        def work() -> None:
            row = UsageRecord(
                session_id=session_id,
                user_id=user_id,
                department_id=department_id,
                model=model[:200],
                tier=tier,
                prompt_tokens=max(0, int(prompt_tokens)),
                completion_tokens=max(0, int(completion_tokens)),
            )
            if created_at is not None:
                row.created_at = created_at
            with Session(self.engine) as db:
                db.add(row)
                db.commit()

        await self._run(work)

    async def usage_since(self, department_id: str, since: datetime) -> UsageTotals:
        """Return a department's requests and tokens recorded at or after ``since``."""

        def work() -> UsageTotals:
            with Session(self.engine) as db:
                return _totals(db, department_id, since)

        return await self._run(work)

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

        def work() -> int:
            with Session(self.engine) as db:
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

        return await self._run(work)

    async def settle_usage(
        self, row_id: int, *, model: str, tier: str | None, prompt_tokens: int, completion_tokens: int
    ) -> bool:
        """Fill in the tokens of a reserved ledger row; False if the row is gone."""

        def work() -> bool:
            with Session(self.engine) as db:
                row = db.get(UsageRecord, row_id)
                if row is None:
                    return False
                row.model, row.tier = model[:200], tier
                row.prompt_tokens, row.completion_tokens = (
                    max(0, int(prompt_tokens)),
                    max(0, int(completion_tokens)),
                )
                db.add(row)
                db.commit()
                return True

        return await self._run(work)

    async def release(self, row_id: int) -> None:
        """Drop a reserved ledger row whose request was never answered."""

        def work() -> None:
            with Session(self.engine) as db:
                db.exec(delete(UsageRecord).where(col(UsageRecord.id) == row_id))
                db.commit()

        await self._run(work)

    async def usage_of_session(self, session_id: str) -> list[UsageRecord]:
        """Return the ledger rows of one session, oldest first."""

        def work() -> list[UsageRecord]:
            with Session(self.engine) as db:
                rows = db.exec(
                    select(UsageRecord)
                    .where(UsageRecord.session_id == session_id)
                    .order_by(col(UsageRecord.id))
                )
                return [UsageRecord.model_validate(r) for r in rows]

        return await self._run(work)


def _totals(db: Session, department_id: str, since: datetime) -> UsageTotals:
    query = select(
        func.count(col(UsageRecord.id)),
        func.coalesce(func.sum(UsageRecord.prompt_tokens), 0),
        func.coalesce(func.sum(UsageRecord.completion_tokens), 0),
    ).where(UsageRecord.department_id == department_id, col(UsageRecord.created_at) >= since)
    requests, prompt, completion = db.exec(query).one()
    return UsageTotals(requests=int(requests), prompt_tokens=int(prompt), completion_tokens=int(completion))


def _standing(db: Session, row: UserRecord) -> AccountStanding:
    department = db.get(DepartmentRecord, row.department_id) if row.department_id else None
    return AccountStanding(
        user=UserPublic.of(row),
        token_version=row.token_version,
        department_shell=bool(department and department.shell_enabled),
    )
