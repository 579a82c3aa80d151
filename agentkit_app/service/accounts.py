"""Account administration for admins: users, departments, their quotas and usage.

The admin REST routes and the admin page both come through here: they share one set of input
models (so a name, a password or a limit is checked by the same rule), and the account store's
refusals become service errors in one place (:func:`_store_errors`), each with an i18n key the page shows.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field, TypeAdapter, ValidationError

from agentkit_app.service.access import AccessControl, Principal, enabled_access
from agentkit_app.service.errors import Conflict, InvalidInput, NotFound
from agentkit_app.store.accounts import AccountConflict, UnknownDepartment
from agentkit_app.store.models import DepartmentPublic, QuotaPublic, UserPublic

__all__ = [
    "QUOTA_FIELDS",
    "AccountAdmin",
    "DepartmentCreate",
    "DepartmentName",
    "DepartmentUpdate",
    "DepartmentWithQuotas",
    "Password",
    "UserCreate",
    "UserUpdate",
    "Username",
    "check_password",
    "clean_department_name",
    "clean_username",
    "parse_limit",
    "quotas_from_boxes",
    "user_from_form",
]

USERNAME_PATTERN = r"^[A-Za-z0-9._@-]+$"
# the quota boxes of the admin page, in the order they are shown, keyed by (type, period)
QUOTA_FIELDS = (("tokens", "day"), ("tokens", "month"), ("requests", "day"), ("requests", "month"))


def _collapse_blanks(value: object) -> object:
    return " ".join(value.split()) if isinstance(value, str) else value


Username = Annotated[str, Field(min_length=1, max_length=64, pattern=USERNAME_PATTERN)]
Password = Annotated[str, Field(min_length=8, max_length=256)]
# runs of whitespace collapse to one blank before the length is checked, so a blank name is refused
DepartmentName = Annotated[str, BeforeValidator(_collapse_blanks), Field(min_length=1, max_length=100)]
Role = Literal["admin", "user"]


class UserCreate(BaseModel):
    """A new user: ``POST /admin/users`` and the admin page's user form."""

    username: Username
    password: Password
    role: Role = "user"
    department_id: str | None = Field(default=None, max_length=64)


class UserUpdate(BaseModel):
    """Changes to a user: only the fields given change (``department_id: null`` clears it)."""

    password: Password | None = None
    role: Role | None = None
    department_id: str | None = Field(default=None, max_length=64)
    disabled: bool | None = None


class DepartmentCreate(BaseModel):
    """A new department; ``shell_enabled`` lets its regular users run the shell tool."""

    name: DepartmentName
    shell_enabled: bool = False


class DepartmentUpdate(BaseModel):
    """Changes to a department: only the fields given change."""

    shell_enabled: bool | None = None


class DepartmentWithQuotas(DepartmentPublic):
    """A department and its quotas."""

    quotas: list[QuotaPublic] = []


def _checked(kind: Any, value: object, key: str) -> Any:
    """Return ``value`` validated as ``kind``, or raise InvalidInput with the i18n ``key``."""
    try:
        return TypeAdapter(kind).validate_python(value)
    except ValidationError as exc:
        raise InvalidInput(str(exc.errors()[0]["msg"]), key) from None


def clean_department_name(name: str) -> str:
    """Return a department name with its whitespace collapsed.

    Raises:
        InvalidInput: the name is blank or longer than 100 characters (``admin_err_dept_name``).
    """
    cleaned: str = _checked(DepartmentName, name, "admin_err_dept_name")
    return cleaned


def clean_username(name: str) -> str:
    """Return a user name without surrounding blanks.

    Raises:
        InvalidInput: empty, too long, or characters other than letters, digits and ``._@-``.
    """
    cleaned: str = _checked(Username, name.strip(), "admin_err_user_name")
    return cleaned


def check_password(password: str) -> str:
    """Return the password if its length is allowed.

    Raises:
        InvalidInput: shorter than 8 or longer than 256 characters (``admin_err_password``).
    """
    checked: str = _checked(Password, password, "admin_err_password")
    return checked


def parse_limit(text: str) -> int | None:
    """Return a quota limit typed as a whole number ≥ 0, or None for an empty box (no limit).

    Raises:
        InvalidInput: anything but digits (``admin_err_number``).
    """
    cleaned = text.strip()
    if not cleaned:
        return None
    if not cleaned.isascii() or not cleaned.isdigit():
        raise InvalidInput("a limit is a whole number", "admin_err_number")
    return int(cleaned)


def quotas_from_boxes(boxes: dict[tuple[str, str], str]) -> list[QuotaPublic]:
    """Return the quotas typed in the four boxes, keyed by (type, period); empty boxes set no limit.

    Raises:
        InvalidInput: a box holds something other than a whole number a quota can hold.
    """
    quotas = []
    for quota_type, period in QUOTA_FIELDS:
        limit = parse_limit(boxes.get((quota_type, period), ""))
        if limit is not None:
            quota = {"quota_type": quota_type, "period": period, "limit": limit}
            quotas.append(_checked(QuotaPublic, quota, "admin_err_number"))
    return quotas


