"""Plan-execute driven by a scripted model: phases, refusals, policies, and the demo model."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentkit_app.engine import events as ev
from agentkit_app.engine.interaction import Interaction
from agentkit_app.engine.llm.base import LLMError
from agentkit_app.engine.llm.demo import DemoModel
from agentkit_app.engine.llm.fallback import FallbackModel
from agentkit_app.engine.llm.scripted import Reply, ScriptedModel
from agentkit_app.engine.plan_exec import (
    DEFAULT_POLICY,
    PhasePolicyError,
    parse_phase_policy,
    run_plan_exec,
)
from agentkit_app.engine.react import TurnSetup
from agentkit_app.engine.tools import ToolContext, ToolRegistry
from agentkit_app.engine.tools.builtin import builtin_tools

KNOWN = [t.name for t in builtin_tools()]
AGENT_TOOLS = ["calculator", "current_time", "read_file", "shell", "ask_human"]


def setup_for(model, tmp_path: Path, tools: list[str] = AGENT_TOOLS) -> TurnSetup:
    return TurnSetup(
        llm=model,
        tools=ToolRegistry(builtin_tools()).only(tools),
        tool_context=ToolContext(tmp_path / "up", tmp_path / "scratch", 5.0),
        interaction=Interaction(5.0),
    )


def conversation(question: str = "what is (3 + 4) * 12?") -> list[dict]:
    return [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": question},
    ]


async def collect(gen) -> list[ev.Event]:
    return [e async for e in gen]


def offered(call) -> list[str]:
    return [t["function"]["name"] for t in call.tools or []]


def changes(events: list[ev.Event]) -> list[tuple[str, str | None]]:
    return [(e.phase, e.previous) for e in events if isinstance(e, ev.PhaseChanged)]


async def test_phases_advance_in_order_with_the_right_tools_and_prompt(tmp_path):
    model = ScriptedModel(
        [
            Reply("Plan: compute, check, answer.", tool_calls=[("advance_phase", {})]),
            Reply(tool_calls=[("calculator", {"expression": "(3+4)*12"})]),
            Reply(tool_calls=[("advance_phase", {})]),
            Reply(tool_calls=[("calculator", {"expression": "84/12"})]),
            Reply("Checked.", tool_calls=[("advance_phase", {})]),
            "It is 84.",
        ]
    )
    events = await collect(run_plan_exec(setup_for(model, tmp_path), conversation(), DEFAULT_POLICY))

    assert changes(events) == [
        ("plan", None),
        ("execute", "plan"),
        ("verify", "execute"),
        ("answer", "verify"),
    ]
    assert isinstance(events[0], ev.PhaseChanged)
    assert events[-1] == ev.FinalAnswer(content="It is 84.")
    assert not any(isinstance(e, ev.PhaseViolation) for e in events)
    assert offered(model.calls[0]) == ["advance_phase"]
    assert offered(model.calls[1]) == [*AGENT_TOOLS, "advance_phase"]
    assert offered(model.calls[3]) == ["calculator", "current_time", "read_file", "advance_phase"]
    assert model.calls[5].tools is None, "the last phase offers no tool, not even advance_phase"
    prompts = [call.messages[0]["content"] for call in model.calls]
    assert all(p.startswith("You are a helpful assistant.") for p in prompts)
    assert "plan -> execute -> verify -> answer" in prompts[0]
    assert [p.split("Current phase: ")[1].split()[0] for p in prompts] == [
        "plan",
        "execute",
        "execute",
        "verify",
        "verify",
        "answer",
    ]
    results = [e.data["result"] for e in events if isinstance(e, ev.Step) and e.event_type == "tool_result"]
    assert results[1] == "84" and results[3] == "7"


async def test_a_forbidden_tool_is_refused_and_the_model_recovers(tmp_path):
    model = ScriptedModel(
        [
            Reply(tool_calls=[("calculator", {"expression": "1+1"})]),
            Reply("I will plan first.", tool_calls=[("advance_phase", {})]),
            Reply(tool_calls=[("calculator", {"expression": "1+1"})]),
            Reply(tool_calls=[("advance_phase", {})]),
            Reply(tool_calls=[("advance_phase", {})]),
            "2",
        ]
    )
    events = await collect(run_plan_exec(setup_for(model, tmp_path), conversation("1+1?"), DEFAULT_POLICY))

    violations = [e for e in events if isinstance(e, ev.PhaseViolation)]
    assert violations == [ev.PhaseViolation(phase="plan", tool="calculator", allowed=["advance_phase"])]
    refusal = model.calls[1].messages[-1]
    assert refusal["role"] == "tool"
    assert "calculator may not be used in the plan phase" in refusal["content"]
    assert "advance_phase" in refusal["content"]
    results = [e.data["result"] for e in events if isinstance(e, ev.Step) and e.event_type == "tool_result"]
    assert results[0].startswith("refused:") and "2" in results
    assert events[-1].content == "2"
    assert [p for p, _ in changes(events)] == ["plan", "execute", "verify", "answer"]


async def test_a_dangerous_tool_outside_its_phase_is_refused_without_asking(tmp_path):
    model = ScriptedModel(
        [
            Reply(tool_calls=[("advance_phase", {})]),
            Reply(tool_calls=[("advance_phase", {})]),
            Reply(tool_calls=[("shell", {"command": "rm -rf /"})]),
            Reply(tool_calls=[("advance_phase", {})]),
            "done",
        ]
    )
    events = await collect(run_plan_exec(setup_for(model, tmp_path), conversation(), DEFAULT_POLICY))
    assert not any(isinstance(e, ev.ConfirmationRequest) for e in events)
    violation = next(e for e in events if isinstance(e, ev.PhaseViolation))
    assert violation.phase == "verify" and violation.tool == "shell"
    assert violation.allowed == ["calculator", "current_time", "read_file", "advance_phase"]


async def test_advancing_past_the_last_phase_is_refused(tmp_path):
    policy = parse_phase_policy([{"name": "only", "tools": ["calculator"]}], KNOWN)
    model = ScriptedModel([Reply(tool_calls=[("advance_phase", {})]), "fine"])
    events = await collect(run_plan_exec(setup_for(model, tmp_path), conversation(), policy))
    assert changes(events) == [("only", None)]
    assert offered(model.calls[0]) == ["calculator"]
    assert next(e for e in events if isinstance(e, ev.PhaseViolation)).allowed == ["calculator"]
    assert "last phase" in model.calls[1].messages[-1]["content"]
    assert events[-1].content == "fine"


async def test_a_reply_without_tool_calls_before_the_last_phase_moves_on(tmp_path):
    model = ScriptedModel(["1. add the numbers", "Nothing to run.", "Looks right.", "The sum is 2."])
    events = await collect(run_plan_exec(setup_for(model, tmp_path), conversation("1+1?"), DEFAULT_POLICY))
    assert [p for p, _ in changes(events)] == ["plan", "execute", "verify", "answer"]
    assert [e.content for e in events if isinstance(e, ev.Thinking)][0] == "1. add the numbers"
    assert events[-1] == ev.FinalAnswer(content="The sum is 2.")
    assert any(m.get("content") == "1. add the numbers" for m in model.calls[1].messages)


async def test_a_custom_policy_from_config_text(tmp_path):
    config = """
    - name: research
      tools: [current_time]
      description: Find out what you need.
    - name: respond
      tools: []
    """
    policy = parse_phase_policy(config, KNOWN)
    assert policy.names == ["research", "respond"]
    model = ScriptedModel(
        [Reply(tool_calls=[("current_time", {})]), Reply(tool_calls=[("advance_phase", {})]), "Noon."]
    )
    events = await collect(run_plan_exec(setup_for(model, tmp_path), conversation("time?"), policy))
    assert changes(events) == [("research", None), ("respond", "research")]
    assert offered(model.calls[0]) == ["current_time", "advance_phase"]
    assert "research: Find out what you need." in model.calls[0].messages[0]["content"]
    assert events[-1].content == "Noon."


def test_policy_parsing_accepts_json_and_keeps_the_default_when_unset():
    assert parse_phase_policy(None, KNOWN) is DEFAULT_POLICY
    assert parse_phase_policy("  ", KNOWN) is DEFAULT_POLICY
    policy = parse_phase_policy('[{"name": "go", "tools": ["*"]}, {"name": "say"}]', KNOWN)
    assert [(p.name, p.tools) for p in policy.phases] == [("go", ("*",)), ("say", ())]


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ([], "non-empty list"),
        ("[]", "non-empty list"),
        ({"name": "plan"}, "non-empty list"),
        ("[oops", "not valid JSON or YAML"),
        ([{"name": "plan", "tools": ["teleport"]}], "unknown tool 'teleport' in phase 'plan'"),
        ([{"name": "a"}, {"name": "a"}], "duplicate phase name 'a'"),
        ([{"tools": []}], "phase 1 has no name"),
        ([{"name": "a", "tools": "calculator"}], "must be a list of tool names"),
        ([{"name": "a", "tool": ["calculator"]}], "unknown keys: tool"),
        (["plan"], "phase 1 is not a mapping"),
    ],
)
def test_a_bad_policy_is_a_phase_policy_error(raw, problem):
    with pytest.raises(PhasePolicyError) as raised:
        parse_phase_policy(raw, KNOWN)
    assert str(raised.value).startswith("phase policy error: ")
    assert problem in str(raised.value)


async def test_the_default_policy_keeps_to_the_agents_tools(tmp_path):
    model = ScriptedModel([Reply(tool_calls=[("advance_phase", {})])] * 3 + [Reply("ok")])
    events = await collect(
        run_plan_exec(setup_for(model, tmp_path, ["calculator", "shell"]), conversation(), DEFAULT_POLICY)
    )
    assert offered(model.calls[1]) == ["calculator", "shell", "advance_phase"]
    assert offered(model.calls[2]) == ["calculator", "advance_phase"], "verify: the agent has no current_time"
    assert events[-1].content == "ok"


async def test_the_demo_model_plans_executes_verifies_and_answers(tmp_path):
    events = await collect(run_plan_exec(setup_for(DemoModel(0), tmp_path), conversation(), DEFAULT_POLICY))
    assert [p for p, _ in changes(events)] == ["plan", "execute", "verify", "answer"]
    assert not any(isinstance(e, ev.PhaseViolation) for e in events)
    calls = [e.data["tool"] for e in events if isinstance(e, ev.Step) and e.event_type == "tool_call"]
    assert calls == ["advance_phase", "calculator", "advance_phase", "advance_phase"]
    thoughts = [e.content for e in events if isinstance(e, ev.Thinking)]
    assert thoughts[0].startswith("Plan: use the calculator tool")
    assert events[-1].content == "The result is **84**."


async def test_the_demo_model_answers_a_question_that_needs_no_tool(tmp_path):
    events = await collect(
        run_plan_exec(setup_for(DemoModel(0), tmp_path), conversation("tell me a joke"), DEFAULT_POLICY)
    )
    assert [p for p, _ in changes(events)] == ["plan", "execute", "verify", "answer"]
    assert "(offline demo model)" in events[-1].content


async def test_plan_exec_takes_no_fallback_answer(tmp_path):
    recovery = ScriptedModel(["Recovered."])
    setup = setup_for(FallbackModel(ScriptedModel([Reply(error="down")]), recovery, "Sorry."), tmp_path)
    events: list[ev.Event] = []
    with pytest.raises(LLMError, match="^down$"):
        async for event in run_plan_exec(setup, conversation(), DEFAULT_POLICY):
            events.append(event)
    assert recovery.calls == [] and not any(isinstance(e, ev.Token) for e in events)
