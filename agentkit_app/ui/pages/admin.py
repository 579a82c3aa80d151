"""The admin page at ``/admin``: departments and quotas, users, readers' feedback, API tokens, agents and experts (admins only)."""

from __future__ import annotations

import reflex as rx

from agentkit_app.ui.components.catalog_admin import catalog_section
from agentkit_app.ui.components.feedback_admin import feedback_section
from agentkit_app.ui.components.layout import frame
from agentkit_app.ui.components.listing import listing
from agentkit_app.ui.components.tokens import admin_tokens_section
from agentkit_app.ui.i18n import tr
from agentkit_app.ui.states.admin import ERROR_KEYS, NO_DEPARTMENT, AdminState, DepartmentRow, UserRow
from agentkit_app.ui.states.auth import AuthState
from agentkit_app.ui.states.catalog_admin import CatalogAdminState
from agentkit_app.ui.states.feedback_admin import FeedbackAdminState
from agentkit_app.ui.states.sessions import SessionsState
from agentkit_app.ui.states.tokens import TokensState

ADMIN_ROUTE = "/admin"
# the column headings of the two tables (i18n keys; "" for the column of the row's buttons)
DEPARTMENT_COLUMNS = (
    "admin_col_name",
    "admin_requests_today",
    "admin_tokens_today",
    "admin_requests_month",
    "admin_tokens_month",
    "admin_col_shell",
    "",
)
USER_COLUMNS = ("username", "admin_col_role", "admin_col_department", "admin_col_status", "")


def error_callout(form: str) -> rx.Component:
    """The refusal of ``form``'s last action, in the UI's language (shown under that form only)."""
    return rx.cond(
        (AdminState.error_form == form) & (AdminState.error != ""),
        rx.callout(
            rx.match(AdminState.error, *[(key, tr(key)) for key in ERROR_KEYS], tr("admin_err_failed")),
            icon="triangle_alert",
            color_scheme="red",
            size="1",
            width="100%",
            id="admin_error",
        ),
    )


def department_row(row: DepartmentRow) -> rx.Component:
    """One department: name, usage of today and this month against its limits, its shell switch, the quota button."""
    return rx.table.row(
        rx.table.row_header_cell(
            rx.hstack(
                rx.text(row.name, weight="medium", class_name="ak-admin-dept-name"),
                rx.cond(row.over, rx.icon("triangle_alert", size=14, color="var(--red-9)")),
                align="center",
                spacing="1",
            )
        ),
        rx.table.cell(row.day_requests, class_name="ak-admin-day-requests"),
        rx.table.cell(row.day_tokens, class_name="ak-admin-day-tokens"),
        rx.table.cell(row.month_requests, class_name="ak-admin-month-requests"),
        rx.table.cell(row.month_tokens, class_name="ak-admin-month-tokens"),
        rx.table.cell(
            rx.switch(
                checked=row.shell_enabled,
                on_change=lambda enabled: AdminState.set_department_shell(row.department_id, enabled),
                aria_label=tr("admin_col_shell"),
                size="1",
                id=f"dept_shell_{row.department_id}",
                class_name="ak-admin-dept-shell",
            )
        ),
        rx.table.cell(
            rx.button(
                rx.icon("gauge", size=14),
                tr("admin_quotas"),
                size="1",
                variant="soft",
                on_click=AdminState.edit_quotas(row.department_id),
                class_name="ak-admin-dept-quotas",
            )
        ),
        class_name="ak-admin-dept",
        data_department=row.department_id,
        align="center",
    )


def field_input(field: str, placeholder: str | rx.Var, **props) -> rx.Component:
    """A box of an admin form, kept in the state var ``field`` and submitted under that name."""
    return rx.input(
        value=getattr(AdminState, field),
        on_change=lambda value: AdminState.set_field(field, value),
        name=field,
        placeholder=placeholder,
        **props,
    )


