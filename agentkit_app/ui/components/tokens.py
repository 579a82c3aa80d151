"""Personal API tokens on screen: the tokens page's form, the token just made, and a table row of a token."""

from __future__ import annotations

import reflex as rx

from agentkit_app.ui.components.listing import listing
from agentkit_app.ui.i18n import tr
from agentkit_app.ui.states.tokens import EXPIRY_CHOICES, TokenRow, TokensState

# the column headings of the user's own table and of the admin's (i18n keys; "" for the buttons' column)
OWN_COLUMNS = (
    "tokens_col_name",
    "tokens_col_prefix",
    "tokens_col_created",
    "tokens_col_last_used",
    "tokens_col_expires",
    "",
)
ALL_COLUMNS = ("username", *OWN_COLUMNS)


def _moment(text: rx.Var, blank: str) -> rx.Component:
    """A time as the server wrote it (UTC), or ``blank`` (an i18n key) when there is none."""
    return rx.text(rx.cond(text != "", text, tr(blank)), size="1", white_space="nowrap")


def _cells(row: TokenRow) -> list[rx.Component]:
    return [
        rx.table.cell(rx.text(row.name, size="2", weight="medium"), class_name="ak-token-name"),
        rx.table.cell(rx.code(row.prefix, "…", size="1"), class_name="ak-token-prefix"),
        rx.table.cell(_moment(row.created, "tokens_never")),
        rx.table.cell(_moment(row.last_used, "tokens_never_used"), class_name="ak-token-last-used"),
        rx.table.cell(
            rx.cond(
                row.expired,
                rx.badge(tr("tokens_expired"), color_scheme="red", size="1"),
                _moment(row.expires, "tokens_never"),
            )
        ),
    ]


def own_token_row(row: TokenRow) -> rx.Component:
    """One of the user's tokens: name, how it starts, when made, last used and expiring; revoke."""
    return rx.table.row(
        *_cells(row),
        rx.table.cell(_revoke(TokensState.revoke(row.token_id))),
        class_name="ak-token",
        data_token=row.token_id,
    )


def any_token_row(row: TokenRow) -> rx.Component:
    """A token of any user, for the admin: its owner first."""
    return rx.table.row(
        rx.table.cell(rx.text(row.username, size="2"), class_name="ak-token-user"),
        *_cells(row),
        rx.table.cell(_revoke(TokensState.revoke_any(row.token_id))),
        class_name="ak-token ak-admin-token",
        data_token=row.token_id,
    )


def _revoke(action: rx.event.EventSpec) -> rx.Component:
    return rx.button(
        rx.icon("ban", size=12),
        tr("tokens_revoke"),
        size="1",
        variant="soft",
        color_scheme="red",
        on_click=action,
        class_name="ak-token-revoke",
    )


def new_token_form() -> rx.Component:
    """The name and expiry of a new token, and the button that makes it."""
    return rx.form(
        rx.hstack(
            rx.input(
                value=TokensState.name,
                on_change=TokensState.set_name,
                name="token_name",
                placeholder=tr("tokens_name"),
                max_length=100,
                id="token_name_input",
                width="18em",
            ),
            rx.select.root(
                rx.select.trigger(id="token_expiry_select", aria_label=tr("tokens_col_expires")),
                rx.select.content(
                    *[
                        rx.select.item(
                            tr("tokens_never") if c == "never" else tr(f"tokens_days_{c}"), value=c
                        )
                        for c in EXPIRY_CHOICES
                    ]
                ),
                value=TokensState.expiry,
                on_change=TokensState.set_expiry,
            ),
            rx.button(rx.icon("key_round", size=14), tr("tokens_create"), type="submit", id="token_create"),
            align="center",
            wrap="wrap",
        ),
        rx.cond(
            TokensState.error != "",
            rx.callout(
                tr("tokens_err_name"), icon="triangle_alert", color_scheme="red", size="1", id="token_error"
            ),
        ),
        on_submit=TokensState.create,
        width="100%",
    )


def new_token_callout() -> rx.Component:
    """The token just made, to copy now: it is not stored and will not be shown again."""
    return rx.cond(
        TokensState.new_token != "",
        rx.callout.root(
            rx.callout.icon(rx.icon("key_round")),
            rx.vstack(
                rx.text(tr("tokens_once"), weight="bold", size="2"),
                rx.hstack(
                    rx.code(TokensState.new_token, id="new_token", size="2", word_break="break-all"),
                    rx.button(
                        rx.icon("copy", size=14),
                        tr("copy"),
                        size="1",
                        on_click=[
                            rx.set_clipboard(TokensState.new_token),
                            rx.toast.success(tr("copied"), duration=1500),
                        ],
                        id="token_copy",
                    ),
                    rx.button(
                        tr("tokens_done"),
                        size="1",
                        variant="soft",
                        on_click=TokensState.dismiss,
                        id="token_done",
                    ),
                    align="center",
                    wrap="wrap",
                ),
                spacing="2",
            ),
            color_scheme="green",
            width="100%",
            id="new_token_callout",
        ),
    )


def admin_tokens_section() -> rx.Component:
    """The admin page's section: every user's tokens, each revocable."""
    return rx.vstack(
        rx.heading(tr("tokens_admin_title"), size="5"),
        rx.text(tr("tokens_admin_hint"), size="1", color_scheme="gray"),
        rx.cond(
            TokensState.all_rows.length() > 0,
            listing(ALL_COLUMNS, TokensState.all_rows, any_token_row, "admin_token_table"),
            rx.text(tr("tokens_none"), size="2", color_scheme="gray"),
        ),
        width="100%",
        spacing="3",
    )
