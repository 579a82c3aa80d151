"""The composer: multi-line input, completions, attachments, model and mode pickers, send and stop."""

from __future__ import annotations

from typing import Any

import reflex as rx
from reflex.vars import ArrayVar, ObjectVar

from agentkit_app.ui.components.icon_action import icon_action
from agentkit_app.ui.i18n import tr
from agentkit_app.ui.states.chat import ChatState
from agentkit_app.ui.states.composer import MAX_FILES, UPLOAD_ID, ComposerState
from agentkit_app.ui.states.sessions import SessionsState
from agentkit_app.ui.states.turn_options import TurnOptionsState

# the browser's path when an event fires (an event's argument is evaluated then, not when the page renders)
PAGE_PATH: rx.Var[str] = rx.Var(_js_expr="window.location.pathname", _var_type=str)


def refusals(rejected: ArrayVar) -> rx.Var:
    """Turn the drop zone's refused files into ``"name|code,code"`` strings, in the browser.

    The refusals hold the File objects: sent as they are, the whole file would travel to the server.
    """

    def one(refusal: ObjectVar) -> str:
        refusal = refusal.to(ObjectVar, dict[str, dict[str, Any]])
        file = refusal["file"].to(ObjectVar, dict[str, Any])
        errors = refusal["errors"].to(ArrayVar, list[dict[str, Any]])
        return f"{file['path']}|{errors.map(lambda e: e['code']).join(',')}"

    return rejected.to(ArrayVar, list[dict[str, Any]]).map(one)


def suggestions() -> rx.Component:
    """Completions for ``@board``, ``@team``, ``@skill:`` and expert names."""
    return rx.cond(
        ComposerState.suggestions.length() > 0,
        rx.hstack(
            rx.foreach(
                ComposerState.suggestions,
                lambda s: rx.button(
                    s,
                    size="1",
                    variant="soft",
                    on_click=ComposerState.pick_suggestion(s),
                    class_name="ak-suggestion",
                ),
            ),
            wrap="wrap",
            spacing="1",
            id="suggestions",
        ),
    )


def attachment_chip(attachment: rx.Var) -> rx.Component:
    """One attached file: a thumbnail of an image, else an icon of its kind and its first lines."""
    kind = attachment["kind"]
    return rx.hstack(
        rx.cond(
            attachment["thumbnail"] != "",
            rx.image(src=attachment["thumbnail"], alt="", class_name="ak-attachment-thumb"),
            rx.match(
                kind,
                ("pdf", rx.icon("file_text", size=18)),
                ("docx", rx.icon("file_text", size=18)),
                ("xlsx", rx.icon("sheet", size=18)),
                ("csv", rx.icon("sheet", size=18)),
                ("pptx", rx.icon("presentation", size=18)),
                ("none", rx.icon("file", size=18)),
                rx.icon("file_type", size=18),
            ),
        ),
        rx.vstack(
            rx.text(attachment["filename"], size="1", weight="medium", class_name="ak-ellipsis"),
            rx.cond(
                attachment["lines"] != "",
                rx.text(attachment["lines"], size="1", color_scheme="gray", class_name="ak-attachment-lines"),
            ),
            spacing="0",
            min_width="0",
        ),
        icon_action(
            "x", tr("remove_attachment"), ComposerState.remove_attachment(attachment["stored_name"]), 12
        ),
        align="start",
        spacing="2",
        class_name="ak-attachment",
        data_kind=kind,
    )


def attachment_chips() -> rx.Component:
    """The files attached to the next message, each previewed."""
    return rx.hstack(rx.foreach(ComposerState.attachments, attachment_chip), wrap="wrap", id="attachments")


def agent_picker() -> rx.Component:
    """The agent a new conversation is bound to (the landing page's, picked before its first message)."""
    return rx.select.root(
        rx.select.trigger(id="agent_select", aria_label=tr("agent"), max_width="14em"),
        rx.select.content(rx.foreach(SessionsState.agents, lambda a: rx.select.item(a.label, value=a.name))),
        value=SessionsState.new_agent,
        on_change=SessionsState.set_new_agent,
        size="1",
    )


def composer(new_conversation: bool = False) -> rx.Component:
    """Multi-line input, model selector, attach, send and stop.

    ``new_conversation``: the landing page's, whose first message creates the conversation: it
    offers the agent to talk to and takes the focus.
    """
    return rx.vstack(
        suggestions(),
        attachment_chips(),
        rx.form(
            rx.text_area(
                value=ComposerState.draft,
                on_change=ComposerState.set_draft,
                enter_key_submit=True,
                name="draft",
                placeholder=rx.cond(ChatState.joins_run, tr("join_placeholder"), tr("composer_placeholder")),
                auto_height=True,
                rows="2",
                max_height="12em",
                width="100%",
                id="composer",
                disabled=ChatState.status != "active",
                auto_focus=new_conversation,
            ),
            on_submit=ComposerState.submit_composer,
            width="100%",
            id="composer_form",
        ),
        rx.hstack(
            rx.upload.root(
                rx.tooltip(
                    rx.icon_button(
                        rx.icon("paperclip", size=16), variant="ghost", type="button", aria_label=tr("attach")
                    ),
                    content=tr("attach"),
                ),
                id=UPLOAD_ID,
                # the page the files are dropped on, read when they are: they belong to that conversation
                on_drop=ComposerState.upload(rx.upload_files(upload_id=UPLOAD_ID), PAGE_PATH),
                on_drop_rejected=lambda rejected: ComposerState.upload_rejected(refusals(rejected)),
                max_size=ComposerState.upload_limit,
                max_files=MAX_FILES,
                no_drag=True,
                class_name="ak-upload",
            ),
            agent_picker() if new_conversation else rx.fragment(),
            rx.select(
                TurnOptionsState.models,
                value=TurnOptionsState.model,
                on_change=TurnOptionsState.set_model,
                size="1",
                id="model_select",
            ),
            rx.tooltip(
                rx.el.label(
                    rx.switch(
                        checked=TurnOptionsState.plan_exec,
                        on_change=TurnOptionsState.set_plan_exec,
                        size="1",
                        id="plan_exec_switch",
                    ),
                    rx.text(tr("plan_exec"), size="1"),
                    display="flex",
                    align_items="center",
                    gap="0.35em",
                    cursor="pointer",
                ),
                content=tr("plan_exec_hint"),
            ),
            rx.cond(
                SessionsState.demo_mode,
                rx.badge(
                    rx.icon("plug_zap", size=12), tr("demo_badge"), color_scheme="amber", id="demo_badge"
                ),
            ),
            rx.hstack(
                rx.cond(
                    ChatState.running,
                    rx.tooltip(
                        rx.button(
                            rx.icon("square", size=14),
                            tr("stop"),
                            color_scheme="red",
                            variant="soft",
                            on_click=ChatState.stop,
                            id="stop_button",
                        ),
                        content=tr("stop_hint"),
                    ),
                ),
                rx.button(
                    rx.icon("send", size=14),
                    tr("send"),
                    on_click=ComposerState.send,
                    id="send_button",
                    disabled=~ChatState.can_send,
                ),
                margin_left="auto",  # stays right when the row wraps on a phone
            ),
            align="center",
            width="100%",
            flex_wrap="wrap",
            min_width="0",
        ),
        width="100%",
        max_width="860px",
        margin_x="auto",
        padding="0.75em",
        spacing="2",
    )
