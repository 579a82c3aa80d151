"""The admin page: departments with their usage and quotas, and user accounts.

It calls the service's account administration in-process, as the admin REST endpoints do, with the
same input models; every action checks again that the browser's principal is an admin. A refused
input leaves the form as it was and names the problem in ``error`` (a key of the i18n table).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import reflex as rx

from agentkit_app.service.access import Principal
from agentkit_app.service.accounts import (
    AccountAdmin,
    DepartmentCreate,
    DepartmentUpdate,
    clean_department_name,
    quotas_from_boxes,
    user_from_form,
)
from agentkit_app.service.errors import AccountsDisabled, ServiceError
from agentkit_app.service.runtime import get_service
from agentkit_app.store.models import DepartmentPublic
from agentkit_app.ui.states.auth import LOGIN_ROUTE, current_principal

# a Radix select item cannot have an empty value
NO_DEPARTMENT = "none"
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

    async def _admin(self) -> tuple[AccountAdmin, Principal] | None:
        """Return the account administration and the principal if this browser is a signed-in admin, else None."""
        try:
            accounts = AccountAdmin.of(get_service().access)
        except AccountsDisabled:
            return None
        principal = await current_principal(self)
        if principal is None or principal.role != "admin":
            return None
        return accounts, principal

    async def _refused(self):
        """Hide the page and send a non-admin away: to sign in if nobody is signed in, else home."""
        self.allowed = False
        self.departments, self.users = [], []
        return rx.redirect(LOGIN_ROUTE if await current_principal(self) is None else "/")

    def _fail(self, form: str, key: str) -> None:
        self.error_form, self.error = form, key

    def _clear_error(self) -> None:
        self.error_form, self.error = "", ""

    async def _reload(self, accounts: AccountAdmin, principal: Principal) -> None:
        """Read the departments with their usage, and the users."""
        departments = await accounts.list_departments()
        rows = []
        for department in departments:
            day = await accounts.usage(department.department_id, "day")
            month = await accounts.usage(department.department_id, "month")
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
            for u in await accounts.list_users()
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
            await admin[0].create_department(DepartmentCreate(name=clean_department_name(self.dept_name)))
        except ServiceError as exc:
            return self._fail("dept", exc.key or "admin_err_failed")
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
            await admin[0].set_quotas(self.quota_dept_id, quotas)
        except ServiceError as exc:
            return self._fail("quota", exc.key or "admin_err_failed")
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
        try:
            department_id = None if self.user_dept == NO_DEPARTMENT else self.user_dept
            new = user_from_form(self.user_name, self.user_password, self.user_role, department_id)
            await admin[0].create_user(new)
        except ServiceError as exc:
            return self._fail("user", exc.key or "admin_err_failed")
        self._clear_error()
        self.user_name, self.user_password = "", ""
        await self._reload(*admin)

    @rx.event
    async def toggle_user(self, user_id: str):
        """Disable an enabled user or enable a disabled one; an admin cannot disable their own account."""
        admin = await self._admin()
        if admin is None:
            return await self._refused()
        accounts, principal = admin
        if user_id == principal.user_id:
            return self._fail("users", "admin_err_self_disable")
        try:
            await accounts.toggle_user(user_id)
        except ServiceError:
            return self._fail("users", "admin_err_failed")
        self._clear_error()
        await self._reload(accounts, principal)

    @rx.event
    async def set_department_shell(self, department_id: str, enabled: bool):
        """Let a department's regular users run the shell tool, or stop them (admins always may)."""
        admin = await self._admin()
        if admin is None:
            return await self._refused()
        try:
            await admin[0].update_department(department_id, DepartmentUpdate(shell_enabled=bool(enabled)))
        except ServiceError:
            return self._fail("dept", "admin_err_unknown_dept")
        self._clear_error()
        await self._reload(*admin)
