"""The shared page at ``/share/<token>``: a conversation read only, as its owner sees it, without the composer.

Items are drawn by the chat page's own item renderer, with every control that changes something off
(no votes, versions, edits or regeneration): what the owner's page shows of a board, a team run or
an answer's steps, this page shows the same way. No sidebar: a reader sees this conversation only.
"""

from __future__ import annotations

import reflex as rx

from agentkit_app.ui.components.chat import chat_item_card
from agentkit_app.ui.components.layout import header
from agentkit_app.ui.components.page_language import page_language
from agentkit_app.ui.i18n import tr
from agentkit_app.ui.items import ChatItem
from agentkit_app.ui.states.share import SharedViewState

SHARE_PAGE_ROUTE = "/share/[share_token]"
PRINT_JS = "() => window.print()"
# the tab's name follows the conversation's title (a function compiled into the bundle, no eval)
TITLE_SYNC_JS = """() => {
  const el = document.getElementById("ak_share_title_sync");
  if (!el || el.__akBound) return;
  el.__akBound = true;
  const sync = () => { document.title = el.dataset.title || "AgentKit"; };
  new MutationObserver(sync).observe(el, {attributes: true});
  sync();
}"""


def shared_item(item: ChatItem) -> rx.Component:
    """One item as the chat page draws it, with nothing to click that changes it."""
    return chat_item_card(item=item, running=True, editable=False, editing=False, regenerable=False, vote="")


def notice(key: str, element_id: str, *extra: rx.Component) -> rx.Component:
    """Why the conversation is not shown, and where to go instead."""
    return rx.center(
        rx.vstack(
            rx.callout(tr(key), icon="info", id=element_id),
            *extra,
            rx.link(tr("share_open_app"), href="/", size="2"),
            align="center",
            spacing="3",
        ),
        flex="1",
        padding="2em",
    )


def shared_conversation() -> rx.Component:
    """The banner, the title, and every item of the conversation."""
    return rx.box(
        rx.vstack(
            rx.callout(tr("share_banner"), icon="eye", size="1", width="100%", id="share_banner"),
            rx.hstack(
                rx.heading(SharedViewState.title, size="5", id="shared_title"),
                rx.badge(SharedViewState.agent, variant="soft"),
                rx.spacer(),
                rx.button(
                    rx.icon("printer", size=14),
                    tr("share_print"),
                    variant="soft",
                    size="1",
                    on_click=rx.call_function(PRINT_JS),
                    class_name="ak-no-print",
                    id="share_print",
                ),
                align="center",
                width="100%",
                wrap="wrap",
            ),
            rx.foreach(SharedViewState.items, shared_item),
            spacing="3",
            width="100%",
            max_width="860px",
            margin_x="auto",
            padding="1em",
        ),
        flex="1",
        min_height="0",
        overflow_y="auto",
        width="100%",
        id="shared_conversation",
    )


def shared() -> rx.Component:
    """The whole page: the header, then the conversation or why it cannot be shown."""
    return rx.vstack(
        header(menu=False),
        rx.match(
            SharedViewState.status,
            ("shown", shared_conversation()),
            ("missing", notice("share_missing", "share_missing")),
            (
                "sign_in",
                notice(
                    "share_sign_in",
                    "share_sign_in",
                    rx.link(
                        rx.button(tr("sign_in")), href=SharedViewState.sign_in_href, id="share_sign_in_link"
                    ),
                ),
            ),
            rx.center(rx.spinner(), rx.text(tr("share_loading"), size="2"), flex="1", gap="0.5em"),
        ),
        rx.el.div(
            id="ak_share_title_sync",
            data_title=SharedViewState.tab_title,
            display="none",
            on_mount=rx.call_function(TITLE_SYNC_JS),
        ),
        page_language(),
        height="100dvh",
        spacing="0",
        width="100%",
        class_name="ak-frame",
    )


def register(app: rx.App) -> None:
    """Add the shared page to ``app``: no sign-in check of its own (a public link needs none)."""
    app.add_page(shared, route=SHARE_PAGE_ROUTE, title="AgentKit", on_load=SharedViewState.load)
