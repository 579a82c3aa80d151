"""The page frame: the header with language and theme switches, the sidebar, and the main column."""

from __future__ import annotations

import reflex as rx

from agentkit_app.ui.components.icon_action import icon_action
from agentkit_app.ui.components.page_language import page_language
from agentkit_app.ui.components.sidebar import delete_dialog, sidebar
from agentkit_app.ui.i18n import tr
from agentkit_app.ui.states.auth import AuthState
from agentkit_app.ui.states.prefs import PrefsState
from agentkit_app.ui.states.sessions import SessionsState

# The reader's time zone as the browser knows it (an expression compiled into the bundle, not eval'd).
READER_ZONE = rx.Var("Intl.DateTimeFormat().resolvedOptions().timeZone", _var_type=str)

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


def header_link(icon: str, label: str, href: str, element_id: str) -> rx.Component:
    """A link of the header: an icon, and its label (an i18n key) on wide screens."""
    return rx.link(
        rx.hstack(
            rx.icon(icon, size=14),
            rx.text(tr(label), display=["none", "none", "inline"]),
            align="center",
            spacing="1",
        ),
        href=href,
        size="2",
        underline="none",
        aria_label=tr(label),
        id=element_id,
    )


def header(menu: bool = True) -> rx.Component:
    """The top bar: menu (narrow screens; ``menu=False``: a page without the session list), name, language and theme switches."""
    return rx.hstack(
        rx.icon_button(
            rx.icon("menu"),
            variant="ghost",
            on_click=PrefsState.toggle_drawer,
            display=["flex", "flex", "none"],
            aria_label=tr("sessions_menu"),
            id="menu_button",
        )
        if menu
        else rx.fragment(),
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
                    header_link("shield", "admin", "/admin", "admin_link"),
                ),
                # on narrower screens the sidebar (a drawer there) has the link: the header has no room
                rx.box(
                    header_link("key_round", "tokens_link", "/settings/tokens", "tokens_link"),
                    display=["none", "none", "block"],
                ),
                rx.badge(
                    rx.icon("user", size=12),
                    AuthState.username,
                    variant="soft",
                    id="signed_in_user",
                    display=["none", "none", "flex"],
                ),
                icon_action("log_out", tr("sign_out"), AuthState.logout, id="sign_out"),
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
                class_name="ak-sidebar",
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
                    class_name="ak-sidebar",
                ),
            ),
            rx.box(
                *children,
                flex="1",
                min_width="0",
                height="100%",
                display="flex",
                flex_direction="column",
                class_name="ak-main",
            ),
            width="100%",
            flex="1",
            min_height="0",
            spacing="0",
        ),
        page_language(),
        delete_dialog(),  # once per page, outside both sidebars (desktop and the phone's drawer)
        height="100dvh",
        spacing="0",
        width="100%",
        class_name="ak-frame",
        on_mount=[rx.call_function(SHORTCUTS_JS), SessionsState.set_reader_zone(READER_ZONE)],
    )
