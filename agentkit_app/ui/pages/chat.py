"""The pages: the welcome page and one conversation at ``/chat/[session_id]``."""

from __future__ import annotations

import reflex as rx

from agentkit_app.ui.components.chat import chat_column
from agentkit_app.ui.components.composer import composer
from agentkit_app.ui.components.layout import frame
from agentkit_app.ui.i18n import tr
from agentkit_app.ui.states.auth import LOGIN_ROUTE, AuthState
from agentkit_app.ui.states.chat import ChatState
from agentkit_app.ui.states.composer import ComposerState
from agentkit_app.ui.states.sessions import SessionsState


def login() -> rx.Component:
    """The sign-in page (only when accounts are on)."""
    return rx.center(
        rx.card(
            rx.form(
                rx.vstack(
                    rx.hstack(
                        rx.icon("bot", size=28, color="var(--accent-9)"),
                        rx.heading("AgentKit", size="6"),
                        align="center",
                    ),
                    rx.text(tr("sign_in_body"), color_scheme="gray", size="2"),
                    rx.input(
                        name="username",
                        placeholder=tr("username"),
                        auto_focus=True,
                        width="100%",
                        id="login_username",
                    ),
                    rx.input(
                        name="password",
                        type="password",
                        placeholder=tr("password"),
                        width="100%",
                        id="login_password",
                    ),
                    rx.cond(
                        AuthState.login_error != "",
                        rx.callout(
                            rx.cond(
                                AuthState.login_error == "login_missing",
                                tr("login_missing"),
                                tr("login_failed"),
                            ),
                            icon="triangle_alert",
                            color_scheme="red",
                            size="1",
                            width="100%",
                            id="login_error",
                        ),
                    ),
                    rx.button(tr("sign_in"), type="submit", width="100%", id="login_submit"),
                    spacing="3",
                    width="100%",
                ),
                on_submit=AuthState.login,
                reset_on_submit=False,
            ),
            width="min(22em, 92vw)",
            size="3",
        ),
        height="100dvh",
    )


def index() -> rx.Component:
    """The landing page: a new conversation, ready to type into; its first message creates it."""
    return frame(
        rx.center(
            rx.vstack(
                rx.icon("bot", size=48, color="var(--accent-9)"),
                rx.heading(tr("welcome_title"), size="7", text_align="center"),
                rx.text(tr("welcome_body"), color_scheme="gray", text_align="center", max_width="34em"),
                rx.cond(
                    SessionsState.demo_mode,
                    rx.callout(tr("demo_notice"), icon="info", color_scheme="amber", id="demo_notice"),
                ),
                rx.card(
                    composer(new_conversation=True), width="100%", max_width="760px", id="landing_composer"
                ),
                rx.text(tr("starters"), size="2", color_scheme="gray", padding_top="0.5em"),
                rx.grid(
                    *[starter(icon, name) for icon, name in STARTERS],
                    columns=rx.breakpoints(initial="1", sm="2"),
                    spacing="3",
                    width="100%",
                    max_width="640px",
                ),
                align="center",
                spacing="4",
                padding="2em",
                width="100%",
            ),
            flex="1",
            overflow_y="auto",
        )
    )


# what a new user can try at once (each works on the offline demo model too)
STARTERS = (("calculator", "tool"), ("square_terminal", "shell"), ("users", "board"), ("list_checks", "team"))


def starter(icon: str, name: str) -> rx.Component:
    """A card that begins the new conversation with an example message (a button: the keyboard reaches it)."""
    return rx.card(
        rx.el.button(
            rx.hstack(
                rx.icon(icon, size=18, color="var(--accent-9)"),
                rx.vstack(
                    rx.text(tr(f"starter_{name}_title"), size="2", weight="medium"),
                    rx.text(tr(f"starter_{name}"), size="1", color_scheme="gray"),
                    spacing="0",
                    align="start",
                ),
                align="center",
            ),
            type="button",
            on_click=ComposerState.start_with(tr(f"starter_{name}")),
            class_name="ak-starter",
            id=f"starter_{name}",
        ),
        as_child=True,
    )


def chat() -> rx.Component:
    """One conversation."""
    return frame(chat_column())


def register(app: rx.App) -> None:
    """Add the sign-in, welcome and conversation pages to ``app`` (once: a decorator's pages are added on every compile)."""
    app.add_page(login, route=LOGIN_ROUTE, title="AgentKit · Sign in", on_load=AuthState.open_login)
    app.add_page(
        index, route="/", title="AgentKit", on_load=[AuthState.check, SessionsState.load, ComposerState.load]
    )
    app.add_page(
        chat,
        route="/chat/[session_id]",
        title="AgentKit",
        on_load=[AuthState.check, SessionsState.load, ChatState.load, ComposerState.load],
    )
