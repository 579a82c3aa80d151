"""Accounts: users, departments and their quotas, async over a synchronous SQLModel engine.

Passwords are hashed with Argon2id (see :mod:`agentkit_app.store.passwords`); a check for an unknown
user costs as much as one for a known user, and a legacy hash is upgraded when its owner signs in.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete, select

from agentkit_app.store.db import in_session, in_session_now
from agentkit_app.store.models import (
    ApiTokenRecord,
    DepartmentPublic,
    DepartmentRecord,
    QuotaPublic,
    QuotaRecord,
    UserPublic,
    UserRecord,
)
from agentkit_app.store.passwords import dummy_hash, hash_password, needs_rehash, verify_password
from agentkit_app.store.usage import UnknownDepartment, UsageLedger

__all__ = ["ROLES", "AccountConflict", "AccountStanding", "AccountStore", "UnknownDepartment", "standing_of"]

ROLES = ("admin", "user")


class AccountConflict(Exception):
    """A username or department name that is taken already."""


@dataclass(frozen=True)
class AccountStanding:
    """A user as access control needs them: the public record, the token version and the department's shell switch."""

    user: UserPublic
    # the ``ver`` claim a token must carry to be valid (raised by every password change)
    token_version: int = 0
    # whether the user's department lets its regular users run the shell tool (False: no department)
    department_shell: bool = False


