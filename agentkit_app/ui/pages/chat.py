"""The pages: the welcome page and one conversation at ``/chat/[session_id]``."""

from __future__ import annotations

import reflex as rx

from agentkit_app.ui.components.chat import chat_column
from agentkit_app.ui.components.layout import frame
from agentkit_app.ui.i18n import tr
from agentkit_app.ui.states.chat import ChatState
from agentkit_app.ui.states.sessions import SessionsState


@rx.page(route="/", title="AgentKit", on_load=SessionsState.load)
def index() -> rx.Component:
    """The welcome page: pick an agent and start."""
    return frame(
        rx.center(
            rx.vstack(
                rx.icon("bot", size=56, color="var(--accent-9)"),
                rx.heading(tr("welcome_title"), size="7"),
                rx.text(tr("welcome_body"), color_scheme="gray", text_align="center", max_width="34em"),
                rx.cond(SessionsState.demo_mode, rx.callout(tr("demo_notice"), icon="info", color_scheme="amber", id="demo_notice")),
                rx.button(rx.icon("plus"), tr("new_chat"), size="3", on_click=SessionsState.new_chat, id="welcome_new_chat"),
                align="center",
                spacing="4",
                padding="2em",
            ),
            flex="1",
        )
    )


@rx.page(route="/chat/[session_id]", title="AgentKit", on_load=[SessionsState.load, ChatState.load])
def chat() -> rx.Component:
    """One conversation."""
    return frame(chat_column())
