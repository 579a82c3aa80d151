"""The admin page's Feedback section: readers' votes newest first, with filters by agent, expert and rating."""

from __future__ import annotations

import reflex as rx

from agentkit_app.ui.i18n import tr
from agentkit_app.ui.states.feedback_admin import ANY, FeedbackAdminState, FeedbackRow, TallyRow

COLUMNS = (
    "feedback_col_when",
    "feedback_col_rating",
    "feedback_col_source",
    "feedback_col_message",
    "feedback_col_comment",
    "username",
)


def _filter(name: str, everything: str, options: rx.Var, width: str = "12em") -> rx.Component:
    """A choice of one filter; ``everything`` (an i18n key) names the choice that filters nothing."""
    return rx.select.root(
        rx.select.trigger(width=width, id=f"feedback_filter_{name}"),
        rx.select.content(
            rx.select.item(tr(everything), value=ANY),
            rx.foreach(options, lambda option: rx.select.item(option.name, value=option.name)),
        ),
        value=getattr(FeedbackAdminState, name),
        on_change=lambda value: FeedbackAdminState.set_filter(name, value),
    )


def _rating_filter() -> rx.Component:
    return rx.select.root(
        rx.select.trigger(width="9em", id="feedback_filter_rating"),
        rx.select.content(
            rx.select.item(tr("feedback_all_ratings"), value=ANY),
            rx.select.item("👍", value="up"),
            rx.select.item("👎", value="down"),
        ),
        value=FeedbackAdminState.rating,
        on_change=lambda value: FeedbackAdminState.set_filter("rating", value),
    )


def _tally(name: str, row: TallyRow) -> rx.Component:
    """An agent or expert with its thumbs up and down; a click shows only its votes."""
    return rx.badge(
        row.name,
        rx.text.span(" 👍 ", row.up),
        rx.text.span(" 👎 ", row.down),
        variant=rx.cond(getattr(FeedbackAdminState, name) == row.name, "solid", "soft"),
        color_scheme="indigo" if name == "agent" else "violet",
        on_click=FeedbackAdminState.set_filter(name, row.name),
        cursor="pointer",
        class_name=f"ak-feedback-tally ak-feedback-tally-{name}",
    )


def feedback_row(row: FeedbackRow) -> rx.Component:
    """One vote: when, the thumb, who wrote the message, its start (a link to it), the comment, the reader."""
    return rx.table.row(
        rx.table.cell(rx.text(row.when, size="1", white_space="nowrap")),
        rx.table.cell(
            rx.cond(
                row.rating == "up",
                rx.badge(rx.icon("thumbs_up", size=12), color_scheme="green"),
                rx.badge(rx.icon("thumbs_down", size=12), color_scheme="red"),
            )
        ),
        rx.table.cell(rx.text(row.source, size="2", weight="medium"), class_name="ak-feedback-source"),
        rx.table.cell(
            rx.link(row.excerpt, href="/chat/" + row.session_id + "#" + row.message_id, size="2"),
            max_width="22em",
        ),
        rx.table.cell(rx.text(row.comment, size="2", white_space="pre-wrap"), class_name="ak-feedback-text"),
        rx.table.cell(rx.text(row.username, size="2")),
        class_name="ak-admin-feedback",
        data_rating=row.rating,
        data_message=row.message_id,
    )


def feedback_section() -> rx.Component:
    """Readers' votes, newest first, filtered by agent, expert and rating, with older ones a click away."""
    return rx.vstack(
        rx.heading(tr("admin_feedback"), size="5"),
        rx.hstack(
            _filter("agent", "feedback_all_agents", FeedbackAdminState.agents),
            _filter("expert", "feedback_all_experts", FeedbackAdminState.experts),
            _rating_filter(),
            wrap="wrap",
            spacing="2",
        ),
        rx.hstack(
            rx.foreach(FeedbackAdminState.agents, lambda row: _tally("agent", row)),
            rx.foreach(FeedbackAdminState.experts, lambda row: _tally("expert", row)),
            wrap="wrap",
            spacing="1",
            id="feedback_tally",
        ),
        rx.cond(
            FeedbackAdminState.rows.length() > 0,
            rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(tr(c)) for c in COLUMNS])),
                rx.table.body(rx.foreach(FeedbackAdminState.rows, feedback_row)),
                size="1",
                width="100%",
                id="feedback_table",
            ),
            rx.text(tr("feedback_none"), size="2", color_scheme="gray", id="feedback_none"),
        ),
        rx.cond(
            FeedbackAdminState.more,
            rx.button(
                tr("feedback_older"),
                variant="soft",
                size="1",
                on_click=FeedbackAdminState.older,
                id="feedback_older",
            ),
        ),
        width="100%",
        spacing="3",
        id="feedback_section",
    )
