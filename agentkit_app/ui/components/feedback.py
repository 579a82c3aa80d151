"""Thumbs up or down under an answer, speech, summary, conclusion or synthesis, and the box for a comment."""

from __future__ import annotations

import reflex as rx

from agentkit_app.store.models import FEEDBACK_COMMENT_CHARS
from agentkit_app.ui.components.icon_action import icon_action
from agentkit_app.ui.i18n import tr
from agentkit_app.ui.items import ChatItem
from agentkit_app.ui.states.feedback import FeedbackState


def _thumb(item: ChatItem, vote: rx.Var[str], rating: str, icon: str, label: str) -> rx.Component:
    """One thumb: filled in while it is the reader's vote; clicked again, it takes the vote back."""
    chosen = vote == rating
    return rx.tooltip(
        rx.icon_button(
            rx.icon(icon, size=12),
            size="1",
            variant=rx.cond(chosen, "soft", "ghost"),
            color_scheme=rx.cond(chosen, "green" if rating == "up" else "red", "gray"),
            aria_label=tr(label),
            aria_pressed=rx.cond(chosen, "true", "false"),
            on_click=FeedbackState.rate(item.id, rating),
            class_name=f"ak-thumb ak-thumb-{rating}",
        ),
        content=tr(label),
    )


def feedback_actions(item: ChatItem, vote: rx.Var[str]) -> rx.Component:
    """👍 👎 (and, once voted, a comment button) for a stored item that can be rated; nothing while it streams."""
    return rx.cond(
        item.rateable & ~item.streaming,
        rx.hstack(
            _thumb(item, vote, "up", "thumbs_up", "feedback_up"),
            _thumb(item, vote, "down", "thumbs_down", "feedback_down"),
            rx.cond(
                (vote == "up") | (vote == "down"),
                icon_action(
                    "message_square_text",
                    tr("feedback_comment"),
                    FeedbackState.open_comment(item.id),
                    icon_size=12,
                    class_name="ak-feedback-comment",
                ),
            ),
            spacing="1",
            align="center",
            class_name="ak-feedback",
        ),
    )


def feedback_dialog() -> rx.Component:
    """The box that asks what was good or wrong, opened by a thumbs-down or the comment button."""
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(tr("feedback_title")),
            rx.form(
                rx.vstack(
                    rx.text_area(
                        name="comment",
                        default_value=FeedbackState.comment_draft,
                        placeholder=tr("feedback_placeholder"),
                        max_length=FEEDBACK_COMMENT_CHARS,
                        auto_focus=True,
                        rows="4",
                        width="100%",
                        id="feedback_comment_input",
                    ),
                    rx.hstack(
                        rx.button(
                            tr("feedback_skip"),
                            type="button",
                            variant="soft",
                            color_scheme="gray",
                            on_click=FeedbackState.close_comment,
                            id="feedback_skip",
                        ),
                        rx.button(tr("feedback_send"), type="submit", id="feedback_send"),
                        justify="end",
                        width="100%",
                    ),
                    width="100%",
                ),
                on_submit=FeedbackState.save_comment,
                reset_on_submit=False,
            ),
            max_width="480px",
            id="feedback_dialog",
        ),
        open=FeedbackState.comment_for != "",
        on_open_change=FeedbackState.set_comment_open,
    )
