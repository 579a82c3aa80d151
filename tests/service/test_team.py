"""Team runs through the service: plan, pipeline, interventions, replanning, checkpoints and resume."""

from __future__ import annotations

import asyncio
import json

import pytest

from agentkit_app.engine import events as ev
from agentkit_app.engine.experts import Expert, UnknownExpertsError
from agentkit_app.engine.interaction import Interaction
from agentkit_app.engine.llm.demo import DemoModel
from agentkit_app.engine.llm.scripted import Call, Reply, ScriptedModel
from agentkit_app.engine.ports import MemoryCheckpointStore
from agentkit_app.engine.team import TeamCommandError, TeamOrchestrator, parse_team_command
from agentkit_app.service.chat import TurnRequest

LEAD = Expert("Lead", "L", "#111", "a lead.", role="lead")
DEV = Expert("Dev", "D", "#222", "a developer.", role="developer")
REV = Expert("Rev", "R", "#333", "a reviewer.", role="reviewer")
PLAN = {"phases": [
    {"id": "a", "name": "Design", "expert": "Dev", "depends_on": [], "goal": "design"},
    {"id": "b", "name": "Build", "expert": "Dev", "depends_on": ["a"], "goal": "build"},
    {"id": "c", "name": "Review", "expert": "Rev", "depends_on": ["b"], "goal": "review"},
]}  # fmt: skip


def test_parse_team_command():
    cmd = parse_team_command("@team:Tech Lead,Developer build a todo app", ["Tech Lead", "Developer"])
    assert cmd.expert_names == ["Tech Lead", "Developer"] and cmd.task == "build a todo app"
    with pytest.raises(TeamCommandError, match="needs a description"):
        parse_team_command("@team   ", [])
    with pytest.raises(UnknownExpertsError, match="Ghost"):
        parse_team_command("@team:Ghost do it", ["Developer"])


def _script(fail_phase: str | None = None, seen: list[Call] | None = None):
    def answer(call: Call) -> Reply:
        if seen is not None:
            seen.append(call)
        if call.purpose == "team.plan":
            return Reply(text="Here is the plan:\n```json\n" + json.dumps(PLAN) + "\n```")
        if call.purpose == "team.replan":
            return Reply(text=json.dumps({"phases": [{"id": "a2", "name": "Design again", "expert": "Dev"}]}))
        if call.purpose == "team.phase":
            phase = call.messages[-1]["content"].split("Your phase: ")[1].split("\n")[0]
            if phase == fail_phase:
                return Reply(error="model timed out")
            if phase == "Review":
                return Reply(text="VERDICT: approve\nLooks good.\nRISK: no tests yet")
            return Reply(text=f"{phase} done")
        return Reply(text="All done: " + call.messages[-1]["content"].count("###").__str__() + " results")

    return answer


def _team(llm, store=None, interaction=None) -> TeamOrchestrator:
    return TeamOrchestrator(
        llm=llm, lead=LEAD, members=[DEV, REV], task="ship it", interaction=interaction or Interaction(),
        checkpoints=store or MemoryCheckpointStore(), run_id="run1",
    )  # fmt: skip


async def test_pipeline_runs_phases_in_order_with_dependencies():
    calls: list[Call] = []
    events = [e async for e in _team(ScriptedModel(_script(seen=calls))).run()]
    formed = next(e for e in events if isinstance(e, ev.TeamFormed))
    assert [p["id"] for p in formed.plan_phases] == ["a", "b", "c"] and formed.lead_expert == "Lead"
    completed = [e.name for e in events if isinstance(e, ev.PhaseCompleted)]
    assert completed == ["Design", "Build", "Review"]
    build_prompt = next(c for c in calls if "Your phase: Build" in c.messages[-1]["content"]).messages[-1]["content"]
    assert "Design done" in build_prompt
    review = next(e for e in events if isinstance(e, ev.ReviewResult))
    assert review.verdict == "approve" and "VERDICT" not in review.content
    assert any(isinstance(e, ev.RiskFlagged) and e.risk == "no tests yet" for e in events)
    assert next(e for e in events if isinstance(e, ev.TeamSynthesis)).content == "All done: 3 results"
    assert events[-1] == ev.TeamDissolved(team_id="run1", status="completed")


