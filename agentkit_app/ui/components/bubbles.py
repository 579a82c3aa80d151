"""Chat bubbles and the step cards inside an assistant turn."""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx

from agentkit_app.ui.components.feedback import feedback_actions
from agentkit_app.ui.components.icon_action import icon_action
from agentkit_app.ui.components.local_time import local_time
from agentkit_app.ui.i18n import tr
from agentkit_app.ui.items import ChatItem, StepItem, VersionsPart
from agentkit_app.ui.states.chat import ChatState

# react-markdown's ``urlTransform``: the browser's own URL parser decides, so no spelling of a
# scheme (case, tabs, entities) slips past. Links may go to http(s) and mailto only; images load
# from this origin only, so an answer cannot make the browser call out with
# ``![](https://elsewhere/?secret)``. Anything else becomes an empty, inert attribute.
_SAFE_URL = rx.Var(
    """((url, key) => {
  if (typeof window === "undefined") return "";
  let parsed;
  try { parsed = new URL(url, window.location.href); } catch (error) { return ""; }
  if (key === "src") return parsed.origin === window.location.origin ? url : "";
  return ["http:", "https:", "mailto:"].includes(parsed.protocol) ? url : "";
})"""
)


def markdown(content: rx.Var) -> rx.Component:
    """Render model-written markdown as passive text: the app's ONE markdown renderer.

    Whatever a model writes may have been steered by a document or web page it read. So raw HTML
    is never parsed (no rehype-raw: react-markdown shows it as literal text), link and image
    targets pass :data:`_SAFE_URL`, and KaTeX keeps its default ``trust: false`` (a ``\\href``
    in math stays inert). Code blocks, tables (GFM) and math are kept. Links open in a new tab
    that gets no handle on this window and no referrer.

    The component map renders outside the state's hooks, so nothing in it may read a state Var
    (not even the UI language): its copy button has language-neutral text.
    """
    plugin = rx.markdown.plugin
    return rx.el.div(
        rx.markdown.root(
            content,
            component_map={
                "a": lambda value, **props: rx.link(
                    value, rel="noopener noreferrer", target="_blank", **props
                ),
                "pre": lambda value, **props: rx.code_block(
                    value,
                    can_copy=True,
                    copy_button=copy_button(value, "Copy code", "✓", class_name="ak-code-copy"),
                    wrap_long_lines=True,
                    **props,
                ),
            },
            remark_plugins=[plugin.math, plugin.gfm],
            rehype_plugins=[plugin.katex, plugin.unwrap_images],
            custom_attrs={"urlTransform": _SAFE_URL},
        ),
        class_name="ak-markdown",
    )


def copy_button(text: rx.Var, label: str | rx.Var, done: str | rx.Var, **props) -> rx.Component:
    """A quiet icon button that copies ``text`` and says ``done``."""
    return rx.icon_button(
        rx.icon("copy", size=13),
        variant="ghost",
        size="1",
        type="button",
        aria_label=label,
        title=label,
        on_click=[rx.set_clipboard(text), rx.toast.success(done, duration=1500)],
        **props,
    )


