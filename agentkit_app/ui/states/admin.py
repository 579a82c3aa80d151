"""The admin page: departments with their usage and quotas, and user accounts.

It calls the account store in-process, as the admin REST endpoints do, with the same checks on
what is typed; every action checks again that the browser's principal is an admin. A refused
input leaves the form as it was and names the problem in ``error`` (a key of the i18n table).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import reflex as rx

from agentkit_app.service.access import AccessControl, Principal
from agentkit_app.service.runtime import get_service
from agentkit_app.store.accounts import AccountConflict, UnknownDepartment
from agentkit_app.store.models import DepartmentPublic, QuotaPublic
from agentkit_app.ui.states.auth import LOGIN_ROUTE, current_principal

# the same limits as the admin REST bodies (agentkit_app.api.auth)
USERNAME_RE = re.compile(r"^[A-Za-z0-9._@-]+$")
USERNAME_MAX = 64
PASSWORD_MIN, PASSWORD_MAX = 8, 256
DEPARTMENT_NAME_MAX = 100
# a Radix select item cannot have an empty value
NO_DEPARTMENT = "none"
QUOTA_FIELDS = (("tokens", "day"), ("tokens", "month"), ("requests", "day"), ("requests", "month"))
# the i18n keys ``AdminState.error`` may hold
ERROR_KEYS = (
    "admin_err_dept_name",
    "admin_err_dept_exists",
    "admin_err_user_name",
    "admin_err_user_exists",
    "admin_err_password",
    "admin_err_role",
    "admin_err_number",
    "admin_err_unknown_dept",
    "admin_err_self_disable",
    "admin_err_failed",
)


class InvalidInput(ValueError):
    """Typed input that the admin page refuses; ``key`` names the message in the i18n table."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def clean_department_name(name: str) -> str:
    """Return a department name with its whitespace collapsed.

    Raises:
        InvalidInput: the name is blank or longer than the REST API allows.
    """
    cleaned = " ".join(name.split())
    if not cleaned or len(cleaned) > DEPARTMENT_NAME_MAX:
        raise InvalidInput("admin_err_dept_name")
    return cleaned


def clean_username(name: str) -> str:
    """Return a user name without surrounding blanks.

    Raises:
        InvalidInput: empty, too long, or characters other than letters, digits and ``._@-``.
    """
    cleaned = name.strip()
    if not cleaned or len(cleaned) > USERNAME_MAX or not USERNAME_RE.match(cleaned):
        raise InvalidInput("admin_err_user_name")
    return cleaned


def check_password(password: str) -> str:
    """Return the password if its length is allowed.

    Raises:
        InvalidInput: shorter than 8 or longer than 256 characters.
    """
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise InvalidInput("admin_err_password")
    return password


def parse_limit(text: str) -> int | None:
    """Return a quota limit typed as a whole number ≥ 0, or None for an empty box (no limit).

    Raises:
        InvalidInput: anything but digits.
    """
    cleaned = text.strip()
    if not cleaned:
        return None
    if not cleaned.isascii() or not cleaned.isdigit():
        raise InvalidInput("admin_err_number")
    return int(cleaned)


def quotas_from_boxes(boxes: dict[tuple[str, str], str]) -> list[QuotaPublic]:
    """Return the quotas typed in the four boxes, keyed by (type, period); empty boxes set no limit.

    Raises:
        InvalidInput: a box holds something other than a whole number ≥ 0.
    """
    quotas = []
    for quota_type, period in QUOTA_FIELDS:
        limit = parse_limit(boxes.get((quota_type, period), ""))
        if limit is not None:
            quotas.append(QuotaPublic(quota_type=quota_type, period=period, limit=limit))  # type: ignore[arg-type]
    return quotas


def usage_text(current: int, limit: int | None) -> str:
    """Return ``current / limit``, with ∞ when there is no limit."""
    return f"{current:,} / {'∞' if limit is None else f'{limit:,}'}"


@dataclass
class DepartmentRow:
    """One department with its usage of the current UTC day and month against its limits."""

    department_id: str = ""
    name: str = ""
    day_requests: str = ""
    day_tokens: str = ""
    month_requests: str = ""
    month_tokens: str = ""
    over: bool = False
    limit_tokens_day: str = ""
    limit_tokens_month: str = ""
    limit_requests_day: str = ""
    limit_requests_month: str = ""
    shell_enabled: bool = False


@dataclass
class UserRow:
    """One user account."""

    user_id: str = ""
    username: str = ""
    role: str = ""
    department: str = ""
    disabled: bool = False
    is_me: bool = False


