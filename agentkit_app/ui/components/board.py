"""Board meeting cards: the meeting header with its jump list and expert filter, round dividers, speeches,
summaries, the conclusion.

A page that renders these cards gets the jump list and the filter with them: jumping scrolls in the
browser alone, and the filter hides and shows cards that are already there (:class:`BoardViewState`).
"""

from __future__ import annotations

import reflex as rx
from reflex.vars import FunctionStringVar

from agentkit_app.ui.components.bubbles import ItemControls, copy_button, markdown
from agentkit_app.ui.components.feedback import feedback_actions
from agentkit_app.ui.components.icon_action import icon_action
from agentkit_app.ui.components.local_time import local_time
from agentkit_app.ui.i18n import round_label, tr
from agentkit_app.ui.items import ChatItem
from agentkit_app.ui.states.board_view import BoardViewState
from agentkit_app.ui.states.run_dialogs import RunDialogsState

# Scroll a round divider or the conclusion to the top and move the keyboard focus there (a target not
# yet written, a round the meeting has not reached, is left alone). A function compiled into the bundle:
# the page's Content-Security-Policy does without eval.
JUMP_JS = "(id) => { const el = document.getElementById(id); if (el) { el.scrollIntoView({block: 'start'}); el.focus({preventScroll: true}); } }"


def jump_to(anchor: rx.Var | str) -> rx.event.EventSpec:
    """Scroll to the element ``anchor`` (a round divider, a conclusion, a meeting's header), in the browser."""
    return rx.run_script(FunctionStringVar.create(JUMP_JS).call(anchor))


def narrowed_to(board: rx.Var) -> rx.Var:
    """The expert the reader narrowed the meeting ``board`` to, or "" (all of them speak)."""
    chosen = BoardViewState.filters
    return rx.cond(chosen.contains(board), chosen[board].to(str), "")


def filtered_out(item: ChatItem) -> rx.Var:
    """Whether the reader narrowed ``item``'s meeting to another expert than the one speaking in it."""
    expert = narrowed_to(item.board)
    return (expert != "") & (expert != item.speaker.name)


def expert_avatar(avatar: rx.Var, color: rx.Var, size: str = "2.2em") -> rx.Component:
    """An expert's avatar on its colour: an emoji, or a picture shipped under ``/assets/``."""
    text = rx.Var.create(avatar).to(str)
    return rx.center(
        rx.cond(
            text.startswith("/assets/"),
            rx.image(src=text, alt="", width="100%", height="100%", border_radius="50%", object_fit="cover"),
            text,
        ),
        width=size,
        height=size,
        min_width=size,
        border_radius="50%",
        background=color,
        font_size="1.1em",
        class_name="ak-expert-avatar",
    )


def participant(p: rx.Var, board: rx.Var) -> rx.Component:
    """One expert in the participant strip, highlighted while speaking: pressed, only their speeches show."""
    speaking = RunDialogsState.board_speaker == p["name"]
    chosen = narrowed_to(board) == p["name"]
    return rx.el.button(
        expert_avatar(p["avatar"], p["color"], "1.8em"),
        rx.text(p["name"], size="1", weight=rx.cond(speaking, "bold", "regular")),
        rx.cond(speaking, rx.badge(tr("speaking"), color_scheme="green", size="1")),
        type="button",
        on_click=BoardViewState.show_only(board, p["name"]),
        aria_pressed=rx.cond(chosen, "true", "false"),
        title=tr("show_only_expert"),
        class_name=rx.cond(
            speaking, "ak-participant ak-expert-filter ak-speaking", "ak-participant ak-expert-filter"
        ),
        data_expert=p["name"],
    )


def show_all_button(board: rx.Var, **props) -> rx.Component:
    """Show every expert of the meeting again, where it is narrowed to one."""
    return rx.cond(
        narrowed_to(board) != "",
        rx.button(
            rx.icon("x", size=12),
            tr("show_all_experts"),
            size="1",
            variant="soft",
            color_scheme="gray",
            type="button",
            on_click=BoardViewState.show_all(board),
            **props,
        ),
    )


def jump_list(item: ChatItem) -> rx.Component:
    """The meeting's rounds and conclusion, each a button that scrolls to it."""
    return rx.el.nav(
        rx.text(tr("board_jump"), size="1", color_scheme="gray"),
        rx.foreach(
            item.meeting.anchors,
            lambda anchor, i: rx.button(
                round_label(i + 1),
                size="1",
                variant="outline",
                type="button",
                on_click=jump_to(anchor),
                class_name="ak-round-link",
            ),
        ),
        rx.cond(
            item.meeting.conclusion != "",
            rx.button(
                rx.icon("flag", size=12),
                tr("conclusion"),
                size="1",
                variant="outline",
                type="button",
                on_click=jump_to(item.meeting.conclusion),
                class_name="ak-jump-conclusion",
            ),
        ),
        aria_label=tr("board_jump_list"),
        class_name="ak-board-jump",
    )


def board_start_card(item: ChatItem) -> rx.Component:
    """The meeting header: topic, the participants (each a filter), and the jump list of its rounds."""
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.badge(tr("board_topic"), color_scheme="indigo"),
                rx.heading(item.content, size="4"),
                align="center",
                wrap="wrap",
            ),
            rx.hstack(
                rx.text(tr("board_filter"), size="1", color_scheme="gray"),
                rx.foreach(item.meeting.participants, lambda p: participant(p, item.board)),
                show_all_button(item.board, class_name="ak-filter-reset"),
                wrap="wrap",
                spacing="2",
                align="center",
                role="group",
                aria_label=tr("board_filter_list"),
                class_name="ak-participants",
            ),
            jump_list(item),
            spacing="2",
        ),
        width="100%",
        class_name="ak-item ak-board-start",
        id=item.id,
        tab_index=-1,
    )


