"""The team run: its phase timeline and the lead's synthesis."""

from __future__ import annotations

import reflex as rx

from agentkit_app.ui.components.board import expert_avatar, run_usage
from agentkit_app.ui.components.bubbles import ItemControls, markdown
from agentkit_app.ui.i18n import tr
from agentkit_app.ui.items import ChatItem, PhaseItem


def phase_row(phase: PhaseItem) -> rx.Component:
    """One phase: expert, status, duration, dependencies, and its result to expand."""
    color = rx.match(phase.status, ("done", "green"), ("running", "blue"), ("failed", "red"), "gray")
    return rx.box(
        rx.el.details(
            rx.el.summary(
                rx.hstack(
                    expert_avatar(phase.avatar, phase.color, "1.8em"),
                    rx.vstack(
                        rx.text(phase.name, weight="medium", size="2"),
                        rx.text(
                            phase.expert,
                            rx.cond(
                                phase.depends_on != "",
                                rx.text.span(" · ", tr("depends_on"), " ", phase.depends_on),
                            ),
                            size="1",
                            color_scheme="gray",
                        ),
                        rx.cond(
                            (phase.status == "running") & (phase.activity != ""),
                            rx.text(
                                phase.activity, size="1", color_scheme="blue", class_name="ak-phase-activity"
                            ),
                        ),
                        spacing="0",
                    ),
                    rx.spacer(),
                    rx.cond(phase.status == "running", rx.spinner(size="1")),
                    rx.badge(
                        rx.match(
                            phase.status,
                            ("done", tr("done")),
                            ("running", tr("running")),
                            ("failed", tr("failed")),
                            tr("waiting"),
                        ),
                        color_scheme=color,
                        class_name="ak-phase-status",
                    ),
                    rx.text(phase.duration, size="1", color_scheme="gray"),
                    align="center",
                    width="100%",
                ),
                # what the user said mid-run, shown on the phase that read it
                rx.foreach(
                    phase.interventions,
                    lambda text: rx.hstack(
                        rx.icon("hand", size=14),
                        rx.text(text, size="1"),
                        class_name="ak-intervention",
                        padding_left="2.4em",
                    ),
                ),
                cursor="pointer",
            ),
            rx.cond(phase.result != "", rx.box(markdown(phase.result), padding_top="0.4em")),
        ),
        border_left="3px solid",
        border_color=phase.color,
        class_name="ak-phase",
        data_status=phase.status,
        width="100%",
    )


def team_note(note: rx.Var) -> rx.Component:
    """A notice from the run: the lead fixing its plan, a resumed run, a failed synthesis."""
    return rx.hstack(
        rx.icon("info", size=14),
        rx.text(note, size="1", color_scheme="gray"),
        align="center",
        spacing="1",
        class_name="ak-team-note",
    )


def team_card(item: ChatItem) -> rx.Component:
    """The phase timeline of a team run, in plan (dependency) order."""
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.badge(tr("team_title"), color_scheme="teal"),
                rx.text(tr("lead"), ": ", item.content, size="2"),
                align="center",
            ),
            rx.foreach(item.team.notes, team_note),
            rx.vstack(rx.foreach(item.team.phases, phase_row), width="100%", spacing="2"),
            width="100%",
        ),
        width="100%",
        class_name="ak-item ak-team",
    )


def synthesis_card(item: ChatItem, controls: ItemControls | None = None) -> rx.Component:
    """The lead's synthesis: the team's final result."""
    return rx.card(
        rx.vstack(
            rx.hstack(rx.icon("sparkles"), rx.heading(tr("synthesis"), size="4"), align="center"),
            markdown(item.content),
            rx.cond(item.streaming, rx.box(rx.el.span(), rx.el.span(), rx.el.span(), class_name="ak-typing")),
            run_usage(item, controls),
            width="100%",
        ),
        width="100%",
        class_name="ak-item ak-synthesis",
        id=item.id,
    )
