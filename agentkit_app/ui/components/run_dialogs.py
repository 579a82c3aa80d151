"""What a run asks of the user, in the conversation: the confirmation of a dangerous command, and the agent's question."""

from __future__ import annotations

import reflex as rx

from agentkit_app.ui.i18n import tr
from agentkit_app.ui.states.run_dialogs import RunDialogsState


def confirmation_dialog() -> rx.Component:
    """The modal that asks the user to approve a dangerous command."""
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title(tr("confirm_title")),
            rx.alert_dialog.description(RunDialogsState.confirm_reason, size="2"),
            rx.code_block(
                RunDialogsState.confirm_command, language="bash", wrap_long_lines=True, id="confirm_command"
            ),
            rx.hstack(
                rx.icon("timer", size=14),
                rx.text(tr("expires"), size="1", color_scheme="gray"),
                rx.moment(RunDialogsState.confirm_deadline, from_now=True, interval=1000, size="1"),
                align="center",
                padding_y="0.5em",
            ),
            rx.hstack(
                rx.button(
                    tr("deny"),
                    color_scheme="red",
                    variant="soft",
                    on_click=RunDialogsState.answer_confirmation(False),
                    id="confirm_deny",
                ),
                rx.button(
                    tr("approve"),
                    color_scheme="green",
                    on_click=RunDialogsState.answer_confirmation(True),
                    id="confirm_approve",
                ),
                justify="end",
                width="100%",
            ),
            id="confirm_dialog",
        ),
        open=RunDialogsState.confirm_id != "",
    )


def question_card() -> rx.Component:
    """The agent's question with an answer field."""
    return rx.cond(
        RunDialogsState.question_id != "",
        rx.card(
            rx.vstack(
                rx.hstack(
                    rx.icon("message_circle_question"),
                    rx.text(tr("question_title"), weight="bold"),
                    align="center",
                ),
                rx.text(RunDialogsState.question, id="question_text"),
                rx.hstack(
                    rx.input(
                        value=RunDialogsState.answer_draft,
                        on_change=RunDialogsState.set_answer_draft,
                        placeholder=tr("answer_placeholder"),
                        width="100%",
                        id="answer_input",
                    ),
                    rx.button(tr("answer"), on_click=RunDialogsState.answer_question, id="answer_send"),
                    width="100%",
                ),
                width="100%",
            ),
            max_width="860px",
            margin_x="auto",
            width="calc(100% - 2em)",
            class_name="ak-question",
        ),
    )