class AccountStore(UsageLedger):
    """Creates and reads users and departments and keeps department quotas; the usage ledger's methods come with it."""

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

        def work(db: Session) -> UserPublic:
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

        return in_session_now(self.engine, work)

    async def create_user(
        self, *, username: str, password: str, role: str = "user", department_id: str | None = None
    ) -> UserPublic:
        """Create a user (see :meth:`create_user_now` for the errors)."""
        # one worker thread for the hashing and the transaction
        return await asyncio.to_thread(
            self.create_user_now, username=username, password=password, role=role, department_id=department_id
        )

    async def get_user(self, user_id: str) -> UserPublic | None:
        """Return a user by id, or None."""

        def work(db: Session) -> UserPublic | None:
            row = db.get(UserRecord, user_id)
            return UserPublic.of(row) if row else None

        return await in_session(self.engine, work)

    async def list_users(self) -> list[UserPublic]:
        """Return every user, by username."""

        def work(db: Session) -> list[UserPublic]:
            return [UserPublic.of(r) for r in db.exec(select(UserRecord).order_by(col(UserRecord.username)))]

        return await in_session(self.engine, work)

    def has_admin_now(self) -> bool:
        """Return whether any enabled admin exists, blocking (for startup code)."""
        query = select(UserRecord.user_id).where(
            UserRecord.role == "admin", col(UserRecord.disabled).is_(False)
        )
        return in_session_now(self.engine, lambda db: db.exec(query).first() is not None)

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

        A new password raises the user's token version, which ends every sign-in token issued before, and
        deletes the user's personal API tokens.
        Returns None for an unknown user; raises ValueError or UnknownDepartment like :meth:`create_user_now`.
        """
        if role is not None and role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        password_hash = await asyncio.to_thread(hash_password, password) if password is not None else None

        def work(db: Session) -> UserPublic | None:
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
                # and ends the user's personal API tokens: a reset password often means a stolen account
                db.exec(delete(ApiTokenRecord).where(col(ApiTokenRecord.user_id) == user_id))
            if role is not None:
                row.role = role
            if disabled is not None:
                row.disabled = disabled
            db.add(row)
            db.commit()
            db.refresh(row)
            return UserPublic.of(row)

        return await in_session(self.engine, work)

    async def check_password(self, username: str, password: str) -> AccountStanding | None:
        """Return the user if the username exists, is enabled and the password matches; else None.

        A matching hash that is scrypt or has outdated Argon2 parameters is replaced by a new one (unless
        the password changed meanwhile). An unknown username is checked against a dummy hash, so that
        it takes about as long as a known one.
        """

        def find(db: Session) -> UserRecord | None:
            return db.exec(select(UserRecord).where(UserRecord.username == username)).first()

        # each session is closed before hashing starts: no connection is held meanwhile
        row = await in_session(self.engine, find)
        if row is None:
            await asyncio.to_thread(lambda: verify_password(password, dummy_hash()))
            return None
        stored, user_id = row.password_hash, row.user_id
        if not await asyncio.to_thread(verify_password, password, stored) or row.disabled:
            return None
        upgraded = await asyncio.to_thread(hash_password, password) if needs_rehash(stored) else None

        def confirm(db: Session) -> AccountStanding | None:
            if upgraded is not None:
                db.exec(
                    update(UserRecord)
                    .where(col(UserRecord.user_id) == user_id, col(UserRecord.password_hash) == stored)
                    .values(password_hash=upgraded)
                )
                db.commit()
            current = db.get(UserRecord, user_id)
            # a password changed or an account disabled while the old password was being checked wins
            if current is None or current.disabled or current.password_hash not in (stored, upgraded):
                return None
            return standing_of(db, current)

        return await in_session(self.engine, confirm)

    async def get_standing(self, user_id: str) -> AccountStanding | None:
        """Return a user with their token version and their department's shell switch, or None."""

        def work(db: Session) -> AccountStanding | None:
            row = db.get(UserRecord, user_id)
            return standing_of(db, row) if row else None

        return await in_session(self.engine, work)

    async def create_department(self, name: str, *, shell_enabled: bool = False) -> DepartmentPublic:
        """Create a department (AccountConflict if the name is taken); ``shell_enabled`` lets its users run the shell."""

        def work(db: Session) -> DepartmentPublic:
            if db.exec(select(DepartmentRecord).where(DepartmentRecord.name == name)).first() is not None:
                raise AccountConflict(f"department {name!r} exists")
            row = DepartmentRecord(name=name, shell_enabled=shell_enabled)
            db.add(row)
            try:
                db.commit()
            except IntegrityError as exc:
                raise AccountConflict(f"department {name!r} exists") from exc
            return DepartmentPublic.of(row)

        return await in_session(self.engine, work)

    async def update_department(
        self, department_id: str, *, shell_enabled: bool | None = None
    ) -> DepartmentPublic | None:
        """Turn a department's shell switch on or off (None: leave it); return the department, or None if unknown."""

        def work(db: Session) -> DepartmentPublic | None:
            row = db.get(DepartmentRecord, department_id)
            if row is None:
                return None
            if shell_enabled is not None:
                row.shell_enabled = shell_enabled
                db.add(row)
                db.commit()
                db.refresh(row)
            return DepartmentPublic.of(row)

        return await in_session(self.engine, work)

    async def get_department(self, department_id: str) -> DepartmentPublic | None:
        """Return a department by id, or None."""

        def work(db: Session) -> DepartmentPublic | None:
            row = db.get(DepartmentRecord, department_id)
            return DepartmentPublic.of(row) if row else None

        return await in_session(self.engine, work)

    async def list_departments(self) -> list[DepartmentPublic]:
        """Return every department, by name."""

        def work(db: Session) -> list[DepartmentPublic]:
            rows = db.exec(select(DepartmentRecord).order_by(col(DepartmentRecord.name)))
            return [DepartmentPublic.of(r) for r in rows]

        return await in_session(self.engine, work)

    async def set_quotas(self, department_id: str, quotas: list[QuotaPublic]) -> list[QuotaPublic]:
        """Replace a department's quotas with ``quotas`` (an empty list removes every limit).

        Raises:
            UnknownDepartment: no such department.
            ValueError: two quotas of the same type and period.
        """
        keys = [(q.quota_type, q.period) for q in quotas]
        if len(set(keys)) != len(keys):
            raise ValueError("at most one quota per type and period")

        def work(db: Session) -> list[QuotaPublic]:
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

        return await in_session(self.engine, work)

    async def get_quotas(self, department_id: str) -> list[QuotaPublic]:
        """Return a department's quotas (empty: no limits, or no such department)."""

        def work(db: Session) -> list[QuotaPublic]:
            rows = db.exec(
                select(QuotaRecord)
                .where(QuotaRecord.department_id == department_id)
                .order_by(col(QuotaRecord.id))
            )
            return [QuotaPublic(quota_type=r.quota_type, period=r.period, limit=r.limit) for r in rows]  # type: ignore[arg-type]

        return await in_session(self.engine, work)


def standing_of(db: Session, row: UserRecord) -> AccountStanding:
    """Return a user row as access control needs it, read in the open session ``db``."""
    department = db.get(DepartmentRecord, row.department_id) if row.department_id else None
    return AccountStanding(
        user=UserPublic.of(row),
        token_version=row.token_version,
        department_shell=bool(department and department.shell_enabled),
    )
