"""The team engine with the scripted model: plan checks, the dependency graph run concurrently,
replanning, interventions, cancellation, checkpoints and resume."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest

from agentkit_app.engine import events as ev
from agentkit_app.engine.experts import Expert, UnknownExpertsError
from agentkit_app.engine.interaction import Interaction
from agentkit_app.engine.llm.scripted import Call, Reply, ScriptedModel
from agentkit_app.engine.ports import MemoryCheckpointStore
from agentkit_app.engine.team import TeamOrchestrator
from agentkit_app.engine.team_plan import NO_PLAN, TeamCommandError, check_plan, parse_team_command

LEAD = Expert("Lead", "L", "#111", "a lead.", role="lead")
DEV = Expert("Dev", "D", "#222", "a developer.", role="developer")
REV = Expert("Rev", "R", "#333", "a reviewer.", role="reviewer")


def _phase(
    phase_id: str, name: str, expert: str = "Dev", depends_on: list[str] | None = None
) -> dict[str, Any]:
    return {
        "id": phase_id,
        "name": name,
        "expert": expert,
        "depends_on": depends_on or [],
        "goal": name.lower(),
    }


PIPELINE = [
    _phase("a", "Design"),
    _phase("b", "Build", depends_on=["a"]),
    _phase("c", "Review", "Rev", ["b"]),
]
DIAMOND = [
    _phase("a", "Design"),
    _phase("b", "Backend", depends_on=["a"]),
    _phase("c", "Frontend", depends_on=["a"]),
    _phase("d", "Review", "Rev", ["b", "c"]),
]


def _plan_text(phases: list[dict[str, Any]]) -> str:
    return "Here is the plan:\n```json\n" + json.dumps({"phases": phases}) + "\n```"


def _phase_name(call: Call) -> str:
    return call.messages[-1]["content"].split("Your phase: ")[1].split("\n")[0]


def _script(
    plan: list[dict[str, Any]],
    *,
    fix: list[dict[str, Any]] | str | None = None,
    replan: list[dict[str, Any]] | str | None = None,
    fail: set[str] | None = None,
    delays: dict[str, float] | None = None,
):
    """Answer every team purpose; phases answer '<name> done' (one word per delay), or fail."""

    def answer(call: Call) -> Reply:
        if call.purpose == "team.plan":
            return Reply(text=_plan_text(plan))
        if call.purpose in ("team.plan_fix", "team.replan"):
            given = fix if call.purpose == "team.plan_fix" else replan
            return Reply(text=given if isinstance(given, str) else _plan_text(given or []))
        if call.purpose == "team.phase":
            name = _phase_name(call)
            delay = (delays or {}).get(name, 0.0)
            if name in (fail or set()):
                return Reply(error=f"{name} timed out", delay=delay)
            if name == "Review":
                return Reply(text="VERDICT: approve\nLooks good.\nRISK: no tests yet")
            return Reply(text=f"{name}-done", delay=delay)
        return Reply(text="All done: " + str(call.messages[-1]["content"].count("###")) + " results")

    return answer


def _team(
    llm: ScriptedModel, store: MemoryCheckpointStore | None = None, interaction: Interaction | None = None
):
    return TeamOrchestrator(
        llm=llm,
        lead=LEAD,
        members=[DEV, REV],
        task="ship it",
        interaction=interaction or Interaction(),
        checkpoints=store or MemoryCheckpointStore(),
        run_id="run1",
    )


def _phase_calls(llm: ScriptedModel) -> list[str]:
    return [_phase_name(c) for c in llm.calls if c.purpose == "team.phase"]


def test_parse_team_command():
    cmd = parse_team_command("@team:Tech Lead,Developer build a todo app", ["Tech Lead", "Developer"])
    assert cmd.expert_names == ["Tech Lead", "Developer"] and cmd.task == "build a todo app"
    with pytest.raises(TeamCommandError, match="needs a description"):
        parse_team_command("@team   ", [])
    with pytest.raises(UnknownExpertsError, match="Ghost"):
        parse_team_command("@team:Ghost do it", ["Developer"])


def test_a_plan_longer_than_eight_phases_is_refused():
    long = {"phases": [_phase(f"p{i}", f"Step {i}", depends_on=[f"p{i - 1}"] if i else []) for i in range(9)]}
    assert check_plan(long, ["Dev"])[1] == ["the plan has 9 phases; at most 8 are allowed"]
    assert check_plan({"phases": long["phases"][:8]}, ["Dev"])[1] == []


def test_check_plan_names_every_problem():
    bad = {
        "phases": [
            _phase("a", "Design", "Ghost"),
            _phase("b", "Build", depends_on=["zz"]),
            _phase("a", "Again"),
        ]
    }
    phases, problems = check_plan(bad, ["Dev", "Rev"])
    assert [p["id"] for p in phases] == ["a", "b", "a"]
    assert any("unknown expert 'Ghost'" in p for p in problems)
    assert any("depends on 'zz'" in p for p in problems)
    assert any("'a' is used by more than one phase" in p for p in problems)
    cycle = {
        "phases": [
            _phase("a", "A", depends_on=["c"]),
            _phase("b", "B", depends_on=["a"]),
            _phase("c", "C", depends_on=["b"]),
        ]
    }
    assert check_plan(cycle, ["Dev"])[1] == [
        "the dependencies form a cycle: a -> c -> b -> a (each needs the next)"
    ]
    assert check_plan({"phases": [_phase("a", "A", "dev")]}, ["Dev"]) == (
        [{**_phase("a", "A"), "status": "pending"}],
        [],
    )
    assert check_plan(None, ["Dev"]) == ([], [NO_PLAN])
    assert check_plan({"phases": [_phase("r1", "Redo", depends_on=["a"])]}, ["Dev"], finished={"a"})[1] == []
    assert (
        "used by more than one" in check_plan({"phases": [_phase("a", "Redo")]}, ["Dev"], taken={"a"})[1][0]
    )


async def test_pipeline_runs_phases_in_order_with_dependencies():
    llm = ScriptedModel(_script(PIPELINE))
    events = [e async for e in _team(llm).run()]
    formed = next(e for e in events if isinstance(e, ev.TeamFormed))
    assert [p["id"] for p in formed.plan_phases] == ["a", "b", "c"] and formed.lead_expert == "Lead"
    assert [e.name for e in events if isinstance(e, ev.PhaseCompleted)] == ["Design", "Build", "Review"]
    build_prompt = next(c for c in llm.calls if "Your phase: Build" in c.messages[-1]["content"]).messages[
        -1
    ]["content"]
    assert "Design-done" in build_prompt
    steps = [e for e in events if isinstance(e, ev.ExpertStep)]
    assert [(s.expert_name, s.step) for s in steps] == [("Dev", 1), ("Dev", 2), ("Rev", 3)]
    assert "Build: build" in steps[1].content
    review = next(e for e in events if isinstance(e, ev.ReviewResult))
    assert review.verdict == "approve" and "VERDICT" not in review.content
    assert any(isinstance(e, ev.RiskFlagged) and e.risk == "no tests yet" for e in events)
    assert next(e for e in events if isinstance(e, ev.TeamSynthesis)).content == "All done: 3 results"
    assert events[-1] == ev.TeamDissolved(team_id="run1", status="completed")


@pytest.mark.parametrize(
    ("bad", "problem"),
    [
        ([_phase("a", "Design", "Ghost"), _phase("b", "Build", depends_on=["a"])], "unknown expert 'Ghost'"),
        (
            [_phase("a", "Design", depends_on=["b"]), _phase("b", "Build", depends_on=["a"])],
            "form a cycle: a -> b -> a",
        ),
        (
            [_phase("a", "Design"), _phase("b", "Build", depends_on=["x"])],
            "depends on 'x', which is not a phase",
        ),
    ],
    ids=["unknown-expert", "cycle", "missing-dependency"],
)
async def test_invalid_plan_is_fixed_by_the_lead_once(bad: list[dict[str, Any]], problem: str):
    llm = ScriptedModel(_script(bad, fix=PIPELINE))
    events = [e async for e in _team(llm).run()]
    purposes = [c.purpose for c in llm.calls]
    assert purposes[:2] == ["team.plan", "team.plan_fix"] and purposes.count("team.plan_fix") == 1
    fix_prompt = llm.calls[1].messages[-1]["content"]
    assert problem in fix_prompt and "Your plan cannot run" in fix_prompt
    assert any(isinstance(e, ev.PlanStep) and problem in e.content for e in events)
    formed = next(e for e in events if isinstance(e, ev.TeamFormed))
    assert [p["id"] for p in formed.plan_phases] == ["a", "b", "c"]
    assert _phase_calls(llm) == ["Design", "Build", "Review"]
    assert events[-1] == ev.TeamDissolved(team_id="run1", status="completed")


async def test_plan_still_invalid_after_the_fix_dissolves_the_team_with_an_error():
    cycle = [_phase("a", "Design", depends_on=["b"]), _phase("b", "Build", depends_on=["a"])]
    llm = ScriptedModel(_script(cycle, fix=[_phase("a", "Design", "Ghost")]))
    events = [e async for e in _team(llm).run()]
    error = next(e for e in events if isinstance(e, ev.Error))
    assert (
        error.code == "invalid"
        and "plan cannot run" in error.message
        and "unknown expert 'Ghost'" in error.message
    )
    assert not any(isinstance(e, ev.TeamFormed | ev.PhaseStarted) for e in events)
    assert _phase_calls(llm) == [] and [c.purpose for c in llm.calls] == ["team.plan", "team.plan_fix"]
    assert events[-1] == ev.TeamDissolved(team_id="run1", status="failed")


async def test_invalid_plan_with_an_unreadable_fix_keeps_the_first_problems():
    llm = ScriptedModel(_script([_phase("a", "Design", "Ghost")], fix="sorry, no idea"))
    events = [e async for e in _team(llm).run()]
    assert "unknown expert 'Ghost'" in next(e for e in events if isinstance(e, ev.Error)).message
    assert events[-1].status == "failed"


async def test_unreadable_plan_and_fix_fall_back_to_one_phase_per_member():
    llm = ScriptedModel(_script([], fix="I will just wing it"))
    events = [e async for e in _team(llm).run()]
    assert [c.purpose for c in llm.calls][:2] == ["team.plan", "team.plan_fix"]
    formed = next(e for e in events if isinstance(e, ev.TeamFormed))
    assert [p["expert"] for p in formed.plan_phases] == ["Dev", "Rev"]
    assert formed.plan_phases[1]["depends_on"] == ["p1"]
    assert events[-1].status == "completed"


async def test_planning_failure_dissolves_the_team():
    events = [e async for e in _team(ScriptedModel([Reply(error="no model")])).run()]
    assert isinstance(events[0], ev.Error) and events[0].code == "llm" and events[-1].status == "failed"


async def test_diamond_runs_independent_phases_concurrently():
    delays = {"Design": 0.05, "Backend": 0.4, "Frontend": 0.4}
    llm = ScriptedModel(_script(DIAMOND, delays=delays))
    started = time.monotonic()
    events = [e async for e in _team(llm).run()]
    elapsed = time.monotonic() - started
    sequential = sum(delays.values())  # Review answers at once
    assert elapsed < 0.75 * sequential, f"{elapsed:.2f}s is not below 0.75 x {sequential:.2f}s"
    order = [(e.type, e.phase_id) for e in events if isinstance(e, ev.PhaseStarted | ev.PhaseCompleted)]
    middle = order[2:6]
    assert order[:2] == [("phase_started", "a"), ("phase_completed", "a")]
    assert middle[:2] == [("phase_started", "b"), ("phase_started", "c")]  # both run before either ends
    assert set(middle[2:]) == {("phase_completed", "b"), ("phase_completed", "c")}
    assert order[6:] == [("phase_started", "d"), ("phase_completed", "d")]
    review = next(c for c in llm.calls if c.purpose == "team.phase" and _phase_name(c) == "Review")
    assert (
        "Backend-done" in review.messages[-1]["content"] and "Frontend-done" in review.messages[-1]["content"]
    )
    assert {e.phase_id for e in events if isinstance(e, ev.ExpertResultChunk)} == {"a", "b", "c", "d"}
    assert events[-1].status == "completed"


async def test_failed_phase_is_replanned_once_and_dependants_wait_on_the_replacement():
    replacement = [_phase("b2", "Backend again", depends_on=["a"])]
    llm = ScriptedModel(_script(DIAMOND, replan=replacement, fail={"Backend"}))
    store = MemoryCheckpointStore()
    events = [e async for e in _team(llm, store).run()]
    failed = next(e for e in events if isinstance(e, ev.PhaseFailed))
    assert failed.phase_id == "b" and "timed out" in failed.error
    assert next(e for e in events if isinstance(e, ev.Replanning)).reason == "Backend: Backend timed out"
    replan_prompt = next(c for c in llm.calls if c.purpose == "team.replan").messages[-1]["content"]
    assert "Phase 'b' (Backend) failed" in replan_prompt and "a (Design)" in replan_prompt
    update = next(e for e in events if isinstance(e, ev.PlanUpdate))
    assert [p["id"] for p in update.plan_phases] == ["a", "b", "b2", "c", "d"]
    assert next(p for p in update.plan_phases if p["id"] == "d")["depends_on"] == ["b2", "c"]
    completed = [e.phase_id for e in events if isinstance(e, ev.PhaseCompleted)]
    assert set(completed) == {"a", "c", "b2", "d"} and completed[-1] == "d"
    assert events[-1].status == "completed"
    state = await store.load("run1")
    assert state and state["failed"] == {"b": "Backend timed out"} and state["replans"] == 1


async def test_dependants_of_a_failed_phase_fail_when_the_replan_gives_nothing():
    llm = ScriptedModel(_script(DIAMOND, replan="no idea", fail={"Backend"}))
    events = [e async for e in _team(llm).run()]
    failed = {e.phase_id: e.error for e in events if isinstance(e, ev.PhaseFailed)}
    assert set(failed) == {"b", "d"}
    assert failed["d"] == "not run: it needs 'Backend' (b), which failed"
    assert any(isinstance(e, ev.CollaborationNotice) and "could not replan" in e.content for e in events)
    assert [c.purpose for c in llm.calls].count("team.replan") == 1
    assert not any(isinstance(e, ev.PhaseStarted) and e.phase_id == "d" for e in events)
    synthesis = next(e for e in events if isinstance(e, ev.TeamSynthesis))
    assert synthesis.content == "All done: 2 results"  # Design and Frontend
    assert events[-1].status == "completed"


async def test_only_one_replan_per_run():
    llm = ScriptedModel(
        _script(
            DIAMOND, replan=[_phase("b2", "Backend again", depends_on=["a"])], fail={"Backend", "Frontend"}
        )
    )
    events = [e async for e in _team(llm).run()]
    assert sum(isinstance(e, ev.Replanning) for e in events) == 1
    assert {e.phase_id for e in events if isinstance(e, ev.PhaseFailed)} == {"b", "c", "d"}


async def test_intervention_goes_to_every_phase_that_starts_next():
    interaction = Interaction()
    llm = ScriptedModel(_script(DIAMOND, delays={"Design": 0.05}))
    team = _team(llm, interaction=interaction)
    events: list[ev.Event] = []
    async for event in team.run():
        events.append(event)
        if isinstance(event, ev.PhaseStarted) and event.phase_id == "a":
            interaction.post("use a dark theme")
    started = {e.phase_id: e.interventions for e in events if isinstance(e, ev.PhaseStarted)}
    assert started == {"a": [], "b": ["use a dark theme"], "c": ["use a dark theme"], "d": []}
    prompts = {_phase_name(c): c.messages[-1]["content"] for c in llm.calls if c.purpose == "team.phase"}
    assert "New since the last phase: use a dark theme" in prompts["Backend"]
    assert (
        "New since the last phase" in prompts["Frontend"]
        and "New since the last phase" not in prompts["Review"]
    )
    assert "- use a dark theme" in prompts["Review"]  # every later phase still reads it
    assert team.state["interventions"] == ["use a dark theme"]


async def test_cancelling_the_consumer_cancels_every_running_phase():
    store = MemoryCheckpointStore()
    llm = ScriptedModel(_script(DIAMOND, delays={"Backend": 5.0, "Frontend": 5.0}))
    team = _team(llm, store)
    seen: list[ev.Event] = []
    both_running = asyncio.Event()

    async def consume() -> None:
        async for event in team.run():
            seen.append(event)
            if sum(isinstance(e, ev.PhaseStarted) for e in seen) == 3:
                both_running.set()

    consumer = asyncio.create_task(consume())
    await asyncio.wait_for(both_running.wait(), 5)
    await asyncio.sleep(0.05)  # the phase tasks are inside their model calls
    phase_tasks = [t for t in asyncio.all_tasks() if t.get_name().startswith("team-run1-")]
    assert len(phase_tasks) == 2
    consumer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await consumer
    assert all(t.cancelled() for t in phase_tasks)
    assert [t for t in asyncio.all_tasks() if t is not asyncio.current_task()] == []
    assert not any(isinstance(e, ev.TeamDissolved) for e in seen)  # the service announces the cancel
    state = await store.load("run1")
    assert state and state["status"] == "cancelled" and state["results"] == {"a": "Design-done"}


async def test_checkpoint_after_each_phase_and_resume_skips_finished_phases():
    store = MemoryCheckpointStore()
    saved: list[dict[str, Any]] = []
    save = store.save

    async def recording_save(run_id: str, state: dict[str, Any]) -> None:
        saved.append(state)
        await save(run_id, state)

    store.save = recording_save  # type: ignore[method-assign]
    first = _team(ScriptedModel(_script(DIAMOND, delays={"Backend": 5.0})), store).run()
    async for event in first:  # the process "dies" while Backend runs
        if isinstance(event, ev.PhaseCompleted) and event.phase_id == "c":
            break
    await first.aclose()
    finished = [sorted(s["results"]) for s in saved]
    assert finished[:3] == [[], ["a"], ["a", "c"]]  # planned, then one save per finished phase
    state = await store.load("run1")
    assert (
        state
        and state["task"] == "ship it"
        and state["lead"] == "Lead"
        and state["members"] == ["Dev", "Rev"]
    )
    assert {p["id"]: p["status"] for p in state["plan"]} == {
        "a": "completed",
        "b": "running",
        "c": "completed",
        "d": "pending",
    }

    llm = ScriptedModel(_script(DIAMOND))
    resumed = [e async for e in _team(llm, store).run(resume=True)]
    assert isinstance(resumed[0], ev.CollaborationNotice) and "2 finished" in resumed[0].content
    assert [e.phase_id for e in resumed if isinstance(e, ev.PhaseCompleted)] == ["b", "d"]
    assert _phase_calls(llm) == ["Backend", "Review"]
    assert not any(c.purpose.startswith("team.plan") for c in llm.calls)
    review = next(c for c in llm.calls if c.purpose == "team.phase" and _phase_name(c) == "Review")
    assert "Frontend-done" in review.messages[-1]["content"]
    assert resumed[-1] == ev.TeamDissolved(team_id="run1", status="completed")


async def test_resume_without_checkpoint_is_a_clear_error():
    events = [e async for e in _team(ScriptedModel([])).run(resume=True)]
    assert isinstance(events[0], ev.Error) and "no checkpoint" in events[0].message
    assert events[-1] == ev.TeamDissolved(team_id="run1", status="failed")
