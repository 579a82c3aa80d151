"""The sidebar: new chat, the agent picker, search, and the session list by date (archived ones folded)."""

from __future__ import annotations

import reflex as rx

from agentkit_app.ui.components.icon_action import icon_action
from agentkit_app.ui.i18n import tr
from agentkit_app.ui.states.auth import AuthState
from agentkit_app.ui.states.chat import ChatState
from agentkit_app.ui.states.prefs import PrefsState
from agentkit_app.ui.states.sessions import SearchRow, SessionRow, SessionsState

GROUP_KEYS = ("group_pinned", "group_today", "group_yesterday", "group_week", "group_older")


def session_link(row: SessionRow) -> rx.Component:
    """One session in the list (title, agent, time, badges, close), under its group's heading if it starts one.

    Archived sessions come last, folded under a heading that unfolds them.
    """
    return rx.fragment(
        rx.match(
            row.group,
            ("", rx.fragment()),
            ("group_archived", archived_heading()),
            rx.text(
                rx.match(row.group, *[(key, tr(key)) for key in GROUP_KEYS], ""),
                size="1",
                color_scheme="gray",
                weight="bold",
                class_name="ak-group",
            ),
        ),
        rx.cond((row.status != "closed") | SessionsState.show_archived, _session_row(row)),
    )


def archived_heading() -> rx.Component:
    """The fold of the archived sessions: "› Archived (3)"."""
    return rx.button(
        rx.icon(rx.cond(SessionsState.show_archived, "chevron_down", "chevron_right"), size=14),
        tr("group_archived"),
        rx.text.span("(", SessionsState.archived_count, ")"),
        variant="ghost",
        color_scheme="gray",
        size="1",
        on_click=SessionsState.toggle_archived,
        class_name="ak-group ak-archived-toggle",
        id="archived_toggle",
    )


def _session_row(row: SessionRow) -> rx.Component:
    return rx.hstack(
        rx.link(
            rx.vstack(
                rx.text(row.title, size="2", weight="medium", class_name="ak-ellipsis"),
                rx.hstack(
                    rx.text(row.agent, size="1", color_scheme="gray"),
                    rx.text(row.time, size="1", color_scheme="gray"),
                    rx.match(
                        row.kind,
                        (
                            "board",
                            rx.badge(
                                tr("badge_board"),
                                color_scheme="indigo",
                                size="1",
                                class_name="ak-badge-board",
                            ),
                        ),
                        (
                            "team",
                            rx.badge(
                                tr("badge_team"), color_scheme="teal", size="1", class_name="ak-badge-team"
                            ),
                        ),
                        rx.fragment(),
                    ),
                    rx.cond(row.status == "closed", rx.badge(tr("closed"), color_scheme="gray", size="1")),
                    rx.cond(
                        row.busy, rx.tooltip(rx.spinner(size="1", class_name="ak-busy"), content=tr("busy"))
                    ),
                    spacing="2",
                    align="center",
                ),
                spacing="0",
                width="100%",
            ),
            href="/chat/" + row.session_id,
            underline="none",
            color="inherit",
            on_click=PrefsState.close_drawer,
            width="100%",
            min_width="0",
        ),
        rx.hstack(
            rx.cond(
                row.status == "active",
                rx.fragment(
                    icon_action(
                        rx.cond(row.pinned, "pin_off", "pin"),
                        rx.cond(row.pinned, tr("unpin"), tr("pin")),
                        SessionsState.pin(row.session_id, ~row.pinned),
                        class_name="ak-pin-session",
                        color_scheme=rx.cond(row.pinned, "indigo", "gray"),
                    ),
                    icon_action(
                        "archive",
                        tr("close_session"),
                        SessionsState.close(row.session_id),
                        class_name="ak-close-session",
                    ),
                ),
                rx.fragment(
                    icon_action(
                        "archive_restore",
                        tr("restore"),
                        ChatState.restore(row.session_id),
                        class_name="ak-restore-session",
                    ),
                    delete_button(row),
                ),
            ),
            spacing="1",
            class_name="ak-session-actions",
        ),
        class_name="ak-session",
        data_session=row.session_id,
        align="center",
        width="100%",
    )


