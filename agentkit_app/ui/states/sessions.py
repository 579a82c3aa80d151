"""The session list in the sidebar: load, create with an agent, close."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo

import reflex as rx

from agentkit_app.engine.llm.demo import DEMO_LABEL
from agentkit_app.service.access import Principal
from agentkit_app.service.chat import ChatService
from agentkit_app.service.runtime import get_service
from agentkit_app.store.models import SessionPublic
from agentkit_app.ui.states.auth import current_principal, guarded, signed_in
from agentkit_app.ui.states.prefs import PrefsState, reader_zone

PAGE_SIZE = 100  # sessions listed at first, and added by each "show more"
WATCH_S = 1.0  # how often the list looks whether a busy session is done


@dataclass
class SessionRow:
    """One session in the sidebar."""

    session_id: str = ""
    title: str = ""
    agent: str = ""
    time: str = ""
    kind: str = "chat"
    status: str = "active"
    group: str = ""  # i18n key of the date heading above this row; empty when it continues the group above
    pinned: bool = False
    busy: bool = False  # an answer, board meeting or team run is being written in it


def when_label(updated: datetime, now: datetime, zone: tzinfo | None = None) -> tuple[str, str]:
    """Return the date group (i18n key) of a session and the time shown on its row, in the reader's ``zone``.

    ``zone`` None: the server's (a browser that did not say its own).
    """
    local, today = updated.astimezone(zone), now.astimezone(zone).date()
    days = (today - local.date()).days
    if days <= 0:
        return "group_today", local.strftime("%H:%M")
    if days == 1:
        return "group_yesterday", local.strftime("%H:%M")
    shown = local.strftime("%m-%d") if local.year == today.year else local.strftime("%Y-%m-%d")
    return ("group_week" if days < 7 else "group_older"), shown


def session_rows(
    sessions: list[SessionPublic], now: datetime, busy: set[str] | None = None, zone: tzinfo | None = None
) -> list[SessionRow]:
    """Turn sessions (newest first) into sidebar rows: pinned ones, the other open ones by date, then the archived ones.

    The first row of each group carries the group's heading (an i18n key).
    """
    rows: list[SessionRow] = []
    previous = ""
    closed = [s for s in sessions if s.status == "closed"]
    pinned = [s for s in sessions if s.status != "closed" and s.server_state.get("pinned")]
    rest = [s for s in sessions if s.status != "closed" and not s.server_state.get("pinned")]
    for s in pinned + rest + closed:
        group, shown = when_label(s.updated_at, now, zone)
        if s.status == "closed":
            group = "group_archived"
        elif s.server_state.get("pinned"):
            group = "group_pinned"
        rows.append(
            SessionRow(
                session_id=s.session_id,
                title=s.title or s.agent_name,
                agent=s.agent_name,
                time=shown,
                kind=s.kind,
                status=s.status,
                group=group if group != previous else "",
                pinned=bool(s.server_state.get("pinned")) and s.status != "closed",
                busy=s.session_id in (busy or set()),
            )
        )
        previous = group
    return rows


@dataclass
class SearchRow:
    """One search hit: which session, which message, and the text around the match."""

    session_id: str = ""
    message_id: str = ""
    title: str = ""
    snippet: str = ""
    kind: str = "chat"


@dataclass
class AgentOption:
    """An agent a new chat can be bound to."""

    name: str = ""
    label: str = ""


class SessionsState(rx.State):
    """The sidebar's sessions and the agent picker."""

    sessions: list[SessionRow] = []
    agents: list[AgentOption] = []
    new_agent: str = "assistant"
    demo_mode: bool = False
    query: str = ""
    hits: list[SearchRow] = []
    search_error: str = ""
    show_archived: bool = False
    limit: int = PAGE_SIZE
    more: bool = False  # the list stopped at the limit: there may be older sessions
    _watching: bool = False  # a watcher refreshes the list when a busy session's run ends
    # the archived session whose deletion is being asked about: one dialog outside the list, so that a
    # refresh of the list while it is open cannot close it
    deleting_id: str = ""
    deleting_title: str = ""

    @rx.var
    def archived_count(self) -> int:
        """Return how many of the listed sessions are archived."""
        return sum(1 for row in self.sessions if row.status == "closed")

    @rx.event
    async def load(self) -> None:
        """Read the sessions (newest first) and the agents."""
        service = get_service()
        self.demo_mode = service.llm.label == DEMO_LABEL
        self.agents = [
            AgentOption(a.name, a.display_name) for a in (await service.refresh_catalog()).choices()
        ]
        principal = await current_principal(self)
        if principal is None:
            self.sessions = []
            return
        rows = await service.list_sessions(principal, limit=self.limit)
        self.more = len(rows) == self.limit
        busy = {s.session_id for s in rows if await service.busy(s.session_id)}
        zone = reader_zone((await self.get_state(PrefsState)).time_zone)
        self.sessions = session_rows(rows, datetime.now().astimezone(), busy, zone)
        if busy and not self._watching:
            return SessionsState.watch_busy

    @rx.event(background=True)
    async def watch_busy(self):
        """While sessions in the list are busy, refresh the list as soon as one of them is done."""
        async with self:
            if self._watching:
                return
            self._watching = True
        try:
            while True:
                await asyncio.sleep(WATCH_S)
                async with self:
                    busy = [row.session_id for row in self.sessions if row.busy]
                    if not busy:
                        return
                    for session_id in busy:
                        if not await get_service().busy(session_id):
                            await self.load()
                            break
        finally:
            async with self:
                self._watching = False

    @rx.event
    async def set_reader_zone(self, name: str):
        """Keep the browser's time zone (sent as each page opens); date the list again if it changed."""
        prefs = await self.get_state(PrefsState)
        name = str(name)[:64]
        if name == prefs.time_zone or reader_zone(name) is None:
            return None
        prefs.time_zone = name
        return SessionsState.load

    @rx.event
    async def show_more(self) -> None:
        """List the next page of older sessions too."""
        self.limit += PAGE_SIZE
        await self.load()

    @rx.event
    def toggle_archived(self) -> None:
        """Fold or unfold the archived sessions."""
        self.show_archived = not self.show_archived

    @rx.event
    @guarded
    async def search(self, query: str):
        """Search all sessions' messages; an empty box shows the session list again."""
        self.query = query
        self.search_error = ""
        if not query.strip():
            self.hits = []
            return
        principal = await signed_in(self)
        try:
            found = await get_service().search(principal, query, 30)
        except ValueError as exc:
            self.hits, self.search_error = [], str(exc)
            return
        self.hits = [
            SearchRow(h.session_id, h.message_id, h.session_title, h.snippet, h.session_kind) for h in found
        ]

    @rx.event
    def set_new_agent(self, name: str) -> None:
        """Choose the agent of the next new chat."""
        self.new_agent = name

    @rx.event
    @guarded
    async def pin(self, session_id: str, pinned: bool):
        """Pin a session to the top of the list, or unpin it."""
        return await self._change(
            session_id, lambda service, who: service.update_session(session_id, pinned=pinned, principal=who)
        )

    @rx.event
    def ask_delete(self, session_id: str, title: str) -> None:
        """Open the dialog that asks whether to delete an archived session for good."""
        self.deleting_id, self.deleting_title = session_id, title

    @rx.event
    def set_deleting_open(self, is_open: bool) -> None:
        """Close the deletion dialog (cancel, Escape, a click outside)."""
        if not is_open:
            self.deleting_id = self.deleting_title = ""

    @rx.event
    @guarded
    async def delete(self):
        """Delete the session the dialog asked about, for good; leave it if it was open."""
        session_id, self.deleting_id, self.deleting_title = self.deleting_id, "", ""
        if not session_id:
            return None
        return await self._change(
            session_id, lambda service, who: service.delete_session(session_id, principal=who), leave=True
        )

    @rx.event
    @guarded
    async def close(self, session_id: str):
        """Close (archive) a session; leave it if it was open."""
        return await self._change(
            session_id, lambda service, who: service.close_session(session_id, principal=who), leave=True
        )

    async def _change(
        self,
        session_id: str,
        change: Callable[[ChatService, Principal], Awaitable[object]],
        leave: bool = False,
    ):
        """Apply ``change`` as the signed-in principal, refresh the list, and (``leave``) go home if it was open.

        Called from ``@guarded`` handlers: a lost sign-in or a refused change ends the action there.
        """
        await change(get_service(), await signed_in(self))
        await self.load()
        if leave and str(self.router.url.path).rstrip("/") == f"/chat/{session_id}":
            return rx.redirect("/")
