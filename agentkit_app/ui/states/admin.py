"""The admin page: departments with their usage and quotas, and user accounts.

It calls the service's account administration in-process, as the admin REST endpoints do, with the
same input models; every action checks again that the browser's principal is an admin (anyone else
is sent away by ``@guarded``). A refused input leaves the form as it was and names the problem in
``error`` (a key of the i18n table).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
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
from agentkit_app.ui.states.auth import AdminRequired, SignInRequired, guarded, signed_in

# a Radix select item cannot have an empty value
NO_DEPARTMENT = "none"
# the boxes of the forms, each kept as typed (or chosen) in the state var of its name
FORM_FIELDS = (
    "dept_name",
    "quota_tokens_day",
    "quota_tokens_month",
    "quota_requests_day",
    "quota_requests_month",
    "user_name",
    "user_password",
    "user_role",
    "user_dept",
)
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

    async def _admin(self) -> tuple[AccountAdmin, Principal]:
        """Return the account administration and the principal of this browser, a signed-in admin.

        Anyone else loses what the page showed and is sent away by ``@guarded``: to sign in if
        nobody is signed in, else home.
        """
        try:
            principal = await signed_in(self, admin=True)
            return AccountAdmin.of(get_service().access), principal
        except AccountsDisabled as exc:
            self._hide()
            raise AdminRequired from exc
        except (SignInRequired, AdminRequired):
            self._hide()
            raise

    def _hide(self) -> None:
        self.allowed = False
        self.departments, self.users = [], []

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
    @guarded
    async def load(self):
        """On opening the page: show it to an admin, send anyone else away."""
        admin = await self._admin()
        self.allowed = True
        self._clear_error()
        self.quota_dept_id = ""
        await self._reload(*admin)

    async def _change(
        self,
        form: str,
        change: Callable[[], Awaitable[object]],
        admin: tuple[AccountAdmin, Principal],
        refusal: str | None = None,
    ) -> bool:
        """Make ``change`` and show the lists again; say whether it was made.

        A refusal leaves everything as it was and names its problem under ``form``: ``refusal``
        when given, else the service's own key.
        """
        try:
            await change()
        except ServiceError as exc:
            self._fail(form, refusal or exc.key or "admin_err_failed")
            return False
        self._clear_error()
        await self._reload(*admin)
        return True

    @rx.event
    def set_field(self, field: str, value: str) -> None:
        """Keep what was typed or chosen in one of the forms' boxes (one of :data:`FORM_FIELDS`)."""
        if field in FORM_FIELDS:
            setattr(self, field, value)

    @rx.event
    @guarded
    async def create_department(self, form_data: dict):
        """Create a department from the form; a blank or taken name is refused and stays in the box."""
        self.dept_name = str(form_data.get("dept_name", self.dept_name))
        admin = await self._admin()

        async def create() -> None:
            await admin[0].create_department(DepartmentCreate(name=clean_department_name(self.dept_name)))

        if await self._change("dept", create, admin):
            self.dept_name = ""

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
    @guarded
    async def save_quotas(self, form_data: dict):
        """Replace the edited department's quotas; an empty box is no limit, anything but a whole number is refused."""
        for field in ("quota_tokens_day", "quota_tokens_month", "quota_requests_day", "quota_requests_month"):
            setattr(self, field, str(form_data.get(field, getattr(self, field))))
        admin = await self._admin()

        async def save() -> None:
            boxes = {
                ("tokens", "day"): self.quota_tokens_day,
                ("tokens", "month"): self.quota_tokens_month,
                ("requests", "day"): self.quota_requests_day,
                ("requests", "month"): self.quota_requests_month,
            }
            await admin[0].set_quotas(self.quota_dept_id, quotas_from_boxes(boxes))

        if await self._change("quota", save, admin):
            self.quota_dept_id = ""

    @rx.event
    @guarded
    async def create_user(self, form_data: dict):
        """Create a user from the form; a bad name, short password or taken name is refused, nothing typed is lost."""
        self.user_name = str(form_data.get("user_name", self.user_name))
        self.user_password = str(form_data.get("user_password", self.user_password))
        admin = await self._admin()
        department_id = None if self.user_dept == NO_DEPARTMENT else self.user_dept

        async def create() -> None:
            new = user_from_form(self.user_name, self.user_password, self.user_role, department_id)
            await admin[0].create_user(new)

        if await self._change("user", create, admin):
            self.user_name, self.user_password = "", ""

    @rx.event
    @guarded
    async def toggle_user(self, user_id: str):
        """Disable an enabled user or enable a disabled one; an admin cannot disable their own account."""
        admin = await self._admin()
        if user_id == admin[1].user_id:
            return self._fail("users", "admin_err_self_disable")
        await self._change("users", lambda: admin[0].toggle_user(user_id), admin, refusal="admin_err_failed")

    @rx.event
    @guarded
    async def set_department_shell(self, department_id: str, enabled: bool):
        """Let a department's regular users run the shell tool, or stop them (admins always may)."""
        admin = await self._admin()
        shell = DepartmentUpdate(shell_enabled=bool(enabled))
        await self._change(
            "dept",
            lambda: admin[0].update_department(department_id, shell),
            admin,
            refusal="admin_err_unknown_dept",
        )
