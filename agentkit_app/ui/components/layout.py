"""The page frame: header with language and theme switches, the session sidebar."""

from __future__ import annotations

import reflex as rx

from agentkit_app.ui.i18n import tr
from agentkit_app.ui.states.auth import AuthState
from agentkit_app.ui.states.chat import ChatState
from agentkit_app.ui.states.prefs import PrefsState
from agentkit_app.ui.states.sessions import SearchRow, SessionRow, SessionsState

# Keyboard shortcuts on every page: Ctrl/Cmd+K searches the conversations, Esc stops an answer.
# A function compiled into the bundle (rx.call_function), not a string Reflex would eval.
SHORTCUTS_JS = """() => {
  if (window.__akKeys) return;
  window.__akKeys = true;
  document.addEventListener('keydown', (e) => {
    /* Ctrl/Cmd+K: search the conversations */
    if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'k') {
      const search = document.getElementById('search_input');
      if (search && search.offsetParent !== null) { e.preventDefault(); search.focus(); search.select(); }
      return;
    }
    /* Esc stops the answer being written (unless a dialog is open: there Esc closes the dialog) */
    if (e.key !== 'Escape' || document.querySelector('[role=alertdialog], [role=dialog]')) return;
    const stop = document.getElementById('stop_button');
    if (stop) stop.click();
  });
}"""


def header() -> rx.Component:
    """The top bar: menu (narrow screens), name, demo badge, language and theme switches."""
    return rx.hstack(
        rx.icon_button(
            rx.icon("menu"),
            variant="ghost",
            on_click=PrefsState.toggle_drawer,
            display=["flex", "flex", "none"],
            aria_label=tr("sessions_menu"),
            id="menu_button",
        ),
        rx.link(
            rx.hstack(
                rx.icon("bot", size=24, color="var(--accent-9)"),
                rx.heading("AgentKit", size="5"),
                align="center",
            ),
            href="/",
            underline="none",
        ),
        rx.text(tr("app_tagline"), size="2", color_scheme="gray", display=["none", "none", "block"]),
        rx.spacer(),
        rx.select.root(
            rx.select.trigger(id="lang_select", aria_label="Language / 语言"),
            rx.select.content(rx.select.item("English", value="en"), rx.select.item("中文", value="zh")),
            value=PrefsState.lang,
            on_change=PrefsState.set_lang,
            size="1",
        ),
        rx.color_mode.button(size="1", aria_label=tr("theme"), id="theme_button"),
        rx.cond(
            AuthState.auth_enabled & (AuthState.username != ""),
            rx.hstack(
                rx.cond(
                    AuthState.role == "admin",
                    rx.link(
                        rx.hstack(
                            rx.icon("shield", size=14),
                            rx.text(tr("admin"), display=["none", "none", "inline"]),
                            align="center",
                            spacing="1",
                        ),
                        href="/admin",
                        size="2",
                        underline="none",
                        aria_label=tr("admin"),
                        id="admin_link",
                    ),
                ),
                rx.badge(
                    rx.icon("user", size=12),
                    AuthState.username,
                    variant="soft",
                    id="signed_in_user",
                    display=["none", "none", "flex"],
                ),
                rx.tooltip(
                    rx.icon_button(
                        rx.icon("log_out", size=14),
                        variant="ghost",
                        size="1",
                        on_click=AuthState.logout,
                        aria_label=tr("sign_out"),
                        id="sign_out",
                    ),
                    content=tr("sign_out"),
                ),
                align="center",
                spacing="1",
            ),
        ),
        align="center",
        padding_x="1em",
        height="3.25em",
        border_bottom="1px solid var(--gray-a5)",
        width="100%",
        class_name="ak-header",
    )


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
                    row_action(
                        rx.cond(row.pinned, "pin_off", "pin"),
                        rx.cond(row.pinned, tr("unpin"), tr("pin")),
                        SessionsState.pin(row.session_id, ~row.pinned),
                        "ak-pin-session",
                        color_scheme=rx.cond(row.pinned, "indigo", "gray"),
                    ),
                    row_action(
                        "archive",
                        tr("close_session"),
                        SessionsState.close(row.session_id),
                        "ak-close-session",
                    ),
                ),
                rx.fragment(
                    row_action(
                        "archive_restore",
                        tr("restore"),
                        ChatState.restore(row.session_id),
                        "ak-restore-session",
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


def row_action(
    icon: str | rx.Var, label: rx.Var, on_click: rx.event.EventSpec, class_name: str, **props
) -> rx.Component:
    """A quiet icon button on a session row, named by its tooltip."""
    return rx.tooltip(
        rx.icon_button(
            rx.icon(icon, size=14),
            size="1",
            variant="ghost",
            on_click=on_click,
            aria_label=label,
            class_name=class_name,
            **props,
        ),
        content=label,
    )


def delete_button(row: SessionRow) -> rx.Component:
    """Delete an archived conversation, after asking."""
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(
            rx.icon_button(
                rx.icon("trash_2", size=14),
                size="1",
                variant="ghost",
                color_scheme="red",
                aria_label=tr("delete"),
                class_name="ak-delete-session",
            ),
        ),
        rx.alert_dialog.content(
            rx.alert_dialog.title(tr("delete_title")),
            rx.alert_dialog.description(rx.text.strong(row.title), " ", tr("delete_body"), size="2"),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button(tr("cancel"), variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(
                    rx.button(
                        tr("delete"),
                        color_scheme="red",
                        on_click=SessionsState.delete(row.session_id),
                        id="delete_confirm",
                    )
                ),
                justify="end",
                padding_top="1em",
            ),
        ),
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
    """The session list with the new-chat button and agent picker."""
    return rx.vstack(
        rx.button(
            rx.icon("plus", size=16),
            tr("new_chat"),
            on_click=SessionsState.new_chat,
            id="new_chat",
            width="100%",
        ),
        rx.select.root(
            rx.select.trigger(id="agent_select", width="100%"),
            rx.select.content(
                rx.foreach(SessionsState.agents, lambda a: rx.select.item(a.label, value=a.name))
            ),
            value=SessionsState.new_agent,
            on_change=SessionsState.set_new_agent,
            size="2",
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
        padding="0.75em",
        width="100%",
        height="100%",
        overflow_y="auto",
        overflow_x="hidden",
        spacing="2",
    )


def frame(*children: rx.Component) -> rx.Component:
    """The whole page: header, sidebar (a drawer on phones), and the main column."""
    return rx.vstack(
        header(),
        rx.hstack(
            rx.box(
                sidebar(),
                width="290px",
                min_width="290px",
                border_right="1px solid var(--gray-a5)",
                height="100%",
                display=["none", "none", "block"],
            ),
            rx.cond(
                PrefsState.drawer_open,
                rx.box(
                    rx.box(
                        sidebar(),
                        background="var(--color-panel-solid)",
                        width="85%",
                        max_width="320px",
                        height="100%",
                        on_click=rx.stop_propagation,
                    ),
                    on_click=PrefsState.close_drawer,
                    position="fixed",
                    top="3.25em",
                    left="0",
                    right="0",
                    bottom="0",
                    z_index="20",
                    background="var(--black-a6)",
                    display=["block", "block", "none"],
                ),
            ),
            rx.box(
                *children, flex="1", min_width="0", height="100%", display="flex", flex_direction="column"
            ),
            width="100%",
            flex="1",
            min_height="0",
            spacing="0",
        ),
        height="100dvh",
        spacing="0",
        width="100%",
        on_mount=rx.call_function(SHORTCUTS_JS),
    )