def field_select(field: str, trigger: rx.Component, *items: rx.Component) -> rx.Component:
    """A choice of an admin form, kept in the state var ``field``."""
    return rx.select.root(
        trigger,
        rx.select.content(*items),
        value=getattr(AdminState, field),
        on_change=lambda value: AdminState.set_field(field, value),
    )


def quota_box(label: str, field: str) -> rx.Component:
    """One labelled limit box of the quota editor."""
    return rx.vstack(
        rx.text(tr(label), size="1", color_scheme="gray"),
        field_input(field, "∞", input_mode="numeric", id=field, width="9em"),
        spacing="1",
    )


def section(title: str, form: rx.Component, *rest: rx.Component) -> rx.Component:
    """A part of the page: its heading, the form that adds to it, and what it lists."""
    return rx.vstack(rx.heading(tr(title), size="5"), form, *rest, width="100%", spacing="3")


def quota_editor() -> rx.Component:
    """The four limits of the department being edited (empty = no limit)."""
    return rx.cond(
        AdminState.quota_dept_id != "",
        rx.card(
            rx.form(
                rx.vstack(
                    rx.hstack(
                        rx.text(tr("admin_quotas_of"), weight="bold"),
                        rx.text(AdminState.quota_dept_name, weight="bold", id="quota_dept_name"),
                        spacing="1",
                    ),
                    rx.text(tr("admin_quota_hint"), size="1", color_scheme="gray"),
                    rx.flex(
                        quota_box("admin_requests_per_day", "quota_requests_day"),
                        quota_box("admin_requests_per_month", "quota_requests_month"),
                        quota_box("admin_tokens_per_day", "quota_tokens_day"),
                        quota_box("admin_tokens_per_month", "quota_tokens_month"),
                        wrap="wrap",
                        spacing="3",
                    ),
                    error_callout("quota"),
                    rx.hstack(
                        rx.button(tr("save"), type="submit", id="quota_save"),
                        rx.button(
                            tr("cancel"),
                            type="button",
                            variant="soft",
                            color_scheme="gray",
                            on_click=AdminState.cancel_quotas,
                            id="quota_cancel",
                        ),
                    ),
                    spacing="3",
                    width="100%",
                ),
                on_submit=AdminState.save_quotas,
                reset_on_submit=False,
                id="quota_form",
            ),
            width="100%",
            id="quota_editor",
        ),
    )


def departments_section() -> rx.Component:
    """Create a department; the departments with their usage; the quota editor."""
    return section(
        "admin_departments",
        rx.form(
            rx.hstack(
                field_input(
                    "dept_name", tr("admin_dept_name"), max_length=100, id="dept_name_input", width="18em"
                ),
                rx.button(rx.icon("plus", size=14), tr("admin_dept_create"), type="submit", id="dept_create"),
                align="center",
            ),
            on_submit=AdminState.create_department,
            reset_on_submit=False,
            id="dept_form",
        ),
        error_callout("dept"),
        rx.cond(
            AdminState.departments.length() > 0,
            rx.vstack(
                listing(DEPARTMENT_COLUMNS, AdminState.departments, department_row, "dept_table"),
                rx.text(tr("admin_usage_hint"), size="1", color_scheme="gray"),
                rx.text(tr("admin_shell_hint"), size="1", color_scheme="gray"),
                width="100%",
                spacing="1",
            ),
            rx.text(tr("admin_no_departments"), size="2", color_scheme="gray"),
        ),
        quota_editor(),
    )


