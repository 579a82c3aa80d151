"""What a run opens beside the conversation: a command to confirm, the agent's question, a meeting's progress."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

import reflex as rx

from agentkit_app.engine import events as ev
from agentkit_app.service.runtime import get_service
from agentkit_app.ui.i18n import t
from agentkit_app.ui.states.prefs import PrefsState

# the events that open, close or move one of these; a batch without any leaves this state alone
DIALOG_EVENTS = (
    ev.ConfirmationRequest,
    ev.ConfirmationResult,
    ev.AskHuman,
    ev.HumanReply,
    ev.BoardStarted,
    ev.ExpertSpeechChunk,
    ev.RoundSummary,
    ev.BoardConcluded,
)


def session_in(path: str) -> str:
    """Return the session id of a ``/chat/<id>`` path ("" for any other page)."""
    match = re.match(r"^/chat/([^/?#]+)", path)
    return match.group(1) if match else ""


class RunDialogsState(rx.State):
    """The confirmation dialog, the question card and the board meeting's round and speaker.

    The chat state's follower feeds it the run's events (:meth:`_show`); the user answers here.
    """

    confirm_id: str = ""
    confirm_command: str = ""
    confirm_reason: str = ""
    confirm_deadline: str = ""
    question_id: str = ""
    question: str = ""
    answer_draft: str = ""
    board_round: int = 0
    board_rounds: int = 0
    board_speaker: str = ""
    participants: list[dict[str, str]] = []

    def _show(self, event: ev.Event) -> None:
        """Open, close or move what ``event`` concerns."""
        if isinstance(event, ev.ConfirmationRequest):
            self.confirm_id, self.confirm_command, self.confirm_reason = (
                event.confirmation_id,
                event.command,
                event.reason,
            )
            deadline = datetime.fromtimestamp(time.time() + event.timeout_s, UTC)
            self.confirm_deadline = deadline.isoformat()
        elif isinstance(event, ev.ConfirmationResult) and event.confirmation_id == self.confirm_id:
            self.confirm_id = ""
        elif isinstance(event, ev.AskHuman):
            self.question_id, self.question, self.answer_draft = event.request_id, event.question, ""
        elif isinstance(event, ev.HumanReply) and event.request_id == self.question_id:
            self.question_id = ""
        elif isinstance(event, ev.BoardStarted):
            self.board_rounds, self.board_round = event.max_rounds, 1
            self.participants = [
                {"name": e["name"], "avatar": e["avatar"], "color": e["color"]} for e in event.experts
            ]
        elif isinstance(event, ev.ExpertSpeechChunk):
            self.board_speaker, self.board_round = event.expert_name, event.round
        elif isinstance(event, ev.RoundSummary):
            self.board_speaker = event.moderator_name
        elif isinstance(event, ev.BoardConcluded):
            self.board_speaker = ""

    def _close(self) -> None:
        """The run is over: nothing waits for an answer and nobody speaks."""
        self.confirm_id = self.question_id = ""
        self.board_speaker = ""

    def _clear(self) -> None:
        """Another session opens: forget the last one's dialogs and meeting."""
        self._close()
        self.board_round = self.board_rounds = 0
        self.participants = []

    @rx.event
    def set_answer_draft(self, value: str) -> None:
        """Keep the answer to the agent's question."""
        self.answer_draft = value

    @rx.event
    async def answer_confirmation(self, approved: bool):
        """Send the user's approval or denial to the waiting turn."""
        session_id = session_in(str(self.router.url.path))
        if self.confirm_id and not await get_service().answer(session_id, self.confirm_id, approved):
            self.confirm_id = ""
            lang = (await self.get_state(PrefsState)).lang
            return rx.toast.error(t("err_no_confirmation", lang))
        self.confirm_id = ""

    @rx.event
    async def answer_question(self):
        """Send the answer to the agent's question."""
        if self.question_id and self.answer_draft.strip():
            session_id = session_in(str(self.router.url.path))
            await get_service().answer(session_id, self.question_id, self.answer_draft.strip())
            self.question_id = ""
            self.answer_draft = ""
