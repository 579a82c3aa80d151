"""The conversation column: its header, items, the agent's question, the confirmation dialog, and the composer."""

from __future__ import annotations

import reflex as rx

from agentkit_app.ui.components.board import (
    board_start_card,
    conclusion_card,
    intervention_card,
    round_divider,
    speech_card,
    summary_card,
)
from agentkit_app.ui.components.bubbles import ItemControls, assistant_bubble, error_bubble, user_bubble
from agentkit_app.ui.components.composer import composer
from agentkit_app.ui.components.feedback import feedback_dialog
from agentkit_app.ui.components.icon_action import icon_action
from agentkit_app.ui.components.run_dialogs import confirmation_dialog, question_card
from agentkit_app.ui.components.share import share_button, share_dialog
from agentkit_app.ui.components.team import synthesis_card, team_card
from agentkit_app.ui.i18n import round_label, tr
from agentkit_app.ui.items import ChatItem
from agentkit_app.ui.states.chat import ChatState
from agentkit_app.ui.states.feedback import FeedbackState
from agentkit_app.ui.states.run_dialogs import RunDialogsState
from agentkit_app.ui.states.sessions import SessionsState

SCROLL_ID = "conversation"
# The page scripts are functions compiled into the bundle (rx.call_function), not strings that
# Reflex would run through eval: the page's Content-Security-Policy is meant to do without eval.
TO_BOTTOM_JS = "() => { const el = document.getElementById('conversation'); el.scrollTo({top: el.scrollHeight, behavior: 'smooth'}); }"

# Follow the bottom while new text arrives, unless the user has scrolled up to read.
AUTOSCROLL_JS = """() => {
  if (window.__akScroll) return;
  window.__akScroll = true;
  let pinned = true;
  const attach = () => {
    const el = document.getElementById('conversation');
    if (!el) { setTimeout(attach, 300); return; }
    if (el.__akBound) return;
    el.__akBound = true;
    const jump = () => document.getElementById('jump_latest');
    el.addEventListener('scroll', () => {
      pinned = el.scrollHeight - el.scrollTop - el.clientHeight < 80;
      if (jump()) jump().classList.toggle('ak-show', !pinned);
    });
    // once a frame, not on every change: reading scrollHeight forces a layout each time
    let queued = false;
    const follow = () => { queued = false; if (pinned) el.scrollTop = el.scrollHeight; };
    new MutationObserver(() => { if (pinned && !queued) { queued = true; requestAnimationFrame(follow); } })
      .observe(el, {childList: true, subtree: true, characterData: true});
    el.scrollTop = el.scrollHeight;
  };
  attach();
  setInterval(attach, 1000);
}"""

# Keeps the page in step with the conversation shown: the tab's name follows the title, and a link
# to a message (``/chat/ID#MESSAGE_ID``, as search results make) scrolls to it and flashes it once
# the session is open. Driven by the data attributes of a hidden element that the state renders.
PAGE_SYNC_JS = """() => {
  const showLinked = () => {
    const id = decodeURIComponent(window.location.hash.slice(1));
    const target = id && document.getElementById(id);
    if (target) { target.scrollIntoView({block: "center"}); target.classList.add("ak-flash"); }
  };
  if (!window.__akHash) {
    window.__akHash = true;
    window.addEventListener("hashchange", () => setTimeout(showLinked, 100));
  }
  const el = document.getElementById("ak_page_sync");
  if (!el || el.__akBound) return;
  el.__akBound = true;
  let loads = null;
  const sync = () => {
    document.title = el.dataset.title || "AgentKit";
    if (el.dataset.loads !== loads) { loads = el.dataset.loads; setTimeout(showLinked, 400); }
  };
  new MutationObserver(sync).observe(el, {attributes: true});
  sync();
}"""


def page_sync() -> rx.Component:
    """A hidden element whose data attributes carry the tab title and the count of sessions opened."""
    return rx.el.div(
        id="ak_page_sync",
        data_title=ChatState.tab_title,
        data_loads=ChatState.loads,
        display="none",
        on_mount=rx.call_function(PAGE_SYNC_JS),
    )


@rx.memo
def chat_item_card(
    item: rx.Var[ChatItem],
    running: rx.Var[bool],
    editable: rx.Var[bool],
    editing: rx.Var[bool],
    regenerable: rx.Var[bool],
    vote: rx.Var[str],
) -> rx.Component:
    """Render one item by its kind: a React memo, rendered again only when one of its props changes."""
    controls = ItemControls(
        running=running, editable=editable, editing=editing, regenerable=regenerable, vote=vote
    )
    return rx.match(
        item.kind,
        ("user", user_bubble(item, controls)),
        ("error", error_bubble(item, controls)),
        ("board_start", board_start_card(item)),
        ("round", round_divider(item)),
        ("speech", speech_card(item, controls)),
        ("summary", summary_card(item, controls)),
        ("conclusion", conclusion_card(item, controls)),
        ("intervention", intervention_card(item)),
        ("team", team_card(item)),
        ("synthesis", synthesis_card(item, controls)),
        assistant_bubble(item, controls),
    )


def chat_item(item: ChatItem) -> rx.Component:
    """Render one item, with what its buttons show of the chat state as props (see :class:`ItemControls`)."""
    # only what the item shows: a run starting or ending renders again only the items it changes
    has_versions = item.versions.label != ""
    return chat_item_card(
        item=item,
        running=has_versions & ChatState.running,
        editable=(item.kind == "user") & ~ChatState.running & (ChatState.status == "active"),
        editing=ChatState.editing_id == item.id,
        regenerable=ChatState.last_answer_id == item.id,
        vote=FeedbackState.votes[item.id].to(str),
    )