def user_row(row: UserRow) -> rx.Component:
    """One user: name, role, department, status, and disable/enable (not for yourself)."""
    return rx.table.row(
        rx.table.row_header_cell(rx.text(row.username, weight="medium", class_name="ak-admin-user-name")),
        rx.table.cell(
            rx.cond(row.role == "admin", tr("admin_role_admin"), tr("admin_role_user")),
            class_name="ak-admin-user-role",
        ),
        rx.table.cell(row.department, class_name="ak-admin-user-dept"),
        rx.table.cell(
            rx.cond(
                row.disabled,
                rx.badge(tr("admin_disabled"), color_scheme="red", size="1"),
                rx.badge(tr("admin_active"), color_scheme="green", size="1"),
            ),
            class_name="ak-admin-user-status",
        ),
        rx.table.cell(
            rx.cond(
                row.is_me,
                rx.text(tr("admin_you"), size="1", color_scheme="gray"),
                rx.button(
                    rx.cond(row.disabled, tr("admin_enable"), tr("admin_disable")),
                    size="1",
                    variant="soft",
                    color_scheme=rx.cond(row.disabled, "green", "red"),
                    on_click=AdminState.toggle_user(row.user_id),
                    class_name="ak-admin-user-toggle",
                ),
            )
        ),
        class_name="ak-admin-user",
        data_user=row.user_id,
        data_disabled=rx.cond(row.disabled, "true", "false"),
        align="center",
    )


def users_section() -> rx.Component:
    """Create a user; the users, each with disable/enable."""
    return section(
        "admin_users",
        rx.form(
            rx.flex(
                field_input(
                    "user_name",
                    tr("username"),
                    max_length=64,
                    auto_complete="off",
                    id="user_name_input",
                    width="14em",
                ),
                field_input(
                    "user_password",
                    tr("admin_password_hint"),
                    type="password",
                    auto_complete="new-password",
                    id="user_password_input",
                    width="16em",
                ),
                field_select(
                    "user_role",
                    rx.select.trigger(id="user_role_select", aria_label=tr("admin_col_role")),
                    rx.select.item(tr("admin_role_user"), value="user"),
                    rx.select.item(tr("admin_role_admin"), value="admin"),
                ),
                field_select(
                    "user_dept",
                    rx.select.trigger(
                        id="user_dept_select", aria_label=tr("admin_col_department"), min_width="10em"
                    ),
                    rx.select.item(tr("admin_no_department"), value=NO_DEPARTMENT),
                    rx.foreach(
                        AdminState.departments, lambda d: rx.select.item(d.name, value=d.department_id)
                    ),
                ),
                rx.button(
                    rx.icon("user_plus", size=14), tr("admin_user_create"), type="submit", id="user_create"
                ),
                wrap="wrap",
                spacing="2",
                align="center",
            ),
            on_submit=AdminState.create_user,
            reset_on_submit=False,
            id="user_form",
        ),
        error_callout("user"),
        error_callout("users"),
        rx.cond(
            AdminState.users.length() > 0,
            listing(USER_COLUMNS, AdminState.users, user_row, "user_table"),
            rx.text(tr("admin_no_users"), size="2", color_scheme="gray"),
        ),
    )


def admin() -> rx.Component:
    """The admin page; anyone but a signed-in admin is sent away before it shows."""
    return frame(
        rx.box(
            rx.cond(
                AdminState.allowed,
                rx.vstack(
                    rx.heading(tr("admin_title"), size="7"),
                    departments_section(),
                    rx.separator(size="4"),
                    users_section(),
                    rx.separator(size="4"),
                    feedback_section(),
                    rx.separator(size="4"),
                    admin_tokens_section(),
                    rx.separator(size="4"),
                    catalog_section(),
                    spacing="5",
                    width="100%",
                    max_width="1000px",
                    margin_x="auto",
                    padding="1.5em",
                    id="admin_page",
                ),
                rx.center(rx.spinner(size="3"), padding="3em"),
            ),
            flex="1",
            overflow_y="auto",
            width="100%",
        )
    )


def register(app: rx.App) -> None:
    """Add the admin page to ``app``."""
    app.add_page(
        admin,
        route=ADMIN_ROUTE,
        title="AgentKit · Admin",
        on_load=[
            AuthState.check,
            SessionsState.load,
            AdminState.load,
            FeedbackAdminState.load,
            TokensState.load_all,
            CatalogAdminState.load,
        ],
    )