def delete_button(row: SessionRow) -> rx.Component:
    """The trash button of an archived conversation: opens the one deletion dialog for it."""
    return rx.icon_button(
        rx.icon("trash_2", size=14),
        size="1",
        variant="ghost",
        color_scheme="red",
        aria_label=tr("delete"),
        class_name="ak-delete-session",
        on_click=SessionsState.ask_delete(row.session_id, row.title),
    )


def delete_dialog() -> rx.Component:
    """Asks before deleting an archived conversation for good; lives outside the list, which may refresh meanwhile."""
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title(tr("delete_title")),
            rx.alert_dialog.description(
                rx.text.strong(SessionsState.deleting_title), " ", tr("delete_body"), size="2"
            ),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button(tr("cancel"), variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(
                    rx.button(
                        tr("delete"), color_scheme="red", on_click=SessionsState.delete, id="delete_confirm"
                    )
                ),
                justify="end",
                padding_top="1em",
            ),
        ),
        open=SessionsState.deleting_id != "",
        on_open_change=SessionsState.set_deleting_open,
    )


def search_hit(hit: SearchRow) -> rx.Component:
    """One search result: the session's title and the matching text, linking to the message."""
    return rx.link(
        rx.vstack(
            rx.text(hit.title, size="2", weight="medium", class_name="ak-ellipsis"),
            rx.text(hit.snippet, size="1", color_scheme="gray", class_name="ak-snippet"),
            spacing="0",
            width="100%",
        ),
        href="/chat/" + hit.session_id + "#" + hit.message_id,
        underline="none",
        color="inherit",
        on_click=PrefsState.close_drawer,
        class_name="ak-search-hit",
        width="100%",
    )


def search_results() -> rx.Component:
    """The hits of the search box, or why there are none."""
    return rx.vstack(
        rx.cond(
            SessionsState.search_error != "",
            rx.text(SessionsState.search_error, size="1", color_scheme="red"),
        ),
        rx.cond(
            SessionsState.hits.length() > 0,
            rx.foreach(SessionsState.hits, search_hit),
            rx.cond(
                SessionsState.search_error == "", rx.text(tr("search_none"), size="2", color_scheme="gray")
            ),
        ),
        width="100%",
        spacing="1",
        id="search_results",
    )


def sidebar() -> rx.Component:
    """The session list with the new-chat button and the search box."""
    return rx.vstack(
        rx.button(
            rx.icon("plus", size=16),
            tr("new_chat"),
            on_click=rx.redirect("/"),
            id="new_chat",
            width="100%",
        ),
        rx.input(
            rx.input.slot(rx.icon("search", size=14)),
            placeholder=tr("search"),
            value=SessionsState.query,
            on_change=SessionsState.search.debounce(300),
            type="search",
            width="100%",
            id="search_input",
        ),
        rx.cond(
            SessionsState.query != "",
            search_results(),
            rx.fragment(
                rx.cond(
                    SessionsState.sessions.length() > 0,
                    rx.vstack(
                        rx.foreach(SessionsState.sessions, session_link),
                        rx.cond(
                            SessionsState.more,
                            rx.button(
                                tr("show_more"),
                                variant="soft",
                                color_scheme="gray",
                                size="1",
                                width="100%",
                                on_click=SessionsState.show_more,
                                id="show_more",
                            ),
                        ),
                        width="100%",
                        spacing="1",
                        id="session_list",
                    ),
                    rx.text(tr("no_sessions"), size="2", color_scheme="gray"),
                ),
            ),
        ),
        # where the header has no room for it (phones, tablets): the way to the API tokens page
        rx.cond(
            AuthState.auth_enabled & (AuthState.username != ""),
            rx.link(
                rx.hstack(rx.icon("key_round", size=14), tr("tokens_link"), align="center", spacing="1"),
                href="/settings/tokens",
                size="2",
                underline="none",
                on_click=PrefsState.close_drawer,
                display=["flex", "flex", "none"],
                padding_top="0.5em",
                id="tokens_link_drawer",
            ),
        ),
        padding="0.75em",
        width="100%",
        height="100%",
        overflow_y="auto",
        overflow_x="hidden",
        spacing="2",
    )
