"""The open conversation: its items, its title and state, and the runs it follows as they stream.

What the user writes next is the composer's (:mod:`agentkit_app.ui.states.composer`).
"""

from __future__ import annotations

import asyncio
import copy

import reflex as rx

from agentkit_app.service.access import Principal
from agentkit_app.service.errors import ServiceError
from agentkit_app.service.runs import Run
from agentkit_app.service.runtime import get_service
from agentkit_app.store.models import SessionPublic
from agentkit_app.ui.announce import spoken_answer
from agentkit_app.ui.states.auth import current_principal, guarded, signed_in
from agentkit_app.ui.states.board_view import BoardViewState
from agentkit_app.ui.states.feedback import FeedbackState
from agentkit_app.ui.states.run_dialogs import DIALOG_EVENTS, RunDialogsState, session_in
from agentkit_app.ui.states.sessions import SessionsState
from agentkit_app.ui.states.turn_options import turn_options
from agentkit_app.ui.timeline import ChatItem, Timeline, items_from_messages

FLUSH_S = 0.05


class ChatState(rx.State):
    """Everything the chat page shows about one session.

    The conversation is ``items``, ``recent``, ``turn`` and ``live``, in this order: Reflex sends a
    changed var whole, so a turn must not change a list as long as the conversation. ``items`` is
    the conversation as opened, sent again only when it is opened or changed before its end (a
    version switch, an edit of an earlier message). ``live`` holds what the run of the turn in
    progress changes, so a flush sends only that; ``turn`` the items of that turn that no longer
    change (the user's message, a finished speech before the next one), each moved there once.
    Both keep the last turn once its run ends; when the next turn starts they move to ``recent``,
    the turns of this visit.
    """

    items: list[ChatItem] = []  # the conversation as opened
    recent: list[ChatItem] = []  # the turns settled since it was opened
    turn: list[ChatItem] = []  # the items of the turn in progress (or the last one) that no longer change
    live: list[ChatItem] = []  # the items its run changes
    title: str = ""
    loads: int = 0  # counts the sessions opened, so the page can scroll to a linked message after each
    renaming: bool = False
    interrupted: bool = False
    editing_id: str = ""
    _following: list[str] = []
    agent: str = ""
    status: str = "active"
    missing: bool = False
    running: bool = False
    run_kind: str = ""  # chat, board or team: what is running (a message during a board or team joins it)
    # what the page's polite live region reads out once a run has answered (never each token)
    announcement: str = ""

    @rx.var
    def session_id(self) -> str:
        """Return the session in the URL."""
        return session_in(str(self.router.url.path))

    @rx.event
    @guarded
    async def load(self):
        """Open the session of the URL: rebuild its items and follow what still runs in it."""
        service = get_service()
        (await self.get_state(RunDialogsState))._clear()
        (await self.get_state(BoardViewState))._clear()
        principal = await signed_in(self)
        try:
            session: SessionPublic | None = await service.session_or_404(self.session_id, principal)
        except ServiceError:
            session = None
        self.missing, self.announcement = session is None, ""
        if session is None:
            self._show_items([])
            self.title = ""
            return
        self.loads += 1
        self.title, self.agent, self.status = (
            session.title or session.agent_name,
            session.agent_name,
            session.status,
        )
        runs = await service.runs_of(session.session_id)
        produced = set().union(*(r.persisted_ids for r in runs)) if runs else set()
        messages = await service.messages_with_votes(session.session_id, principal)
        (await self.get_state(FeedbackState))._show(
            {m.message_id: m.feedback for m in messages if m.feedback}
        )
        self._show_items(items_from_messages([m for m in messages if m.message_id not in produced]))
        self._set_running(runs)
        self.interrupted = await service.interrupted_team(session) is not None
        return [ChatState.follow(r.run_id) for r in runs if r.kind != "intervention"]

    def _open_new(self) -> None:
        """Show the landing page's new conversation: nothing in it yet, nothing running, open for a first message."""
        self._show_items([])
        self.title, self.agent, self.status, self.announcement = "", "", "active", ""
        self.missing = self.interrupted = False
        self._set_running([])

    def _shown(self) -> list[ChatItem]:
        """Return the whole conversation as shown."""
        return [
            *self.get_value("items"),
            *self.get_value("recent"),
            *self.get_value("turn"),
            *self.get_value("live"),
        ]

    def _show_items(self, items: list[ChatItem]) -> None:
        """Show ``items`` as the whole conversation just opened."""
        self.items, self.recent, self.turn, self.live = items, [], [], []

    def _show_changes(self, items: list[ChatItem]) -> None:
        """Show ``items`` as the conversation now, sending only the lists that changed.

        The items before the first change stay where they are; the changed ones and all after them
        go in ``live``. Live items before the first change have stopped changing: they join ``turn``.
        """
        opened, recent, turn, live = (self.get_value(name) for name in ("items", "recent", "turn", "live"))
        shown = [*opened, *recent, *turn, *live]
        start = next((i for i, (a, b) in enumerate(zip(shown, items, strict=False)) if a != b), None)
        if start is None:
            if len(shown) == len(items):
                return
            start = min(len(shown), len(items))
        in_recent, in_turn = len(opened), len(opened) + len(recent)
        in_live = in_turn + len(turn)
        if start < in_recent:
            self.items = shown[:start]
        elif start < in_turn:
            self.recent = shown[in_recent:start]
        elif start < in_live:
            self.turn = shown[in_turn:start]
        elif start > in_live:
            self.turn = [*turn, *live[: start - in_live]]
        if start < in_turn and turn:
            self.turn = []
        if start < in_recent and recent:
            self.recent = []
        # copies: the run's timeline goes on changing its own items in place
        self.live = copy.deepcopy(items[start:])

    def _close_turn(self) -> None:
        """Move the last turn to ``recent``: the next one starts."""
        turn, live = self.get_value("turn"), self.get_value("live")
        if turn or live:
            self.recent = [*self.get_value("recent"), *turn, *live]
            self.turn, self.live = [], []

    def _set_running(self, runs: list[Run]) -> None:
        """Show as running the runs that have not answered yet (the session may be titled after the answer)."""
        live = [r for r in runs if r.kind != "intervention" and not r.answered]
        self.running, self.run_kind = bool(live), (live[-1].kind if live else "")

    def _watch(self, run: Run):
        """Show ``run`` as running and follow it."""
        self._set_running([run])
        self.announcement = ""
        return ChatState.follow(run.run_id)

    @rx.var
    def joins_run(self) -> bool:
        """Whether a message now goes to the board meeting or team run in progress."""
        return self.running and self.run_kind in ("board", "team")

    @rx.var
    def can_send(self) -> bool:
        """Whether the composer may send: an open session with no chat answer streaming."""
        return self.status == "active" and (not self.running or self.joins_run)

    @rx.var
    def tab_title(self) -> str:
        """The browser tab's name: the conversation's title."""
        return f"{self.title} · AgentKit" if self.title else "AgentKit"

    def _show_sent(self, run: Run, text: str, filenames: list[str]):
        """Show the message just sent and follow its run (a message joining a board or team run just shows)."""
        timeline = Timeline(self._shown())
        if run.kind == "intervention":
            timeline.items.append(ChatItem(kind="intervention", content=text))
            self._show_changes(timeline.items)
            return None
        timeline.add_user(text, filenames)
        self._close_turn()
        self._show_changes(timeline.items)
        return self._watch(run)

    @rx.event(background=True)
    async def follow(self, run_id: str):
        """Stream a run's events into the items, about every 50 ms, until it ends."""
        run = await get_service().run(run_id)
        if run is None:  # it ended between the page's load and now: what it stored is the conversation
            async with self:
                session_id, principal = self.session_id, await current_principal(self)
            if principal is not None:
                await self._catch_up(session_id, principal)
            return
        index, announced, flushed = 0, False, 0.0
        loop = asyncio.get_running_loop()
        async with self:
            if run_id in self._following:  # a page reload asked again: one follower per run
                return
            self._following = [*self._following, run_id]
            # the run's own copy: it changes its items in place, the state learns of it in each flush
            timeline = Timeline(copy.deepcopy(self._shown()))
            agent = self.agent
        try:
            while True:
                fresh = run.events[index:]
                index += len(fresh)
                if fresh:
                    async with self:
                        if self.session_id != run.session_id:
                            return
                        for event in fresh:
                            timeline.apply(event, agent)
                        if any(isinstance(event, DIALOG_EVENTS) for event in fresh):
                            dialogs = await self.get_state(RunDialogsState)
                            for event in fresh:
                                dialogs._show(event)
                        self._show_changes(timeline.items)
                        flushed = loop.time()
                        if run.answered:  # the answer is complete: the user may go on while the run titles
                            self._set_running(await get_service().runs_of(run.session_id))
                            if not announced:
                                self.announcement, announced = spoken_answer(timeline.items), True
                if run.done and index >= len(run.events):
                    break
                await run.wait_beyond(index, 1.0)
                # at most one flush a FLUSH_S: what arrives sooner waits for the next one, with what
                # follows it; the first event after a quiet spell (the first token) goes at once
                if (pause := flushed + FLUSH_S - loop.time()) > 0:
                    await asyncio.sleep(pause)
        finally:
            async with self:
                self._following = [r for r in self._following if r != run_id]
        service = get_service()
        session = await service.session(run.session_id)
        others = [r for r in await service.runs_of(run.session_id) if r.run_id != run_id]
        stored = await service.messages(run.session_id) if not others else None
        async with self:
            if self.session_id == run.session_id:
                if session is not None:
                    self.title = session.title or session.agent_name
                # a new turn may have started meanwhile: then its own follower owns the view
                others = [r for r in await service.runs_of(run.session_id) if r.run_id != run_id]
                if not others:
                    if stored is not None:  # answers and cards now carry their stored ids (votes name them)
                        self._show_changes(items_from_messages(stored))
                    (await self.get_state(RunDialogsState))._close()
                self._set_running(others)
        yield SessionsState.load

    async def _catch_up(self, session_id: str, principal: Principal) -> None:
        """Show ``session_id`` as stored, if it is still open here and no run of it is being followed."""
        service = get_service()
        try:
            await service.session_or_404(session_id, principal)
        except ServiceError:
            return
        stored, runs = await service.messages(session_id), await service.runs_of(session_id)
        async with self:
            if self.session_id == session_id and not self._following:
                self._show_changes(items_from_messages(stored))
                self._set_running(runs)

    @rx.event
    async def stop(self) -> None:
        """Cancel what runs in this session; the partial answer stays, marked stopped."""
        await get_service().cancel(self.session_id)

    @rx.var
    def last_answer_id(self) -> str:
        """Return the id of the answer that can be regenerated (the last one, once nothing runs)."""
        shown = self.live or self.turn or self.recent or self.items
        last = shown[-1] if shown else None
        if (
            self.running
            or last is None
            or last.kind not in ("assistant", "error")
            or not last.id
            or last.id.startswith("live")
        ):
            return ""
        return last.id

    @rx.event
    @guarded
    async def regenerate(self):
        """Answer the last question again; the earlier answer stays one click away."""
        model, lang = await turn_options(self)
        principal = await signed_in(self)
        run = await get_service().regenerate(self.session_id, model=model, language=lang, principal=principal)
        self._show_changes(self._shown()[:-1])
        return self._watch(run)

    @rx.event
    @guarded
    async def switch_alternative(self, message_id: str):
        """Show another version of a message (and the conversation that followed it)."""
        principal = await signed_in(self)
        messages = await get_service().switch_branch(self.session_id, message_id, principal=principal)
        self._show_items(items_from_messages(messages))

    @rx.event
    def start_edit(self, item_id: str) -> None:
        """Turn a user message into an editable box."""
        self.editing_id = item_id

    @rx.event
    def cancel_edit(self) -> None:
        """Leave the message as it was."""
        self.editing_id = ""

    @rx.event
    @guarded
    async def save_edit(self, form_data: dict):
        """Send the edited message: the conversation forks there; the old branch stays."""
        message_id, self.editing_id = self.editing_id, ""
        text = str(form_data.get("content") or "")
        model, lang = await turn_options(self)
        principal = await signed_in(self)
        run = await get_service().edit_message(
            self.session_id, message_id, text, model=model, language=lang, principal=principal
        )
        shown = self._shown()
        at = next((i for i, item in enumerate(shown) if item.id == message_id), len(shown))
        timeline = Timeline(shown[:at])
        timeline.add_user(text.strip())
        self._show_changes(timeline.items)
        return self._watch(run)

    @rx.event
    @guarded
    async def resume(self):
        """Continue the team run the server lost, from its last checkpoint."""
        principal = await signed_in(self)
        self.interrupted = False  # resumed or refused, the offer to resume goes
        return self._watch(await get_service().resume_team(self.session_id, principal=principal))

    @rx.event
    @guarded
    async def restore(self, session_id: str):
        """Bring an archived session back among the open ones (from its row, or from the session itself)."""
        principal = await signed_in(self)
        await get_service().update_session(session_id, status="active", principal=principal)
        if session_id == self.session_id:
            self.status = "active"
        return SessionsState.load

    @rx.event
    def start_rename(self) -> None:
        """Show the title as an input."""
        self.renaming = True

    @rx.event
    def cancel_rename(self) -> None:
        """Leave the title as it was."""
        self.renaming = False

    @rx.event
    @guarded
    async def save_title(self, form_data: dict):
        """Rename the session (a user's name is kept; generated titles never replace it)."""
        title = " ".join(str(form_data.get("title") or "").split())
        self.renaming = False
        if not title or title == self.title:
            return
        principal = await signed_in(self)
        renamed = await get_service().update_session(self.session_id, title=title, principal=principal)
        self.title = renamed.title
        return SessionsState.load

    @rx.event
    @guarded
    async def export(self, fmt: str):
        """Download this conversation as Markdown or JSON."""
        service = get_service()
        session = await service.session_or_404(self.session_id, await signed_in(self))
        body, _, filename = await service.export(session, fmt)
        return rx.download(data=body, filename=filename)
