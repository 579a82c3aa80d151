"""The open conversation: its items, the composer, and the runs it follows as they stream."""

from __future__ import annotations

import asyncio
import re

import reflex as rx

from agentkit_app.engine.llm.demo import DEMO_MODEL_NAME
from agentkit_app.service.chat import TurnRequest
from agentkit_app.service.errors import ServiceError
from agentkit_app.service.runs import Run
from agentkit_app.service.runtime import get_service
from agentkit_app.service.uploads import UploadTooLarge
from agentkit_app.store.models import SessionPublic
from agentkit_app.ui.i18n import t
from agentkit_app.ui.states.auth import guarded, signed_in
from agentkit_app.ui.states.prefs import PrefsState
from agentkit_app.ui.states.run_dialogs import DIALOG_EVENTS, RunDialogsState, session_in
from agentkit_app.ui.states.sessions import SessionsState
from agentkit_app.ui.timeline import ChatItem, Timeline, items_from_messages

FLUSH_S = 0.05
UPLOAD_ID = "composer_upload"
MAX_FILES = 5  # files attached at once


class ChatState(rx.State):
    """Everything the chat page shows about one session."""

    items: list[ChatItem] = []
    title: str = ""
    loads: int = 0  # counts the sessions opened, so the page can scroll to a linked message after each
    renaming: bool = False
    interrupted: bool = False
    editing_id: str = ""
    plan_exec: bool = False
    _following: list[str] = []
    agent: str = ""
    status: str = "active"
    missing: bool = False
    draft: str = ""
    model: str = ""
    models: list[str] = []
    running: bool = False
    run_kind: str = ""  # chat, board or team: what is running (a message during a board or team joins it)
    attachments: list[dict[str, str]] = []
    upload_limit: int = 10 * 1024 * 1024  # the upload store's, read on load: the browser refuses bigger files
    # the unsent text and files of the other conversations, by session id; which one the composer holds
    _drafts: dict[str, dict] = {}
    _composer_of: str = ""
    # a message to send as soon as this new session opens: [session_id, text]
    _autosend: list[str] = []

    @rx.var
    def session_id(self) -> str:
        """Return the session in the URL."""
        return session_in(str(self.router.url.path))

    @rx.var
    def suggestions(self) -> list[str]:
        """Return completions for a draft that starts with ``@``."""
        match = re.match(r"^@(\w*)(?::([^\s]*))?$", self.draft)
        if not match:
            return []
        service = get_service()
        if match.group(1) == "skill":
            return [
                f"@skill:{s.name} " for s in service.catalog.skills if s.name.startswith(match.group(2) or "")
            ]
        if match.group(1) in ("board", "team") and match.group(2) is not None:
            prefix = (match.group(2) or "").split(",")[-1].casefold()
            head = self.draft.rsplit(",", 1)[0] + "," if "," in self.draft else f"@{match.group(1)}:"
            return [f"{head}{n}" for n in service.catalog.experts.names() if n.casefold().startswith(prefix)][
                :8
            ]
        return [c for c in ("@board ", "@team ", "@skill:", "@board:", "@team:") if c.startswith(self.draft)]

    @rx.event
    @guarded
    async def load(self):
        """Open the session of the URL: rebuild its items and follow what still runs in it."""
        service = get_service()
        self.models = list(service.config.models)
        self.upload_limit = service.upload_limit
        self.model = self.model if self.model in self.models else (self.models[0] if self.models else "")
        (await self.get_state(RunDialogsState))._clear()
        self._swap_composer()
        principal = await signed_in(self)
        try:
            session: SessionPublic | None = await service.session_or_404(self.session_id, principal)
        except ServiceError:
            session = None
        self.missing = session is None
        if session is None:
            self.items, self.title = [], ""
            return
        self.loads += 1
        self.title, self.agent, self.status = (
            session.title or session.agent_name,
            session.agent_name,
            session.status,
        )
        runs = service.runs_of(session.session_id)
        produced = set().union(*(r.persisted_ids for r in runs)) if runs else set()
        messages = await service.messages(session.session_id)
        self.items = items_from_messages([m for m in messages if m.message_id not in produced])
        self._set_running(runs)
        self.interrupted = service.interrupted_team(session) is not None
        if self._autosend and self._autosend[0] == session.session_id:
            self.draft, self._autosend = self._autosend[1], []
            return ChatState.send
        return [ChatState.follow(r.run_id) for r in runs if r.kind != "intervention"]

    def _set_running(self, runs: list[Run]) -> None:
        """Show as running the runs that have not answered yet (the session may be titled after the answer)."""
        live = [r for r in runs if r.kind != "intervention" and not r.answered]
        self.running, self.run_kind = bool(live), (live[-1].kind if live else "")

    def _watch(self, run: Run):
        """Show ``run`` as running and follow it."""
        self._set_running([run])
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

    def _swap_composer(self) -> None:
        """Keep what was typed (and attached) for the conversation being left; bring back this one's."""
        if self._composer_of == self.session_id:
            return
        # new dicts, never changed in place: the class default must stay empty for every other client
        drafts = {k: v for k, v in self._drafts.items() if k != self.session_id}
        if self._composer_of and (self.draft or self.attachments):
            drafts[self._composer_of] = {"text": self.draft, "attachments": list(self.attachments)}
        saved = self._drafts.get(self.session_id, {})
        self._drafts = drafts
        self.draft, self.attachments = saved.get("text", ""), saved.get("attachments", [])
        self.editing_id, self.renaming = "", False
        self._composer_of = self.session_id

    @rx.event
    @guarded
    async def start_with(self, text: str):
        """Start a new conversation (with the agent picked in the sidebar) and send ``text`` in it."""
        principal = await signed_in(self)
        sessions = await self.get_state(SessionsState)
        session = await get_service().create_session(sessions.new_agent, principal=principal)
        self._autosend = [session.session_id, text]
        await sessions.load()
        return rx.redirect(f"/chat/{session.session_id}")

    @rx.event
    def set_draft(self, value: str) -> None:
        """Keep the composer's text."""
        self.draft = value

    @rx.event
    def set_plan_exec(self, value: bool) -> None:
        """Answer the next messages in plan-execute phases (plan, execute, verify, answer)."""
        self.plan_exec = value

    @rx.event
    def set_model(self, value: str) -> None:
        """Choose the model of the next messages."""
        self.model = value

    @rx.event
    def pick_suggestion(self, value: str) -> None:
        """Put a completion into the composer."""
        self.draft = value

    @rx.event
    async def submit_composer(self, form_data: dict):
        """Send on Enter (Shift+Enter inserts a new line): the form carries the text as typed."""
        self.draft = str(form_data.get("draft") or self.draft)
        return ChatState.send

    @rx.event
    @guarded
    async def send(self):
        """Start a turn for the composer's text and follow it."""
        text = self.draft.strip()
        if (not text and not self.attachments) or not self.can_send:
            return
        model, lang = await self._turn_options()
        content = text or t("read_attached", lang)
        principal = await signed_in(self)
        run = await get_service().start_turn(
            TurnRequest(
                session_id=self.session_id,
                content=content,
                model=model,
                language=lang,
                attachments=[dict(a) for a in self.attachments],
                execution_mode="plan_exec" if self.plan_exec else None,
                principal=principal,
            )
        )
        timeline = Timeline(list(self.items))
        if run.kind == "intervention":
            timeline.items.append(ChatItem(kind="intervention", content=text))
        else:
            timeline.add_user(text, [a["filename"] for a in self.attachments])
        self.items = timeline.items
        self.draft = ""
        self.attachments = []
        if run.kind == "intervention":
            return
        return self._watch(run)

    @rx.event(background=True)
    async def follow(self, run_id: str):
        """Stream a run's events into the items, about every 50 ms, until it ends."""
        run = get_service().run(run_id)
        if run is None:
            return
        index = 0
        async with self:
            if run_id in self._following:  # a page reload asked again: one follower per run
                return
            self._following = [*self._following, run_id]
            timeline = Timeline(list(self.items))
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
                        self.items = list(timeline.items)
                        if run.answered:  # the answer is complete: the user may go on while the run titles
                            self._set_running(get_service().runs_of(run.session_id))
                if run.done and index >= len(run.events):
                    break
                await run.wait_beyond(index, 1.0)
                await asyncio.sleep(FLUSH_S)
        finally:
            async with self:
                self._following = [r for r in self._following if r != run_id]
        service = get_service()
        session = await service.session(run.session_id)
        others = [r for r in service.runs_of(run.session_id) if r.run_id != run_id]
        stored = await service.messages(run.session_id) if run.kind == "chat" and not others else None
        async with self:
            if self.session_id == run.session_id:
                if session is not None:
                    self.title = session.title or session.agent_name
                # a new turn may have started meanwhile: then its own follower owns the view
                others = [r for r in service.runs_of(run.session_id) if r.run_id != run_id]
                if not others:
                    if stored is not None:  # answers now carry their stored ids and versions
                        self.items = items_from_messages(stored)
                    (await self.get_state(RunDialogsState))._close()
                self._set_running(others)
        yield SessionsState.load

    @rx.event
    def stop(self) -> None:
        """Cancel what runs in this session; the partial answer stays, marked stopped."""
        get_service().cancel(self.session_id)

    @rx.event
    @guarded
    async def upload(self, files: list[rx.UploadFile]):
        """Store attached files in the upload store and keep them for the next message."""
        principal = await signed_in(self)
        service = get_service()
        for file in files:
            pending = service.begin_upload(file.name or "file", principal.user_id)
            try:
                while chunk := await file.read(256 * 1024):
                    pending.write(chunk)
            except UploadTooLarge:
                lang = (await self.get_state(PrefsState)).lang
                return rx.toast.error(
                    refusal_text(f"{pending.filename}|file-too-large", lang, service.upload_limit)
                )
            stored = pending.finish()
            self.attachments.append({"filename": stored.filename, "stored_name": stored.stored_name})

    @rx.event
    async def upload_rejected(self, refusals: list[str]):
        """Say, in the UI's language, which files the browser refused to upload and why.

        Each refusal is ``"name|code,code"`` (see ``components.chat.refusals``): the files themselves never leave the browser.
        """
        lang = (await self.get_state(PrefsState)).lang
        return rx.toast.error("; ".join(refusal_text(str(r), lang, self.upload_limit) for r in refusals[:5]))

    @rx.var
    def last_answer_id(self) -> str:
        """Return the id of the answer that can be regenerated (the last one, once nothing runs)."""
        last = self.items[-1] if self.items else None
        if (
            self.running
            or last is None
            or last.kind not in ("assistant", "error")
            or not last.id
            or last.id.startswith("live")
        ):
            return ""
        return last.id

    async def _turn_options(self) -> tuple[str | None, str]:
        prefs = await self.get_state(PrefsState)
        return (self.model if self.model and self.model != DEMO_MODEL_NAME else None), prefs.lang

    @rx.event
    @guarded
    async def regenerate(self):
        """Answer the last question again; the earlier answer stays one click away."""
        model, lang = await self._turn_options()
        principal = await signed_in(self)
        run = await get_service().regenerate(self.session_id, model=model, language=lang, principal=principal)
        self.items = self.items[:-1]
        return self._watch(run)

    @rx.event
    @guarded
    async def switch_alternative(self, message_id: str):
        """Show another version of a message (and the conversation that followed it)."""
        principal = await signed_in(self)
        messages = await get_service().switch_branch(self.session_id, message_id, principal=principal)
        self.items = items_from_messages(messages)

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
        model, lang = await self._turn_options()
        principal = await signed_in(self)
        run = await get_service().edit_message(
            self.session_id, message_id, text, model=model, language=lang, principal=principal
        )
        at = next((i for i, item in enumerate(self.items) if item.id == message_id), len(self.items))
        timeline = Timeline(list(self.items[:at]))
        timeline.add_user(text.strip())
        self.items = timeline.items
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

    @rx.event
    def remove_attachment(self, stored_name: str) -> None:
        """Drop an attachment from the next message."""
        self.attachments = [a for a in self.attachments if a["stored_name"] != stored_name]


def refusal_text(refusal: str, lang: str, limit: int) -> str:
    """Return "name: reason" for a file the browser's drop zone refused (``"name|code,..."``, react-dropzone's codes)."""
    name, _, codes = refusal.rpartition("|") if "|" in refusal else (refusal, "", "")
    name = name.lstrip("./") or "?"
    if "file-too-large" in codes.split(","):
        reason = t("file_too_large", lang, limit=f"{limit / (1024 * 1024):g} MB")
    elif "too-many-files" in codes.split(","):
        reason = t("too_many_files", lang, n=MAX_FILES)
    else:
        reason = t("file_refused", lang)
    return f"{name}: {reason}"