async def test_failed_phase_is_replanned_once_and_dependants_move_on():
    events = [e async for e in _team(ScriptedModel(_script(fail_phase="Design"))).run()]
    failed = [e for e in events if isinstance(e, ev.PhaseFailed)]
    assert failed[0].name == "Design" and "timed out" in failed[0].error
    assert any(isinstance(e, ev.Replanning) for e in events)
    update = next(e for e in events if isinstance(e, ev.PlanUpdate))
    assert [p["id"] for p in update.plan_phases] == ["a", "a2", "b", "c"]
    assert [e.name for e in events if isinstance(e, ev.PhaseCompleted)] == ["Design again", "Build", "Review"]
    assert events[-1].status == "completed"


async def test_checkpoint_after_each_phase_and_resume_skips_finished_phases():
    store = MemoryCheckpointStore()
    calls: list[Call] = []
    team = _team(ScriptedModel(_script(seen=calls)), store)
    seen: list[ev.Event] = []
    async for event in team.run():  # the process "dies" right after the first phase
        seen.append(event)
        if isinstance(event, ev.PhaseCompleted):
            break
    state = await store.load("run1")
    assert state and state["results"] == {"a": "Design done"}
    calls.clear()
    resumed = [e async for e in _team(ScriptedModel(_script(seen=calls)), store).run(resume=True)]
    assert [e.name for e in resumed if isinstance(e, ev.PhaseCompleted)] == ["Build", "Review"]
    assert not any(c.purpose == "team.plan" for c in calls)
    assert not any("Your phase: Design" in c.messages[-1]["content"] for c in calls)
    assert resumed[-1].status == "completed"


async def test_resume_without_checkpoint_is_a_clear_error():
    events = [e async for e in _team(ScriptedModel([])).run(resume=True)]
    assert isinstance(events[0], ev.Error) and "no checkpoint" in events[0].message
    assert events[-1] == ev.TeamDissolved(team_id="run1", status="failed")


async def test_planning_failure_dissolves_the_team():
    events = [e async for e in _team(ScriptedModel([Reply(error="no model")])).run()]
    assert isinstance(events[0], ev.Error) and events[-1].status == "failed"


async def test_unreadable_plan_falls_back_to_one_phase_per_member():
    def script(call: Call) -> Reply:
        return Reply(text="I will just wing it") if call.purpose == "team.plan" else Reply(text="ok")

    events = [e async for e in _team(ScriptedModel(script)).run()]
    formed = next(e for e in events if isinstance(e, ev.TeamFormed))
    assert [p["expert"] for p in formed.plan_phases] == ["Dev", "Rev"]


async def test_demo_team_through_service_is_stored_and_intervention_reaches_next_phase(service_factory):
    service = service_factory(DemoModel(word_delay_s=0.01))
    session = await service.create_session("assistant")
    run = await service.start_turn(TurnRequest(session_id=session.session_id, content="@team build a landing page"))
    events: list[ev.Event] = []
    sent = False
    async for event in run.follow():
        events.append(event)
        if isinstance(event, ev.PhaseStarted) and not sent:
            sent = True
            ack = await service.start_turn(TurnRequest(session_id=session.session_id, content="use a dark theme"))
            assert [e.type for e in [x async for x in ack.follow()]] == ["team_intervention_ack"]
    started = [e for e in events if isinstance(e, ev.PhaseStarted)]
    assert any("use a dark theme" in e.interventions for e in started[1:])
    final = next(e for e in events if isinstance(e, ev.FinalAnswer))
    assert "Team result" in final.content
    assert any(isinstance(e, ev.TeamDissolved) and e.status == "completed" for e in events)
    stored = await service.store.get_messages(session.session_id)
    types = [m.metadata.get("message_type") for m in stored]
    assert types[0] == "team_request" and "team_formed" in types and types.count("team_phase") >= 6
    assert types[-1] == "team_final" and stored[-1].agent_name == "team_collab"
    meta = (await service.store.get_session(session.session_id)).metadata
    assert meta["team_run"]["status"] == "completed"


async def test_cancelled_team_is_dissolved(service_factory):
    service = service_factory(DemoModel(word_delay_s=0.05))
    session = await service.create_session("assistant")
    run = await service.start_turn(TurnRequest(session_id=session.session_id, content="@team write docs"))
    events: list[ev.Event] = []
    async for event in run.follow():
        events.append(event)
        if isinstance(event, ev.PhaseStarted):
            service.cancel(session.session_id)
    assert any(isinstance(e, ev.TeamDissolved) and e.status == "cancelled" for e in events)
    await asyncio.sleep(0)
    meta = (await service.store.get_session(session.session_id)).metadata
    assert meta["team_run"]["status"] == "cancelled"