def _department_row(
    department: DepartmentPublic, day: dict[str, Any], month: dict[str, Any]
) -> DepartmentRow:
    """Return a department's row from its ``QuotaGate.usage`` of the day and of the month."""
    limits: dict[tuple[str, str], int] = {}
    over = False
    for usage in (day, month):
        for quota in usage["quotas"]:
            limits[(quota["quota_type"], quota["period"])] = quota["limit"]
            over = over or quota["current"] >= quota["limit"]

    def limit(quota_type: str, period: str) -> str:
        value = limits.get((quota_type, period))
        return "" if value is None else str(value)

    return DepartmentRow(
        department_id=department.department_id,
        name=department.name,
        day_requests=usage_text(day["requests"], limits.get(("requests", "day"))),
        day_tokens=usage_text(day["total_tokens"], limits.get(("tokens", "day"))),
        month_requests=usage_text(month["requests"], limits.get(("requests", "month"))),
        month_tokens=usage_text(month["total_tokens"], limits.get(("tokens", "month"))),
        over=over,
        limit_tokens_day=limit("tokens", "day"),
        limit_tokens_month=limit("tokens", "month"),
        limit_requests_day=limit("requests", "day"),
        limit_requests_month=limit("requests", "month"),
        shell_enabled=department.shell_enabled,
    )


