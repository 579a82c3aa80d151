"""How a guarded UI action ends when the browser must sign in again or the service refuses."""

from __future__ import annotations

import asyncio
import inspect

from agentkit_app.service.errors import NotFound
from agentkit_app.ui.states.auth import LOGIN_ROUTE, SignInRequired, guarded
from agentkit_app.ui.states.chat import ChatState
from agentkit_app.ui.states.composer import ComposerState
from agentkit_app.ui.states.prefs import PrefsState


class FakeState:
    """Just enough of a state for ``refuse``: the UI language, through ``get_state``."""

    async def get_state(self, cls: type) -> object:
        assert cls is PrefsState
        return type("Prefs", (), {"lang": "zh"})()


def outcome(error: Exception | None) -> object:
    @guarded
    async def handler(state: FakeState, value: str) -> str:
        if error is not None:
            raise error
        return value

    return asyncio.run(handler(FakeState(), "done"))  # type: ignore[arg-type]


def test_a_lost_sign_in_goes_to_the_sign_in_page():
    redirect = outcome(SignInRequired())
    assert LOGIN_ROUTE in str(redirect)


def test_a_refusal_becomes_a_toast_in_the_users_language():
    toast = outcome(NotFound("session not found", "session_missing"))
    assert "toast" in str(toast)
    assert "该会话不存在" in str(toast)


def test_an_action_that_succeeds_returns_what_it_returns():
    assert outcome(None) == "done"


def test_a_guarded_handler_keeps_the_arguments_reflex_reads():
    assert list(inspect.signature(ChatState.restore.fn).parameters) == ["self", "session_id"]
    assert inspect.iscoroutinefunction(ComposerState.send.fn)
    spec = ChatState.switch_alternative("m1")
    assert [str(name) for name, _ in spec.args] == ["message_id"]
