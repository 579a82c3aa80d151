"""The tokens page at ``/settings/tokens``: a signed-in user makes, sees and revokes their personal API tokens."""

from __future__ import annotations

import reflex as rx

from agentkit_app.ui.components.layout import frame
from agentkit_app.ui.components.listing import listing
from agentkit_app.ui.components.tokens import (
    OWN_COLUMNS,
    new_token_callout,
    new_token_form,
    own_token_row,
)
from agentkit_app.ui.i18n import tr
from agentkit_app.ui.states.auth import AuthState
from agentkit_app.ui.states.sessions import SessionsState
from agentkit_app.ui.states.tokens import TokensState

TOKENS_ROUTE = "/settings/tokens"


def tokens() -> rx.Component:
    """The page: what a token is for, the form, the token just made, and the user's tokens."""
    return frame(
        rx.box(
            rx.vstack(
                rx.heading(tr("tokens_title"), size="7"),
                rx.text(tr("tokens_hint"), size="2", color_scheme="gray"),
                rx.code(
                    "X-API-Key: ak_…   ·   Authorization: Bearer ak_…   ·   /api/v1/chat/ws/{id}?api_key=ak_…",
                    size="1",
                ),
                new_token_form(),
                new_token_callout(),
                rx.cond(
                    TokensState.rows.length() > 0,
                    listing(OWN_COLUMNS, TokensState.rows, own_token_row, "token_table"),
                    rx.text(tr("tokens_none"), size="2", color_scheme="gray", id="tokens_none"),
                ),
                spacing="4",
                width="100%",
                max_width="1000px",
                margin_x="auto",
                padding="1.5em",
                id="tokens_page",
            ),
            flex="1",
            overflow_y="auto",
            width="100%",
        )
    )


def register(app: rx.App) -> None:
    """Add the tokens page to ``app``."""
    app.add_page(
        tokens,
        route=TOKENS_ROUTE,
        title="AgentKit · API tokens",
        on_load=[AuthState.check, SessionsState.load, TokensState.load],
    )
