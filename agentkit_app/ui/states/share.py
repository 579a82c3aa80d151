"""Sharing a conversation: the share dialog of the chat page, and the read-only page a link opens.

The dialog reads the session's links only when it opens, so the chat page gains no load handler. The
shared page (``/share/<token>``) calls the service in-process, as ``GET /api/v1/shares/{token}``
does: the reader is whoever this browser is signed in as, or nobody.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from urllib.parse import quote

import reflex as rx

from agentkit_app.service.errors import NotFound, Unauthorized
from agentkit_app.service.runtime import get_service
from agentkit_app.store.models import SHARE_ROUTE, SharePublic
from agentkit_app.ui.states.auth import LOGIN_ROUTE, current_principal, guarded, signed_in
from agentkit_app.ui.states.board_view import BoardViewState
from agentkit_app.ui.states.run_dialogs import session_in
from agentkit_app.ui.timeline import ChatItem, items_from_messages


@dataclass
class ShareLink:
    """A live link as the dialog lists it."""

    share_id: str = ""
    url: str = ""
    visibility: str = ""
    created: str = ""  # ISO 8601, shown in the reader's time zone
    by: str = ""


def token_in(path: str) -> str:
    """Return the token of a ``/share/<token>`` path ("" for any other page)."""
    match = re.match(rf"^{SHARE_ROUTE}([^/?#]+)", path)
    return match.group(1) if match else ""


def read_only(items: list[ChatItem]) -> list[ChatItem]:
    """Return ``items`` without what lets a reader change them: votes and other versions."""
    return [dataclasses.replace(item, rateable=False, versions=type(item.versions)()) for item in items]


class ShareState(rx.State):
    """The share dialog of the open conversation: its live links, the one just made, the visibility chosen."""

    dialog_open: bool = False
    links: list[ShareLink] = []
    visibility: str = ""  # signed_in or public; "" until the dialog opens with the deployment's default
    accounts_on: bool = False
    just_made: str = ""  # the URL of the link made last, offered for copying

    def _link(self, share: SharePublic) -> ShareLink:
        return ShareLink(
            share_id=share.share_id,
            url=f"{self.router.url.origin}{share.path}",
            visibility=share.visibility.value,
            created=share.created_at.isoformat(),
            by=share.created_by_name,
        )

    async def _read(self) -> None:
        session_id = session_in(str(self.router.url.path))
        shares = await get_service().shares_of(session_id, await signed_in(self))
        self.links = [self._link(s) for s in shares]

    @rx.event
    @guarded
    async def open_dialog(self):
        """Open the dialog and read the conversation's live links."""
        service = get_service()
        self.dialog_open, self.just_made = True, ""
        self.accounts_on = service.accounts_on
        self.visibility = service.default_visibility.value
        await self._read()

    @rx.event
    def set_open(self, value: bool) -> None:
        """Open or close the dialog (Esc, the close button, a click outside)."""
        self.dialog_open = value

    @rx.event
    def choose(self, visibility: str) -> None:
        """Choose who may open the next link."""
        self.visibility = visibility

    @rx.event
    @guarded
    async def create(self):
        """Make a link with the chosen visibility and offer it for copying."""
        session_id = session_in(str(self.router.url.path))
        made = await get_service().create_share(session_id, await signed_in(self), self.visibility or None)
        self.just_made = self._link(made).url
        await self._read()

    @rx.event
    @guarded
    async def revoke(self, share_id: str):
        """Revoke a link: it stops working at once."""
        session_id = session_in(str(self.router.url.path))
        await get_service().revoke_share(session_id, share_id, await signed_in(self))
        if self.just_made in {link.url for link in self.links if link.share_id == share_id}:
            self.just_made = ""  # the link just made is gone: no longer offered for copying
        await self._read()


class SharedViewState(rx.State):
    """The read-only conversation a link opens, or why it cannot be shown."""

    items: list[ChatItem] = []
    title: str = ""
    agent: str = ""
    # loading, shown, missing (unknown or revoked link), or sign_in (the link is for signed-in readers)
    status: str = "loading"

    @rx.var
    def tab_title(self) -> str:
        """The browser tab's name: the conversation's title."""
        return f"{self.title} · AgentKit" if self.title else "AgentKit"

    @rx.var
    def sign_in_href(self) -> str:
        """The sign-in page, set to come back to this link once signed in."""
        return f"{LOGIN_ROUTE}?next={quote(str(self.router.url.path), safe='/')}"

    @rx.event
    async def load(self):
        """Open the conversation of the URL's link for the reader of this browser."""
        reader = await current_principal(self)
        # the meetings' ids (``board-N``) repeat in every conversation: a filter set elsewhere must not apply
        (await self.get_state(BoardViewState))._clear()
        try:
            shared = await get_service().open_share(token_in(str(self.router.url.path)), reader)
        except NotFound:
            self.items, self.title, self.agent, self.status = [], "", "", "missing"
            return
        except Unauthorized:
            self.items, self.title, self.agent, self.status = [], "", "", "sign_in"
            return
        self.title, self.agent = shared.session.title, shared.session.agent_name
        self.items = read_only(items_from_messages(shared.messages))
        self.status = "shown"