def user_from_form(username: str, password: str, role: str, department_id: str | None) -> UserCreate:
    """Return the new user typed in the admin page's form, checked field by field.

    Raises:
        InvalidInput: the first field that is refused, with its own i18n key.
    """
    checked_role = _checked(Role, role, "admin_err_role")  # a select, checked first as before
    return UserCreate(
        username=clean_username(username),
        password=check_password(password),
        role=checked_role,
        department_id=department_id,
    )


@contextmanager
def _store_errors(conflict_key: str = "admin_err_failed") -> Iterator[None]:
    """Turn the account store's refusals into service errors (``conflict_key``: what a taken name means)."""
    try:
        yield
    except AccountConflict as exc:
        raise Conflict(str(exc), conflict_key) from None
    except UnknownDepartment:
        raise NotFound("department not found", "admin_err_unknown_dept") from None
    except ValueError as exc:
        raise InvalidInput(str(exc), "admin_err_failed") from None


class AccountAdmin:
    """What an admin may do with accounts; the caller has checked that the principal is an admin."""

    def __init__(self, access: AccessControl) -> None:
        self._access = access
        self._accounts = access.accounts

    @classmethod
    def of(cls, access: AccessControl | None) -> AccountAdmin:
        """Return the account administration of a deployment with accounts on.

        Raises:
            AccountsDisabled: accounts are off.
        """
        return cls(enabled_access(access))

    def require_admin(self, principal: Principal) -> None:
        """Return if ``principal`` is a signed-in admin (raises Forbidden otherwise)."""
        self._access.require_admin(principal)

    async def list_users(self) -> list[UserPublic]:
        """Return every user, by username."""
        return await self._accounts.list_users()

    async def create_user(self, new: UserCreate) -> UserPublic:
        """Create a user.

        Raises:
            Conflict: the name is taken (``admin_err_user_exists``).
            NotFound: no such department (``admin_err_unknown_dept``).
        """
        with _store_errors("admin_err_user_exists"):
            return await self._accounts.create_user(
                username=new.username, password=new.password, role=new.role, department_id=new.department_id
            )

    async def update_user(self, user_id: str, change: UserUpdate) -> UserPublic:
        """Change a user's password, role, department or disabled flag; return the user as now stored.

        Raises:
            NotFound: no such user, or no such department.
            Conflict: the change clashes with another account.
        """
        with _store_errors("admin_err_user_exists"):
            updated = await self._accounts.update_user(
                user_id,
                password=change.password,
                role=change.role,
                department_id=change.department_id,
                clear_department="department_id" in change.model_fields_set and change.department_id is None,
                disabled=change.disabled,
            )
        if updated is None:
            raise NotFound("user not found", "admin_err_failed")
        return updated

    async def toggle_user(self, user_id: str) -> UserPublic:
        """Disable an enabled user or enable a disabled one (raises NotFound for an unknown user)."""
        user = await self._accounts.get_user(user_id)
        if user is None:
            raise NotFound("user not found", "admin_err_failed")
        return await self.update_user(user_id, UserUpdate(disabled=not user.disabled))

    async def list_departments(self) -> list[DepartmentPublic]:
        """Return every department, by name."""
        return await self._accounts.list_departments()

    async def departments_with_quotas(self) -> list[DepartmentWithQuotas]:
        """Return every department with its quotas, by name."""
        return [
            DepartmentWithQuotas(**d.model_dump(), quotas=await self._accounts.get_quotas(d.department_id))
            for d in await self._accounts.list_departments()
        ]

    async def create_department(self, new: DepartmentCreate) -> DepartmentPublic:
        """Create a department (raises Conflict, ``admin_err_dept_exists``, if the name is taken)."""
        with _store_errors("admin_err_dept_exists"):
            return await self._accounts.create_department(new.name, shell_enabled=new.shell_enabled)

    async def update_department(self, department_id: str, change: DepartmentUpdate) -> DepartmentPublic:
        """Change a department; return it as now stored (raises NotFound for an unknown one)."""
        with _store_errors():
            updated = await self._accounts.update_department(
                department_id, shell_enabled=change.shell_enabled
            )
        if updated is None:
            raise NotFound("department not found", "admin_err_unknown_dept")
        return updated

    async def set_quotas(self, department_id: str, quotas: list[QuotaPublic]) -> list[QuotaPublic]:
        """Replace a department's quotas (``[]`` removes them).

        Raises:
            NotFound: no such department.
            InvalidInput: two quotas of the same type and period.
        """
        with _store_errors():
            return await self._accounts.set_quotas(department_id, quotas)

    async def usage(self, department_id: str, period: str) -> dict[str, Any]:
        """Return a department's usage in the current ``period`` with its quotas (see ``QuotaGate.usage``)."""
        return await self._access.quota.usage(department_id, period)
