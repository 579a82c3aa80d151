"""Who gets the shell: a turn offers it only to principals allowed to run commands, and only with a sandbox."""

from __future__ import annotations

import logging
from dataclasses import replace

from agentkit_app.api.sessions import list_agents
from agentkit_app.engine import events as ev
from agentkit_app.engine.llm.scripted import Call, Reply, ScriptedModel
from agentkit_app.engine.tools.sandbox import ShellSandbox
from agentkit_app.service.access import Principal
from agentkit_app.service.chat import ChatService, TurnRequest
from agentkit_app.service.runtime import build_sandbox
from agentkit_app.settings import Settings

REGULAR = Principal(
    role="user", user_id="user-1", department_id="dept-1", username="ana", shell_allowed=False
)
TRUSTED = replace(REGULAR, shell_allowed=True)


def wants_the_shell(call: Call) -> Reply:
    """Ask for the shell first, whatever tools are offered; then answer with what the tool said."""
    if call.purpose == "title":
        return Reply(text="Shell")
    if call.messages[-1]["role"] == "tool":
        return Reply(text=f"tool said: {call.messages[-1]['content']}")
    return Reply(tool_calls=[("shell", {"command": "ls; echo pwned > pwned.txt; echo ran"})])


async def turn(
    service: ChatService, principal: Principal, approve: bool = True
) -> tuple[str, list[ev.Event]]:
    """Run one turn in a new session of the assistant (which lists the shell), approving any command."""
    session = await service.create_session("assistant", principal=principal)
    events = []
    request = TurnRequest(session_id=session.session_id, content="run something", principal=principal)
    async for event in service.run_turn(request):
        events.append(event)
        if isinstance(event, ev.ConfirmationRequest):
            assert await service.answer(session.session_id, event.confirmation_id, approve)
    return session.session_id, events


def offered(call: Call) -> list[str]:
    return [tool["function"]["name"] for tool in call.tools or []]


async def test_a_user_without_the_shell_is_not_offered_it_and_nothing_runs(service_factory, tmp_path):
    llm = ScriptedModel(wants_the_shell)
    service = service_factory(llm)
    session_id, events = await turn(service, REGULAR)
    assert "shell" not in offered(llm.calls[0]) and "calculator" in offered(llm.calls[0])
    assert not any(isinstance(e, ev.ConfirmationRequest) for e in events)
    final = next(e for e in events if isinstance(e, ev.FinalAnswer))
    assert final.content == "tool said: error: there is no tool named 'shell'"
    assert not (tmp_path / "scratch" / session_id / "pwned.txt").exists()


async def test_an_allowed_user_runs_the_shell_in_the_sandbox_in_the_sessions_own_scratch(
    service_factory, tmp_path
):
    llm = ScriptedModel(wants_the_shell)
    service = service_factory(llm)
    session_id, events = await turn(service, TRUSTED)
    assert "shell" in offered(llm.calls[0])
    assert any(isinstance(e, ev.ConfirmationRequest) for e in events)
    final = next(e for e in events if isinstance(e, ev.FinalAnswer))
    assert final.content == "tool said: exit code 0\nran"
    assert (tmp_path / "scratch" / session_id / "pwned.txt").read_text() == "pwned\n"
    other_id, events = await turn(service, TRUSTED)
    final = next(e for e in events if isinstance(e, ev.FinalAnswer))
    assert other_id != session_id
    assert final.content == "tool said: exit code 0\nran", "the other session's ls does not list its file"


async def test_without_a_sandbox_nobody_is_offered_the_shell(service_factory, tmp_path):
    llm = ScriptedModel(wants_the_shell)
    service = service_factory(llm)
    no_bwrap = ShellSandbox(bwrap=str(tmp_path / "missing" / "bwrap"))
    service.config.tool_context = replace(service.config.tool_context, sandbox=no_bwrap)
    for principal in (TRUSTED, Principal.anonymous()):
        session_id, events = await turn(service, principal)
        assert "shell" not in offered(llm.calls[-2])
        assert not any(isinstance(e, ev.ConfirmationRequest) for e in events)
        assert not (tmp_path / "scratch" / session_id / "pwned.txt").exists()


async def test_the_agent_list_shows_the_shell_only_to_whom_it_is_offered(service_factory, tmp_path):
    service = service_factory(ScriptedModel(wants_the_shell))
    tools = {a.name: a.tools for a in await list_agents(service, TRUSTED)}
    assert "shell" in tools["assistant"] and "shell" in tools["coder"]
    tools = {a.name: a.tools for a in await list_agents(service, REGULAR)}
    assert "shell" not in tools["assistant"] and "read_file" in tools["assistant"]
    no_bwrap = ShellSandbox(bwrap=str(tmp_path / "missing" / "bwrap"))
    service.config.tool_context = replace(service.config.tool_context, sandbox=no_bwrap)
    tools = {a.name: a.tools for a in await list_agents(service, Principal.anonymous())}
    assert "shell" not in tools["assistant"] and "shell" not in tools["coder"]


def test_the_service_has_no_sandbox_and_says_so_where_bwrap_is_missing(monkeypatch, tmp_path, caplog):
    settings = Settings(shell_max_processes=48)
    sandbox = build_sandbox(settings)
    assert sandbox is not None and sandbox.max_processes == 48
    monkeypatch.setenv("PATH", str(tmp_path))  # no bwrap to be found
    with caplog.at_level(logging.WARNING):
        assert build_sandbox(settings) is None
    assert "the shell tool is off" in caplog.text and "bubblewrap" in caplog.text


async def test_deleting_a_session_for_good_removes_what_its_commands_left(service_factory, tmp_path):
    service = service_factory(ScriptedModel(wants_the_shell))
    session_id, _ = await turn(service, TRUSTED)
    kept_id, _ = await turn(service, TRUSTED)
    assert (tmp_path / "scratch" / session_id / "pwned.txt").exists()
    await service.delete_session(session_id, TRUSTED)
    assert not (tmp_path / "scratch" / session_id).exists()
    assert (tmp_path / "scratch" / kept_id / "pwned.txt").exists(), "another session's files stay"
