"""The chat page's share button and dialog: make a read-only link, copy it, see the live ones, revoke them."""

from __future__ import annotations

import reflex as rx

from agentkit_app.ui.components.bubbles import copy_button
from agentkit_app.ui.components.icon_action import icon_action
from agentkit_app.ui.i18n import tr
from agentkit_app.ui.states.share import ShareLink, ShareState

# the browser writes the date and time where the reader is (compiled into the bundle, no eval)
_LOCAL_MOMENT = rx.vars.function.FunctionStringVar.create(
    "((iso) => { const d = new Date(iso); return !iso || isNaN(d) ? '' : d.toLocaleString(); })"
)


def share_button() -> rx.Component:
    """The header's Share button: opens the dialog (which reads the links only then)."""
    return rx.button(
        rx.icon("share_2", size=14),
        tr("share"),
        variant="soft",
        size="1",
        on_click=ShareState.open_dialog,
        id="share_button",
    )


def visibility_badge(visibility: rx.Var[str]) -> rx.Component:
    """Who may open a link: signed-in readers, or anyone."""
    return rx.badge(
        rx.cond(visibility == "public", tr("share_public"), tr("share_signed_in")),
        color_scheme=rx.cond(visibility == "public", "orange", "indigo"),
        variant="soft",
        class_name="ak-share-visibility",
    )


def share_row(link: ShareLink) -> rx.Component:
    """One live link: who may open it, when and by whom it was made, copy and revoke."""
    return rx.hstack(
        visibility_badge(link.visibility),
        rx.vstack(
            rx.text(link.url, size="1", class_name="ak-ellipsis ak-share-url"),
            rx.text(
                _LOCAL_MOMENT.call(link.created).to(str),
                rx.cond(link.by != "", rx.fragment(" · ", link.by)),
                size="1",
                color_scheme="gray",
            ),
            spacing="0",
            min_width="0",
            flex="1",
        ),
        copy_button(link.url, tr("share_copy"), tr("share_copied"), class_name="ak-share-copy"),
        icon_action(
            "link_2_off",
            tr("share_revoke"),
            ShareState.revoke(link.share_id),
            color_scheme="red",
            class_name="ak-share-revoke",
        ),
        align="center",
        width="100%",
        class_name="ak-share-row",
    )


def visibility_choice() -> rx.Component:
    """Signed-in readers only (the default), or anyone with the link; without accounts every link is open."""
    return rx.cond(
        ShareState.accounts_on,
        rx.radio_group.root(
            rx.vstack(
                rx.radio_group.item(tr("share_signed_in_hint"), value="signed_in", id="share_signed_in"),
                rx.radio_group.item(tr("share_public_hint"), value="public", id="share_public"),
                spacing="2",
            ),
            value=ShareState.visibility,
            on_change=ShareState.choose,
            size="2",
        ),
        rx.text(tr("share_open_hint"), size="2", color_scheme="gray"),
    )


def share_dialog() -> rx.Component:
    """The dialog: make a link, copy the one just made, and the live links with copy and revoke."""
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(tr("share_title")),
            rx.dialog.description(tr("share_hint"), size="2", color_scheme="gray"),
            rx.vstack(
                visibility_choice(),
                rx.button(
                    rx.icon("link", size=14),
                    tr("share_create"),
                    on_click=ShareState.create,
                    id="share_create",
                ),
                rx.cond(
                    ShareState.just_made != "",
                    rx.hstack(
                        rx.input(
                            value=ShareState.just_made, read_only=True, width="100%", id="share_new_url"
                        ),
                        rx.button(
                            rx.icon("copy", size=14),
                            tr("share_copy"),
                            on_click=[
                                rx.set_clipboard(ShareState.just_made),
                                rx.toast.success(tr("share_copied"), duration=1500),
                            ],
                            id="share_copy_new",
                        ),
                        width="100%",
                        align="center",
                    ),
                ),
                rx.separator(size="4"),
                rx.text(tr("share_active"), weight="bold", size="2"),
                rx.cond(
                    ShareState.links.length() > 0,
                    rx.vstack(
                        rx.foreach(ShareState.links, share_row), width="100%", spacing="2", id="share_links"
                    ),
                    rx.text(tr("share_none"), size="2", color_scheme="gray", id="share_none"),
                ),
                rx.hstack(
                    rx.dialog.close(
                        rx.button(tr("close"), variant="soft", color_scheme="gray", id="share_close")
                    ),
                    justify="end",
                    width="100%",
                ),
                spacing="3",
                width="100%",
                padding_top="0.75em",
            ),
            max_width="560px",
            id="share_dialog",
        ),
        open=ShareState.dialog_open,
        on_open_change=ShareState.set_open,
    )
