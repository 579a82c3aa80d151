"""Chat bubbles and the step cards inside an assistant turn."""

from __future__ import annotations

import reflex as rx

from agentkit_app.ui.i18n import tr
from agentkit_app.ui.timeline import ChatItem, StepItem


def markdown(content: rx.Var) -> rx.Component:
    """Render markdown with highlighted, copyable code blocks."""
    return rx.markdown(
        content,
        component_map={"pre": lambda value, **props: rx.code_block(value, can_copy=True, wrap_long_lines=True, **props)},
        class_name="ak-markdown",
    )


def step_card(step: StepItem) -> rx.Component:
    """A collapsible card for one tool call (or thinking text)."""
    status_color = rx.match(step.status, ("done", "green"), ("approved", "green"), ("denied", "red"), "gray")
    return rx.box(
        rx.el.details(
            rx.el.summary(
                rx.hstack(
                    rx.icon(rx.cond(step.kind == "thinking", "brain", "wrench"), size=14),
                    rx.text(rx.cond(step.kind == "thinking", tr("thinking"), step.tool), weight="medium", size="2"),
                    rx.cond(step.kind == "tool", rx.badge(step.status, color_scheme=status_color, size="1")),
                    rx.spacer(),
                    rx.text(step.duration, size="1", color_scheme="gray"),
                    align="center",
                    width="100%",
                ),
                cursor="pointer",
            ),
            rx.vstack(
                rx.cond(
                    step.kind == "tool",
                    rx.vstack(
                        rx.text(tr("arguments"), size="1", color_scheme="gray"),
                        rx.code_block(step.arguments, language="json", wrap_long_lines=True, width="100%"),
                        width="100%",
                    ),
                ),
                rx.cond(
                    step.result != "",
                    rx.vstack(
                        rx.cond(step.kind == "tool", rx.text(tr("result"), size="1", color_scheme="gray")),
                        rx.el.pre(step.result, class_name="ak-pre"),
                        width="100%",
                    ),
                ),
                spacing="1",
                padding_top="0.4em",
                width="100%",
            ),
        ),
        class_name="ak-step",
        width="100%",
    )


def user_bubble(item: ChatItem) -> rx.Component:
    """The user's message, right-aligned, with its attachments."""
    return rx.vstack(
        rx.box(
            rx.text(item.content, white_space="pre-wrap"),
            rx.cond(
                item.attachments.length() > 0,
                rx.hstack(
                    rx.foreach(item.attachments, lambda name: rx.badge(rx.icon("paperclip", size=12), name, variant="soft")),
                    wrap="wrap",
                    padding_top="0.4em",
                ),
            ),
            class_name="ak-bubble ak-user",
        ),
        rx.text(item.time, size="1", color_scheme="gray"),
        align="end",
        spacing="1",
        width="100%",
        class_name="ak-item ak-user-item",
        id=item.id,
    )


def assistant_bubble(item: ChatItem) -> rx.Component:
    """The agent's answer: steps, streaming text with a typing indicator, usage, stopped mark."""
    return rx.vstack(
        rx.hstack(
            rx.avatar(fallback="AI", size="1", radius="full", color_scheme="indigo"),
            rx.text(item.agent, weight="medium", size="2"),
            rx.cond(item.skill != "", rx.badge(tr("skill"), ": ", item.skill, color_scheme="violet", class_name="ak-skill")),
            rx.text(item.time, size="1", color_scheme="gray"),
            align="center",
        ),
        rx.cond(item.steps.length() > 0, rx.vstack(rx.foreach(item.steps, step_card), width="100%", spacing="1")),
        rx.box(
            rx.cond(item.content != "", markdown(item.content)),
            rx.cond(item.streaming, rx.box(rx.el.span(), rx.el.span(), rx.el.span(), class_name="ak-typing")),
            rx.cond(item.cancelled, rx.badge(tr("stopped"), color_scheme="orange", class_name="ak-stopped")),
            class_name="ak-bubble ak-assistant",
        ),
        rx.cond(item.usage != "", rx.text(item.usage, size="1", color_scheme="gray", class_name="ak-usage")),
        align="start",
        spacing="1",
        width="100%",
        class_name="ak-item ak-assistant-item",
        id=item.id,
    )


def error_bubble(item: ChatItem) -> rx.Component:
    """An error shown inline, never a blank bubble."""
    return rx.callout(item.content, icon="triangle_alert", color_scheme="red", class_name="ak-item ak-error", width="100%")