def step_card(step: StepItem) -> rx.Component:
    """A collapsible card for one tool call (or thinking text)."""
    status_color = rx.match(step.status, ("done", "green"), ("approved", "green"), ("denied", "red"), "gray")
    return rx.box(
        rx.el.details(
            rx.el.summary(
                rx.hstack(
                    rx.icon(rx.cond(step.kind == "thinking", "brain", "wrench"), size=14),
                    rx.text(
                        rx.cond(step.kind == "thinking", tr("thinking"), step.tool), weight="medium", size="2"
                    ),
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


@dataclass(frozen=True)
class ItemControls:
    """What an item's buttons show beyond the item itself.

    Props of the memoized item (``components.chat.chat_item``) rather than reads of the chat state,
    so that React skips the items a flush did not change.
    """

    running: rx.Var[bool]  # a run goes on: versions and edits wait
    editable: rx.Var[bool]  # the user's messages may be edited
    editing: rx.Var[bool]  # this message is the one being edited
    regenerable: rx.Var[bool]  # this is the answer that can be regenerated
    vote: rx.Var[str]  # the reader's thumbs up or down on it ("up", "down", or nothing)


def versions(part: VersionsPart, running: rx.Var[bool]) -> rx.Component:
    """‹ 2 / 3 ›: step through the versions of a message (edits or regenerations)."""
    return rx.cond(
        part.label != "",
        rx.hstack(
            rx.icon_button(
                rx.icon("chevron_left", size=14),
                variant="ghost",
                size="1",
                aria_label=tr("previous_version"),
                disabled=(part.prev == "") | running,
                on_click=ChatState.switch_alternative(part.prev),
                class_name="ak-alt-prev",
            ),  # fmt: skip
            rx.text(part.label, size="1", color_scheme="gray", class_name="ak-alt-label"),
            rx.icon_button(
                rx.icon("chevron_right", size=14),
                variant="ghost",
                size="1",
                aria_label=tr("next_version"),
                disabled=(part.next == "") | running,
                on_click=ChatState.switch_alternative(part.next),
                class_name="ak-alt-next",
            ),  # fmt: skip
            spacing="1",
            align="center",
        ),
    )


def edit_box(item: ChatItem) -> rx.Component:
    """The user's message as an editable box: Save sends it as a new branch."""
    return rx.form(
        rx.vstack(
            rx.text_area(
                name="content",
                default_value=item.content,
                auto_focus=True,
                width="100%",
                rows="3",
                id="edit_input",
            ),
            rx.hstack(
                rx.button(
                    tr("cancel"),
                    type="button",
                    variant="soft",
                    color_scheme="gray",
                    size="1",
                    on_click=ChatState.cancel_edit,
                ),
                rx.button(tr("send"), type="submit", size="1", id="edit_save"),
                justify="end",
                width="100%",
            ),
            width="100%",
            max_width="36em",
        ),
        on_submit=ChatState.save_edit,
        width="100%",
        display="flex",
        justify_content="flex-end",
    )


def user_bubble(item: ChatItem, controls: ItemControls) -> rx.Component:
    """The user's message, right-aligned, with its attachments (or the box editing it)."""
    return rx.cond(controls.editing, edit_box(item), _user_message(item, controls))


def _user_message(item: ChatItem, controls: ItemControls) -> rx.Component:
    return rx.vstack(
        rx.box(
            rx.text(item.content, white_space="pre-wrap"),
            rx.cond(
                item.attachments.length() > 0,
                rx.hstack(
                    rx.foreach(
                        item.attachments,
                        lambda name: rx.badge(rx.icon("paperclip", size=12), name, variant="soft"),
                    ),
                    wrap="wrap",
                    padding_top="0.4em",
                ),
            ),
            class_name="ak-bubble ak-user",
        ),
        rx.hstack(
            versions(item.versions, controls.running),
            rx.cond(
                controls.editable,
                icon_action(
                    "pencil", tr("edit"), ChatState.start_edit(item.id), icon_size=12, class_name="ak-edit"
                ),
            ),
            local_time(item.time),
            align="center",
            spacing="2",
        ),
        align="end",
        spacing="1",
        width="100%",
        class_name="ak-item ak-user-item",
        id=item.id,
    )


def assistant_bubble(item: ChatItem, controls: ItemControls) -> rx.Component:
    """The agent's answer: steps, streaming text with a typing indicator, usage, stopped mark."""
    answer = item.answer
    return rx.vstack(
        rx.hstack(
            rx.avatar(fallback="AI", size="1", radius="full", color_scheme="indigo"),
            rx.text(item.agent, weight="medium", size="2"),
            rx.cond(
                answer.skill != "",
                rx.badge(tr("skill"), ": ", answer.skill, color_scheme="violet", class_name="ak-skill"),
            ),
            local_time(item.time),
            align="center",
        ),
        rx.cond(
            answer.mode_phases.length() > 0,
            rx.hstack(
                rx.icon("list_checks", size=14, color="var(--gray-10)"),
                rx.foreach(
                    answer.mode_phases,
                    lambda phase: rx.badge(
                        phase,
                        variant=rx.cond(phase == answer.mode_phase, "solid", "soft"),
                        size="1",
                        class_name="ak-mode-phase",
                    ),
                ),
                spacing="1",
                align="center",
                wrap="wrap",
                class_name="ak-mode-phases",
            ),
        ),
        rx.cond(
            answer.steps.length() > 0,
            rx.vstack(rx.foreach(answer.steps, step_card), width="100%", spacing="1"),
        ),
        rx.box(
            rx.cond(item.content != "", markdown(item.content)),
            rx.cond(item.streaming, rx.box(rx.el.span(), rx.el.span(), rx.el.span(), class_name="ak-typing")),
            rx.cond(item.cancelled, rx.badge(tr("stopped"), color_scheme="orange", class_name="ak-stopped")),
            rx.cond(
                item.interrupted,
                rx.badge(tr("answer_interrupted"), color_scheme="orange", class_name="ak-interrupted"),
            ),
            class_name="ak-bubble ak-assistant",
        ),
        rx.hstack(
            versions(item.versions, controls.running),
            rx.cond(
                controls.regenerable,
                icon_action(
                    "refresh_cw", tr("regenerate"), ChatState.regenerate, icon_size=12, id="regenerate_button"
                ),
            ),
            rx.cond(
                (item.content != "") & ~item.streaming,
                copy_button(item.content, tr("copy_answer"), tr("copied"), class_name="ak-copy-answer"),
            ),
            feedback_actions(item, controls.vote),
            rx.cond(
                item.usage != "", rx.text(item.usage, size="1", color_scheme="gray", class_name="ak-usage")
            ),
            align="center",
            spacing="2",
        ),
        align="start",
        spacing="1",
        width="100%",
        class_name="ak-item ak-assistant-item",
        id=item.id,
    )


def error_bubble(item: ChatItem, controls: ItemControls) -> rx.Component:
    """An error shown inline, never a blank bubble."""
    return rx.vstack(
        rx.callout(item.content, icon="triangle_alert", color_scheme="red", width="100%"),
        rx.cond(
            controls.regenerable,
            rx.button(
                rx.icon("refresh_cw", size=12),
                tr("regenerate"),
                variant="soft",
                size="1",
                on_click=ChatState.regenerate,
                id="regenerate_button",
            ),
        ),
        class_name="ak-item ak-error",
        width="100%",
        id=item.id,
    )