class AdminState(rx.State):
    """The admin page: its lists, its three forms and the last refusal."""

    allowed: bool = False
    departments: list[DepartmentRow] = []
    users: list[UserRow] = []
    # which form the error belongs to ("dept", "quota", "user", "users") and its i18n key
    error_form: str = ""
    error: str = ""

    dept_name: str = ""

    quota_dept_id: str = ""
    quota_dept_name: str = ""
    quota_tokens_day: str = ""
    quota_tokens_month: str = ""
    quota_requests_day: str = ""
    quota_requests_month: str = ""

    user_name: str = ""
    user_password: str = ""
    user_role: str = "user"
    user_dept: str = NO_DEPARTMENT

    async def _admin(self) -> tuple[AccessControl, Principal] | None:
        """Return the account service and the principal if this browser is a signed-in admin, else None."""
        access = get_service().access
        if access is None or not access.enabled:
            return None
        principal = await current_principal(self)
        if principal is None or principal.role != "admin":
            return None
        return access, principal

    async def _refused(self):
        """Hide the page and send a non-admin away: to sign in if nobody is signed in, else home."""
        self.allowed = False
        self.departments, self.users = [], []
        return rx.redirect(LOGIN_ROUTE if await current_principal(self) is None else "/")

    def _fail(self, form: str, key: str) -> None:
        self.error_form, self.error = form, key

    def _clear_error(self) -> None:
        self.error_form, self.error = "", ""

    async def _reload(self, access: AccessControl, principal: Principal) -> None:
        """Read the departments with their usage, and the users."""
        departments = await access.accounts.list_departments()
        rows = []
        for department in departments:
            day = await access.quota.usage(department.department_id, "day")
            month = await access.quota.usage(department.department_id, "month")
            rows.append(_department_row(department, day, month))
        self.departments = rows
        names = {d.department_id: d.name for d in departments}
        self.users = [
            UserRow(
                user_id=u.user_id,
                username=u.username,
                role=u.role,
                department=names.get(u.department_id or "", ""),
                disabled=u.disabled,
                is_me=u.user_id == principal.user_id,
            )
            for u in await access.accounts.list_users()
        ]
        if self.user_dept != NO_DEPARTMENT and self.user_dept not in names:
            self.user_dept = NO_DEPARTMENT

    @rx.event
    async def load(self):
        """On opening the page: show it to an admin, send anyone else away."""
        admin = await self._admin()
        if admin is None:
            return await self._refused()
        self.allowed = True
        self._clear_error()
        self.quota_dept_id = ""
        await self._reload(*admin)

    @rx.event
    def set_dept_name(self, value: str) -> None:
        """Keep the new department's name as typed."""
        self.dept_name = value

    @rx.event
    def set_quota_tokens_day(self, value: str) -> None:
        """Keep the daily token limit as typed."""
        self.quota_tokens_day = value

    @rx.event
    def set_quota_tokens_month(self, value: str) -> None:
        """Keep the monthly token limit as typed."""
        self.quota_tokens_month = value

    @rx.event
    def set_quota_requests_day(self, value: str) -> None:
        """Keep the daily request limit as typed."""
        self.quota_requests_day = value

    @rx.event
    def set_quota_requests_month(self, value: str) -> None:
        """Keep the monthly request limit as typed."""
        self.quota_requests_month = value

    @rx.event
    def set_user_name(self, value: str) -> None:
        """Keep the new user's name as typed."""
        self.user_name = value

    @rx.event
    def set_user_password(self, value: str) -> None:
        """Keep the new user's password as typed."""
        self.user_password = value

    @rx.event
    def set_user_role(self, value: str) -> None:
        """Choose the new user's role."""
        self.user_role = value

    @rx.event
    def set_user_dept(self, value: str) -> None:
        """Choose the new user's department (``none`` for none)."""
        self.user_dept = value

    @rx.event
    async def create_department(self, form_data: dict):
        """Create a department from the form; a blank or taken name is refused and stays in the box."""
        self.dept_name = str(form_data.get("dept_name", self.dept_name))
        admin = await self._admin()
        if admin is None:
            return await self._refused()
        try:
            name = clean_department_name(self.dept_name)
            await admin[0].accounts.create_department(name)
        except InvalidInput as exc:
            return self._fail("dept", exc.key)
        except AccountConflict:
            return self._fail("dept", "admin_err_dept_exists")
        self._clear_error()
        self.dept_name = ""
        await self._reload(*admin)

    @rx.event
    def edit_quotas(self, department_id: str) -> None:
        """Open the quota editor of a department, filled with its current limits."""
        row = next((d for d in self.departments if d.department_id == department_id), None)
        if row is None:
            return
        self._clear_error()
        self.quota_dept_id, self.quota_dept_name = row.department_id, row.name
        self.quota_tokens_day, self.quota_tokens_month = row.limit_tokens_day, row.limit_tokens_month
        self.quota_requests_day, self.quota_requests_month = row.limit_requests_day, row.limit_requests_month

    @rx.event
    def cancel_quotas(self) -> None:
        """Close the quota editor without saving."""
        self.quota_dept_id = ""
        if self.error_form == "quota":
            self._clear_error()

    @rx.event
    async def save_quotas(self, form_data: dict):
        """Replace the edited department's quotas; an empty box is no limit, anything but a whole number is refused."""
        for field in ("quota_tokens_day", "quota_tokens_month", "quota_requests_day", "quota_requests_month"):
            setattr(self, field, str(form_data.get(field, getattr(self, field))))
        admin = await self._admin()
        if admin is None:
            return await self._refused()
        try:
            quotas = quotas_from_boxes(
                {
                    ("tokens", "day"): self.quota_tokens_day,
                    ("tokens", "month"): self.quota_tokens_month,
                    ("requests", "day"): self.quota_requests_day,
                    ("requests", "month"): self.quota_requests_month,
                }
            )
            await admin[0].accounts.set_quotas(self.quota_dept_id, quotas)
        except InvalidInput as exc:
            return self._fail("quota", exc.key)
        except UnknownDepartment:
            return self._fail("quota", "admin_err_unknown_dept")
        self._clear_error()
        self.quota_dept_id = ""
        await self._reload(*admin)

    @rx.event
    async def create_user(self, form_data: dict):
        """Create a user from the form; a bad name, short password or taken name is refused, nothing typed is lost."""
        self.user_name = str(form_data.get("user_name", self.user_name))
        self.user_password = str(form_data.get("user_password", self.user_password))
        admin = await self._admin()
        if admin is None:
            return await self._refused()
        if self.user_role not in ("admin", "user"):
            return self._fail("user", "admin_err_role")
        try:
            username = clean_username(self.user_name)
            password = check_password(self.user_password)
            department_id = None if self.user_dept == NO_DEPARTMENT else self.user_dept
            await admin[0].accounts.create_user(
                username=username, password=password, role=self.user_role, department_id=department_id
            )
        except InvalidInput as exc:
            return self._fail("user", exc.key)
        except AccountConflict:
            return self._fail("user", "admin_err_user_exists")
        except UnknownDepartment:
            return self._fail("user", "admin_err_unknown_dept")
        self._clear_error()
        self.user_name, self.user_password = "", ""
        await self._reload(*admin)

    @rx.event
    async def toggle_user(self, user_id: str):
        """Disable an enabled user or enable a disabled one; an admin cannot disable their own account."""
        admin = await self._admin()
        if admin is None:
            return await self._refused()
        access, principal = admin
        if user_id == principal.user_id:
            return self._fail("users", "admin_err_self_disable")
        user = await access.accounts.get_user(user_id)
        if user is None:
            return self._fail("users", "admin_err_failed")
        await access.accounts.update_user(user_id, disabled=not user.disabled)
        self._clear_error()
        await self._reload(access, principal)

    @rx.event
    async def set_department_shell(self, department_id: str, enabled: bool):
        """Let a department's regular users run the shell tool, or stop them (admins always may)."""
        admin = await self._admin()
        if admin is None:
            return await self._refused()
        if await admin[0].accounts.update_department(department_id, shell_enabled=bool(enabled)) is None:
            return self._fail("dept", "admin_err_unknown_dept")
        self._clear_error()
        await self._reload(*admin)
