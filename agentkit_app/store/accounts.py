"""Accounts: users, departments, their quotas and the usage ledger, async over a synchronous SQLModel engine.

Passwords are hashed with scrypt (standard library) and a random salt per password; checks
compare in constant time, and a check for an unknown user costs as much as one for a known user.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
from collections.abc import Callable
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

ROLES = ("admin", "user")
# scrypt cost: 16 MiB of memory and some tens of milliseconds per hash
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P, _SCRYPT_LEN = 2**14, 8, 1, 32


class AccountConflict(Exception):
    """A username or department name that is taken already."""


class UnknownDepartment(Exception):
    """A department id that does not exist."""


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def hash_password(password: str) -> str:
    """Return ``scrypt$N$r$p$salt$hash`` for a password, with a new random salt."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode(),
        salt=salt,
        n=_SCRYPT_N,
        r=_SCRYPT_R,
        p=_SCRYPT_P,
        dklen=_SCRYPT_LEN,
        maxmem=64 * 1024 * 1024,
    )
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """Return whether ``password`` matches a hash from :func:`hash_password` (constant-time comparison)."""
    try:
        scheme, n, r, p, salt, expected = stored.split("$")
        if scheme != "scrypt":
            return False
        want = base64.b64decode(expected)
        digest = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(want),
            maxmem=64 * 1024 * 1024,
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(digest, want)


# checked against when the username is unknown, so that the answer takes as long either way
_DUMMY_HASH = hash_password(secrets.token_hex(16))


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
                if role is not None:
                    row.role = role
                if disabled is not None:
                    row.disabled = disabled
                db.add(row)
                db.commit()
                db.refresh(row)
                return UserPublic.of(row)

        return await self._run(work)

    async def check_password(self, username: str, password: str) -> UserPublic | None:
        """Return the user if the username exists, is enabled and the password matches; else None."""

        def work() -> UserPublic | None:
            with Session(self.engine) as db:
                row = db.exec(select(UserRecord).where(UserRecord.username == username)).first()
            matches = verify_password(password, row.password_hash if row else _DUMMY_HASH)
            return UserPublic.of(row) if row is not None and matches and not row.disabled else None

        return await self._run(work)

    async def create_department(self, name: str) -> DepartmentPublic:
        """Create a department (AccountConflict if the name is taken)."""

        def work() -> DepartmentPublic:
            with Session(self.engine) as db:
                if db.exec(select(DepartmentRecord).where(DepartmentRecord.name == name)).first() is not None:
                    raise AccountConflict(f"department {name!r} exists")
                row = DepartmentRecord(name=name)
                db.add(row)
                try:
                    db.commit()
                except IntegrityError as exc:
                    raise AccountConflict(f"department {name!r} exists") from exc
                return DepartmentPublic(department_id=row.department_id, name=row.name)

        return await self._run(work)

    async def get_department(self, department_id: str) -> DepartmentPublic | None:
        """Return a department by id, or None."""

        def work() -> DepartmentPublic | None:
            with Session(self.engine) as db:
                row = db.get(DepartmentRecord, department_id)
                return DepartmentPublic(department_id=row.department_id, name=row.name) if row else None

        return await self._run(work)

    async def list_departments(self) -> list[DepartmentPublic]:
        """Return every department, by name."""

        def work() -> list[DepartmentPublic]:
            with Session(self.engine) as db:
                rows = db.exec(select(DepartmentRecord).order_by(col(DepartmentRecord.name)))
                return [DepartmentPublic(department_id=r.department_id, name=r.name) for r in rows]

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