def round_divider(item: ChatItem) -> rx.Component:
    """A divider that opens a round (where the jump list scrolls to), saying so when the meeting is narrowed."""
    chosen = BoardViewState.filters
    return rx.hstack(
        rx.separator(size="4"),
        rx.text(round_label(item.round), size="1", color_scheme="gray", white_space="nowrap"),
        rx.cond(
            chosen.contains(item.board),
            rx.badge(
                tr("filtered_to"), " ", chosen[item.board].to(str), size="1", class_name="ak-filter-note"
            ),
        ),
        show_all_button(item.board, class_name="ak-round-reset"),
        icon_action("list", tr("board_jump_list"), jump_to(item.board), 12, class_name="ak-to-board"),
        rx.separator(size="4"),
        align="center",
        width="100%",
        id=item.id,
        tab_index=-1,
        class_name="ak-item ak-round",
        data_board=item.board,
    )


def _rating(item: ChatItem, controls: ItemControls | None) -> rx.Component:
    """The thumbs of a card, where the reader may vote (``controls`` given)."""
    return feedback_actions(item, controls.vote) if controls is not None else rx.fragment()


def speech_card(item: ChatItem, controls: ItemControls | None = None) -> rx.Component:
    """One expert's speech, filling while it streams, with the reader's thumbs once it is stored."""
    speaker = item.speaker
    return rx.box(
        rx.hstack(
            expert_avatar(speaker.avatar, speaker.color),
            rx.vstack(
                rx.hstack(
                    rx.text(speaker.name, weight="bold", size="2"),
                    rx.badge(speaker.role, variant="soft", size="1"),
                    local_time(item.time),
                    align="center",
                ),
                markdown(item.content),
                rx.cond(
                    item.streaming, rx.box(rx.el.span(), rx.el.span(), rx.el.span(), class_name="ak-typing")
                ),
                _rating(item, controls),
                spacing="1",
                width="100%",
            ),
            align="start",
            width="100%",
        ),
        border_left=f"4px solid {speaker.color}",
        class_name=rx.cond(filtered_out(item), "ak-item ak-speech ak-filtered-out", "ak-item ak-speech"),
        id=item.id,
        data_expert=speaker.name,
    )


def summary_card(item: ChatItem, controls: ItemControls | None = None) -> rx.Component:
    """The moderator's summary that closes a round."""
    return rx.callout.root(
        rx.callout.icon(rx.icon("gavel")),
        rx.vstack(
            rx.text(tr("round_summary"), " · ", round_label(item.round), weight="bold", size="2"),
            markdown(item.content),
            _rating(item, controls),
            spacing="1",
        ),
        color_scheme="indigo",
        variant="surface",
        width="100%",
        class_name=rx.cond(filtered_out(item), "ak-item ak-summary ak-filtered-out", "ak-item ak-summary"),
        id=item.id,
    )


def point_list(points: rx.Var, color: str) -> rx.Component:
    """A bullet list of consensus or dissent points."""
    return rx.el.ul(
        rx.foreach(points, lambda p: rx.el.li(rx.text(p, size="2"))), class_name=f"ak-points ak-{color}"
    )


def run_usage(item: ChatItem, controls: ItemControls | None = None) -> rx.Component:
    """Under a conclusion or synthesis, once the run has ended: copy its answer, the thumbs, and the run's usage."""
    return rx.hstack(
        rx.cond(
            item.copy_text != "",
            copy_button(item.copy_text, tr("copy_answer"), tr("copied"), class_name="ak-copy-answer"),
        ),
        _rating(item, controls),
        rx.cond(
            item.usage != "",
            rx.text(item.usage, size="1", color_scheme="gray", class_name="ak-usage", title=tr("run_usage")),
        ),
        align="center",
        spacing="2",
    )


def conclusion_card(item: ChatItem, controls: ItemControls | None = None) -> rx.Component:
    """The meeting's conclusion: summary, decision advice, consensus and dissent."""
    return rx.card(
        rx.el.span(id=item.verdict.anchor, tab_index=-1, class_name="ak-anchor"),
        rx.vstack(
            rx.hstack(rx.icon("flag"), rx.heading(tr("conclusion"), size="4"), align="center"),
            markdown(item.content),
            rx.heading(tr("decision_advice"), size="3"),
            markdown(item.verdict.advice),
            rx.grid(
                rx.box(
                    rx.heading(tr("consensus"), size="3", color_scheme="green"),
                    point_list(item.verdict.consensus, "green"),
                ),
                rx.box(
                    rx.heading(tr("dissent"), size="3", color_scheme="orange"),
                    point_list(item.verdict.dissent, "orange"),
                ),
                columns=rx.breakpoints(initial="1", sm="2"),
                spacing="4",
                width="100%",
            ),
            run_usage(item, controls),
            spacing="2",
            width="100%",
        ),
        width="100%",
        class_name="ak-item ak-conclusion",
        id=item.id,
    )


def intervention_card(item: ChatItem) -> rx.Component:
    """A user message read by a running board or team."""
    return rx.hstack(
        rx.icon("hand", size=16),
        rx.text(tr("intervention"), ": ", weight="bold", size="2"),
        rx.text(item.content, size="2"),
        class_name="ak-item ak-intervention",
        width="100%",
    )
