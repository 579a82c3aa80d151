"""What a run's events open and close beside the conversation (no browser)."""

from __future__ import annotations

from types import SimpleNamespace

from agentkit_app.engine import events as ev
from agentkit_app.ui.states.run_dialogs import DIALOG_EVENTS, RunDialogsState, session_in


def blank() -> SimpleNamespace:
    """The state's fields at their defaults, without a Reflex app around them."""
    fields = ("confirm_id", "confirm_command", "confirm_reason", "confirm_deadline", "question_id")
    return SimpleNamespace(
        **dict.fromkeys(fields, ""),
        question="",
        answer_draft="",
        board_round=0,
        board_rounds=0,
        board_speaker="",
        participants=[],
    )


def test_a_confirmation_opens_with_its_command_and_closes_with_its_result():
    dialogs = blank()
    RunDialogsState._show(dialogs, ev.ConfirmationRequest(confirmation_id="c1", command="ls", reason="why"))
    assert (dialogs.confirm_id, dialogs.confirm_command, dialogs.confirm_reason) == ("c1", "ls", "why")
    assert dialogs.confirm_deadline
    RunDialogsState._show(dialogs, ev.ConfirmationResult(confirmation_id="other", approved=True))
    assert dialogs.confirm_id == "c1", "another request's result leaves this one open"
    RunDialogsState._show(dialogs, ev.ConfirmationResult(confirmation_id="c1", approved=True))
    assert dialogs.confirm_id == ""


def test_a_speech_moves_the_meeting_to_its_round_and_speaker():
    dialogs = blank()
    RunDialogsState._show(dialogs, ev.ExpertSpeechChunk(content="x", expert_name="Ada", round=2))
    assert (dialogs.board_speaker, dialogs.board_round) == ("Ada", 2)
    assert isinstance(ev.ExpertSpeechChunk(content="", expert_name="", round=1), DIALOG_EVENTS)


def test_the_session_is_read_from_a_chat_path_only():
    assert session_in("/chat/abc") == "abc"
    assert session_in("/chat/abc/") == "abc"
    assert session_in("/admin") == ""