def board_progress() -> rx.Component:
    """Round r of N while a board meeting runs."""
    return rx.cond(
        ChatState.running & (RunDialogsState.board_rounds > 0),
        rx.hstack(
            rx.spinner(size="1"),
            rx.text(
                tr("board_topic"),
                ": ",
                round_label(RunDialogsState.board_round, RunDialogsState.board_rounds),
                size="2",
                id="board_progress",
            ),
            rx.cond(
                RunDialogsState.board_speaker != "",
                rx.badge(RunDialogsState.board_speaker, " · ", tr("speaking"), color_scheme="green"),
            ),
            align="center",
            padding_x="1em",
            padding_y="0.3em",
            class_name="ak-board-progress",
        ),
    )


def answer_announcer() -> rx.Component:
    """A polite live region for screen readers: "writing the answer" while a run streams, then its answer once."""
    return rx.box(
        rx.cond(ChatState.running, tr("sr_answering"), ChatState.announcement),
        role="status",
        aria_live="polite",
        aria_atomic="true",
        class_name="ak-sr-only",
        id="answer_announcer",
    )


def conversation() -> rx.Component:
    """The scrolling list of items, with a jump-to-latest button while the user reads further up."""
    return rx.box(
        page_sync(),
        answer_announcer(),
        rx.box(
            rx.vstack(
                rx.foreach(ChatState.items, chat_item),
                rx.foreach(ChatState.recent, chat_item),
                rx.foreach(ChatState.turn, chat_item),
                rx.foreach(ChatState.live, chat_item),  # what a run is writing: alone in each flush
                spacing="3",
                width="100%",
                max_width="860px",
                margin_x="auto",
                padding="1em",
            ),
            id=SCROLL_ID,
            aria_busy=ChatState.running,  # the items change while a run writes: read them when it is done
            height="100%",
            overflow_y="auto",
            width="100%",
            on_mount=rx.call_function(AUTOSCROLL_JS),
        ),
        rx.button(
            rx.icon("arrow_down", size=14),
            tr("jump_latest"),
            size="1",
            variant="surface",
            radius="full",
            on_click=rx.call_function(TO_BOTTOM_JS),
            class_name="ak-jump",
            id="jump_latest",
        ),  # fmt: skip
        position="relative",
        flex="1",
        min_height="0",
        width="100%",
    )


def chat_column() -> rx.Component:
    """The whole conversation column of the chat page."""
    return rx.cond(
        ChatState.missing,
        rx.center(rx.callout(tr("session_missing"), icon="info", id="session_missing"), flex="1"),
        rx.fragment(
            rx.hstack(
                rx.cond(
                    ChatState.renaming,
                    rx.form(
                        rx.input(
                            name="title",
                            default_value=ChatState.title,
                            auto_focus=True,
                            max_length=200,
                            id="rename_input",
                            on_blur=ChatState.cancel_rename,
                            size="2",
                        ),  # fmt: skip
                        on_submit=ChatState.save_title,
                        reset_on_submit=False,
                    ),
                    rx.hstack(
                        rx.text(
                            ChatState.title,
                            weight="bold",
                            size="3",
                            class_name="ak-ellipsis",
                            id="session_title",
                        ),
                        icon_action("pencil", tr("rename"), ChatState.start_rename, id="rename_button"),
                        align="center",
                        min_width="0",
                    ),
                ),
                rx.badge(ChatState.agent, variant="soft"),
                rx.cond(
                    ChatState.status != "active",
                    rx.hstack(
                        rx.badge(tr("session_closed"), color_scheme="gray"),
                        rx.button(
                            rx.icon("archive_restore", size=14),
                            tr("restore"),
                            size="1",
                            variant="soft",
                            on_click=ChatState.restore(ChatState.session_id),
                            id="restore_button",
                        ),
                        align="center",
                    ),
                ),
                rx.spacer(),
                share_button(),
                rx.menu.root(
                    rx.menu.trigger(
                        rx.button(
                            rx.icon("download", size=14),
                            tr("export"),
                            variant="soft",
                            size="1",
                            id="export_button",
                        ),
                    ),
                    rx.menu.content(
                        rx.menu.item(tr("export_md"), on_click=ChatState.export("md"), id="export_md"),
                        rx.menu.item(tr("export_json"), on_click=ChatState.export("json"), id="export_json"),
                    ),
                ),
                padding_x="1em",
                padding_y="0.5em",
                align="center",
                border_bottom="1px solid var(--gray-a4)",
                width="100%",
            ),
            # the full notice where there is room; phones have the badge by the composer
            rx.cond(
                SessionsState.demo_mode,
                rx.callout(
                    tr("demo_notice"),
                    icon="info",
                    size="1",
                    color_scheme="amber",
                    margin="0.5em 1em 0",
                    id="demo_notice",
                    display=["none", "none", "flex"],
                ),
            ),
            board_progress(),
            conversation(),
            question_card(),
            rx.cond(
                ChatState.interrupted,
                rx.callout.root(
                    rx.callout.icon(rx.icon("circle_pause")),
                    rx.callout.text(tr("interrupted")),
                    rx.button(
                        rx.icon("play", size=14),
                        tr("resume"),
                        on_click=ChatState.resume,
                        size="1",
                        id="resume_button",
                    ),
                    color_scheme="orange",
                    max_width="860px",
                    width="calc(100% - 1.5em)",
                    margin_x="auto",
                    id="interrupted_notice",
                ),
            ),
            composer(),
            confirmation_dialog(),
            feedback_dialog(),
            share_dialog(),
        ),
    )
