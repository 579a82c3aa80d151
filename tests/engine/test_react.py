"""The ReAct turn driven by a scripted model."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from agentkit_app.engine import events as ev
from agentkit_app.engine.i18n import t
from agentkit_app.engine.interaction import Interaction
from agentkit_app.engine.llm.base import LLMError
from agentkit_app.engine.llm.fallback import FallbackModel
from agentkit_app.engine.llm.scripted import Reply, ScriptedModel
from agentkit_app.engine.react import TurnSetup, run_direct, run_react
from agentkit_app.engine.tools import ToolContext, ToolRegistry
from agentkit_app.engine.tools.builtin import builtin_tools


def setup_for(model: ScriptedModel, tmp_path: Path, timeout_s: float = 5.0) -> TurnSetup:
    return TurnSetup(
        llm=model,
        tools=ToolRegistry(builtin_tools()),
        tool_context=ToolContext(tmp_path / "up", tmp_path / "scratch", 5.0),
        interaction=Interaction(timeout_s),
    )


async def collect(gen) -> list[ev.Event]:
    return [e async for e in gen]


async def test_tokens_stream_before_the_final_answer(tmp_path):
    model = ScriptedModel(["The answer is forty two"])
    events = await collect(run_react(setup_for(model, tmp_path), [{"role": "user", "content": "q"}]))
    tokens = [e for e in events if isinstance(e, ev.Token)]
    assert len(tokens) == 5
    assert events.index(tokens[0]) < events.index(next(e for e in events if isinstance(e, ev.FinalAnswer)))
    assert events[-1] == ev.FinalAnswer(content="The answer is forty two")


async def test_tool_call_then_answer_reports_steps_and_feeds_the_result_back(tmp_path):
    model = ScriptedModel(
        [Reply("Let me compute", tool_calls=[("calculator", {"expression": "(3+4)*12"})]), "It is 84"]
    )
    events = await collect(run_react(setup_for(model, tmp_path), [{"role": "user", "content": "q"}]))
    steps = [e for e in events if isinstance(e, ev.Step)]
    assert [s.event_type for s in steps] == ["tool_call", "tool_result"]
    assert steps[1].data["result"] == "84"
    assert any(isinstance(e, ev.Thinking) and e.content == "Let me compute" for e in events)
    tool_message = model.calls[1].messages[-1]
    assert tool_message == {"role": "tool", "tool_call_id": steps[0].data["call_id"], "content": "84"}
    assert events[-1].content == "It is 84"


async def test_dangerous_tool_waits_for_approval_and_runs(tmp_path):
    model = ScriptedModel([Reply(tool_calls=[("shell", {"command": "echo hello"})]), "done"])
    setup = setup_for(model, tmp_path)
    seen: list[ev.Event] = []
    async for event in run_react(setup, [{"role": "user", "content": "q"}]):
        seen.append(event)
        if isinstance(event, ev.ConfirmationRequest):
            assert event.command == "echo hello"
            assert setup.interaction.answer(event.confirmation_id, True)
    result = next(e for e in seen if isinstance(e, ev.ConfirmationResult))
    assert result.approved is True
    tool_result = next(e for e in seen if isinstance(e, ev.Step) and e.event_type == "tool_result")
    assert "hello" in tool_result.data["result"]


async def test_denied_tool_is_reported_to_the_model_and_the_turn_goes_on(tmp_path):
    model = ScriptedModel([Reply(tool_calls=[("shell", {"command": "rm -rf /tmp/x"})]), "ok, not running it"])
    setup = setup_for(model, tmp_path)
    events = []
    async for event in run_react(setup, [{"role": "user", "content": "q"}]):
        events.append(event)
        if isinstance(event, ev.ConfirmationRequest):
            setup.interaction.answer(event.confirmation_id, False)
    assert model.calls[1].messages[-1]["content"] == t("tool_denied")
    assert events[-1].content == "ok, not running it"


async def test_confirmation_timeout_counts_as_denied(tmp_path):
    model = ScriptedModel([Reply(tool_calls=[("shell", {"command": "echo hi"})]), "fine"])
    events = await collect(
        run_react(setup_for(model, tmp_path, timeout_s=0.05), [{"role": "user", "content": "q"}])
    )
    assert next(e for e in events if isinstance(e, ev.ConfirmationResult)).approved is False


async def test_ask_human_waits_for_the_reply(tmp_path):
    model = ScriptedModel([Reply(tool_calls=[("ask_human", {"question": "Your name?"})]), "Hi Ada"])
    setup = setup_for(model, tmp_path)
    async for event in run_react(setup, [{"role": "user", "content": "q"}]):
        if isinstance(event, ev.AskHuman):
            assert event.question == "Your name?"
            setup.interaction.answer(event.request_id, "Ada")
    assert model.calls[1].messages[-1]["content"] == "Ada"


async def test_empty_answer_is_replaced_by_the_fixed_text(tmp_path):
    events = await collect(
        run_react(setup_for(ScriptedModel([""]), tmp_path), [{"role": "user", "content": "q"}])
    )
    assert events[-1].content == t("empty_answer")


async def test_unknown_tool_and_bad_arguments_are_told_to_the_model(tmp_path):
    model = ScriptedModel([Reply(tool_calls=[("nope", {})]), "sorry"])
    await collect(run_react(setup_for(model, tmp_path), [{"role": "user", "content": "q"}]))
    assert "no tool named" in model.calls[1].messages[-1]["content"]


async def test_direct_chat_offers_no_tools(tmp_path):
    model = ScriptedModel(["Hello!"])
    events = await collect(run_direct(setup_for(model, tmp_path), [{"role": "user", "content": "hi"}]))
    assert model.calls[0].tools is None
    assert events[-1].content == "Hello!"


async def test_cancel_stops_a_streaming_turn_within_a_second(tmp_path):
    model = ScriptedModel([Reply(" ".join(["word"] * 500), delay=0.05)])
    seen: list[ev.Event] = []

    async def consume():
        async for event in run_react(setup_for(model, tmp_path), [{"role": "user", "content": "q"}]):
            seen.append(event)

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.3)
    task.cancel()
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        await task
    except asyncio.CancelledError:
        pass
    assert loop.time() - started < 1.0
    assert 0 < len(seen) < 500
    assert not any(isinstance(e, ev.FinalAnswer) for e in seen)


async def test_usage_is_reported_per_call(tmp_path):
    setup = setup_for(ScriptedModel(["a b c"]), tmp_path)
    events = await collect(run_react(setup, [{"role": "user", "content": "q"}]))
    usage = next(e for e in events if isinstance(e, ev.Usage))
    assert usage.completion_tokens == 3 and usage.tier == "main"
    assert setup.usage and setup.usage[0]["completion_tokens"] == 3


async def test_the_tier_and_its_error_are_read_from_each_reply(tmp_path):
    main = ScriptedModel([Reply(error="down"), Reply(error="still down")])
    llm = FallbackModel(main, ScriptedModel(["Recovered."]), "Sorry.")
    setup = setup_for(ScriptedModel([]), tmp_path)
    setup.llm = llm
    events = await collect(run_direct(setup, [{"role": "user", "content": "q"}]))
    assert events[-1] == ev.FinalAnswer(content="Recovered.")
    assert setup.tier == "recovery" and setup.error_struct is None
    assert next(e for e in events if isinstance(e, ev.Usage)).tier == "recovery"

    llm.recovery = ScriptedModel([Reply(error="overloaded")])
    events = await collect(run_direct(setup, [{"role": "user", "content": "q"}]))
    assert events[-1] == ev.FinalAnswer(content="Sorry.")
    assert setup.tier == "emergency" and setup.error_struct is not None
    assert [e["message"] for e in setup.error_struct["errors"]] == ["still down", "overloaded"]


async def test_without_fallback_the_turn_fails_where_the_chain_would_move_on(tmp_path):
    recovery = ScriptedModel(["Recovered."])
    setup = setup_for(ScriptedModel([]), tmp_path)
    setup.llm, setup.fallback = FallbackModel(ScriptedModel([Reply(error="down")]), recovery, "Sorry."), False
    with pytest.raises(LLMError, match="^down$"):
        await collect(run_react(setup, [{"role": "user", "content": "q"}]))
    assert recovery.calls == [], "the stand-in is never asked"
