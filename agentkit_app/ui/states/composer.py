"""The composer: the text being written, its attachments and completions, and sending it.

Each conversation keeps its own unsent text and files while the user is in another one. What a
sent message starts is followed by the conversation (:class:`ChatState`).
"""

from __future__ import annotations

import re

import reflex as rx

from agentkit_app.service.chat import TurnRequest
from agentkit_app.service.runtime import get_service
from agentkit_app.service.upload_previews import UploadPreview
from agentkit_app.service.uploads import UploadTooLarge
from agentkit_app.ui.i18n import t
from agentkit_app.ui.states.auth import guarded, signed_in
from agentkit_app.ui.states.chat import ChatState
from agentkit_app.ui.states.prefs import PrefsState
from agentkit_app.ui.states.run_dialogs import session_in
from agentkit_app.ui.states.sessions import SessionsState
from agentkit_app.ui.states.turn_options import TurnOptionsState, turn_options

UPLOAD_ID = "composer_upload"
MAX_FILES = 5  # files attached at once


class ComposerState(rx.State):
    """What the user is about to send in the open conversation."""

    draft: str = ""
    attachments: list[dict[str, str]] = []  # filename, stored_name, and the preview: kind, lines, thumbnail
    upload_limit: int = 10 * 1024 * 1024  # the upload store's, read on load: the browser refuses bigger files
    # the unsent text and files of the other conversations, by session id; which one the composer holds
    # (the new conversation of the landing page is "")
    _drafts: dict[str, dict] = {}
    _composer_of: str = ""

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
    async def load(self) -> None:
        """After the conversation (or the landing page's new one) opens: offer the models, bring back what was typed in it."""
        service = get_service()
        (await self.get_state(TurnOptionsState))._offer(list(service.config.models))
        self.upload_limit = service.upload_limit
        chat = await self.get_state(ChatState)
        # read from this event's URL: no handler of the conversation's ran on the landing page to bring
        # its computed ``session_id`` up to date
        opened = session_in(str(self.router.url.path))
        if not opened:
            chat._open_new()
        if self._composer_of != opened:
            self._swap(opened)
            chat.editing_id, chat.renaming = "", False

    def _swap(self, session_id: str) -> None:
        """Keep what was typed (and attached) for the conversation being left; bring back ``session_id``'s."""
        # new dicts, never changed in place: the class default must stay empty for every other client
        drafts = {k: v for k, v in self._drafts.items() if k != session_id}
        if self.draft or self.attachments:
            drafts[self._composer_of] = {"text": self.draft, "attachments": list(self.attachments)}
        saved = self._drafts.get(session_id, {})
        self._drafts = drafts
        self.draft, self.attachments = saved.get("text", ""), saved.get("attachments", [])
        self._composer_of = session_id

    @rx.event
    def start_with(self, text: str):
        """Send ``text`` as the first message of the landing page's new conversation (a starter card)."""
        self.draft = text
        return ComposerState.send

    @rx.event
    def set_draft(self, value: str) -> None:
        """Keep the composer's text."""
        self.draft = value

    @rx.event
    def pick_suggestion(self, value: str) -> None:
        """Put a completion into the composer."""
        self.draft = value

    @rx.event
    async def submit_composer(self, form_data: dict):
        """Send on Enter (Shift+Enter inserts a new line): the form carries the text as typed."""
        self.draft = str(form_data.get("draft") or self.draft)
        return ComposerState.send

    @rx.event
    @guarded
    async def send(self):
        """Start a turn for the composer's text; the conversation shows it and follows its run."""
        chat = await self.get_state(ChatState)
        landing = not session_in(str(self.router.url.path))  # the conversation begins with this message
        text = self.draft.strip()
        if (not text and not self.attachments) or not (landing or chat.can_send):
            return
        model, lang = await turn_options(self)
        request = TurnRequest(
            session_id=chat.session_id,
            content=text or t("read_attached", lang),
            model=model,
            language=lang,
            attachments=[dict(a) for a in self.attachments],
            execution_mode="plan_exec" if (await self.get_state(TurnOptionsState)).plan_exec else None,
            principal=await signed_in(self),
        )
        if landing:
            agent = (await self.get_state(SessionsState)).new_agent
            run = await get_service().start_conversation(agent, request)
            self.draft, self.attachments = "", []
            # the conversation's page follows the run from its start, as after a reload
            return rx.redirect(f"/chat/{run.session_id}")
        run = await get_service().start_turn(request)
        filenames = [a["filename"] for a in self.attachments]
        self.draft, self.attachments = "", []
        return chat._show_sent(run, text, filenames)

    @rx.event
    @guarded
    async def upload(self, files: list[rx.UploadFile], page: str | None = None):
        """Store attached files in the upload store and keep them for the next message.

        ``page`` is the path of the page the files were attached on, as the browser had it then: they
        belong to that conversation even if the composer has not opened it yet (files attached the
        moment a conversation opens) or has left it since (a slow upload, then a click elsewhere).
        """
        target = self._composer_of if page is None else session_in(page)
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
            preview = await service.upload_preview(stored.stored_name, principal)
            self._keep_attachment(attachment_chip(stored.filename, stored.stored_name, preview), target)

    def _keep_attachment(self, chip: dict[str, str], session_id: str) -> None:
        """Keep an attached file for ``session_id``'s next message: in the composer, or in the draft kept for it."""
        if session_id == self._composer_of:
            self.attachments.append(chip)
        else:
            self._drafts = with_attachment(self._drafts, session_id, chip)

    @rx.event
    async def upload_rejected(self, refusals: list[str]):
        """Say, in the UI's language, which files the browser refused to upload and why.

        Each refusal is ``"name|code,code"`` (see ``components.composer.refusals``): the files themselves
        never leave the browser.
        """
        lang = (await self.get_state(PrefsState)).lang
        return rx.toast.error("; ".join(refusal_text(str(r), lang, self.upload_limit) for r in refusals[:5]))

    @rx.event
    def remove_attachment(self, stored_name: str) -> None:
        """Drop an attachment from the next message."""
        self.attachments = [a for a in self.attachments if a["stored_name"] != stored_name]


def with_attachment(drafts: dict[str, dict], session_id: str, chip: dict[str, str]) -> dict[str, dict]:
    """Return the unsent drafts of the conversations with ``chip`` added to ``session_id``'s (a new dict)."""
    draft = drafts.get(session_id, {})
    attachments = [*draft.get("attachments", []), chip]
    return {**drafts, session_id: {"text": draft.get("text", ""), "attachments": attachments}}


def attachment_chip(filename: str, stored_name: str, preview: UploadPreview | None) -> dict[str, str]:
    """Return what the composer keeps of an attached file: its names, and what its chip previews."""
    shown = preview or UploadPreview()
    return {"filename": filename, "stored_name": stored_name, **shown.public()}


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
