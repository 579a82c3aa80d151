"""Team runs through the service: the stored timeline, interventions, cancel, and resuming an interrupted run."""

from __future__ import annotations

import asyncio
import json
from contextlib import aclosing

import pytest

from agentkit_app.engine import events as ev
from agentkit_app.engine.interaction import Interaction
from agentkit_app.engine.llm.demo import DemoModel
from agentkit_app.engine.llm.fallback import FallbackModel
from agentkit_app.engine.llm.scripted import Call, Reply, ScriptedModel
from agentkit_app.engine.team import TeamOrchestrator
from agentkit_app.service.chat import ChatService, TurnRequest
from agentkit_app.service.errors import InvalidInput, NotFound

PLAN = {"phases": [
    {"id": "a", "name": "Design", "expert": "Product Manager", "depends_on": [], "goal": "design"},
    {"id": "b", "name": "Build", "expert": "Developer", "depends_on": ["a"], "goal": "build"},
    {"id": "c", "name": "Review", "expert": "Reviewer", "depends_on": ["b"], "goal": "review"},
]}  # fmt: skip


def _answer(call: Call) -> Reply:
    if call.purpose == "team.plan":
        return Reply(text=json.dumps(PLAN))
    if call.purpose == "team.phase":
        return Reply(text=call.messages[-1]["content"].split("Your phase: ")[1].split("\n")[0] + " done")
    return Reply(text="Shipped.")


async def test_demo_team_through_service_is_stored_and_intervention_reaches_next_phase(service_factory):
    service = service_factory(DemoModel(word_delay_s=0.01))
    session = await service.create_session("assistant")
    run = await service.start_turn(
        TurnRequest(session_id=session.session_id, content="@team build a landing page")
    )
    events: list[ev.Event] = []
    sent = False
    async for event in run.follow():
        events.append(event)
        if isinstance(event, ev.PhaseStarted) and not sent:
            sent = True
            ack = await service.start_turn(
                TurnRequest(session_id=session.session_id, content="use a dark theme")
            )
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
    meta = (await service.store.get_session(session.session_id)).server_state
    assert meta["team_run"]["status"] == "completed"


async def test_cancelled_team_is_dissolved(service_factory):
    service = service_factory(DemoModel(word_delay_s=0.05))
    session = await service.create_session("assistant")
    run = await service.start_turn(TurnRequest(session_id=session.session_id, content="@team write docs"))
    events: list[ev.Event] = []
    async for event in run.follow():
        events.append(event)
        if isinstance(event, ev.PhaseStarted):
            await service.cancel(session.session_id)
    assert any(isinstance(e, ev.TeamDissolved) and e.status == "cancelled" for e in events)
    await asyncio.sleep(0)
    assert not [t for t in asyncio.all_tasks() if t.get_name().startswith("team-")]  # no phase left running
    meta = (await service.store.get_session(session.session_id)).server_state
    assert meta["team_run"]["status"] == "cancelled"
    assert await service.interrupted_team(await service.session_or_404(session.session_id)) is None


async def _crashed_after_first_phase(service: ChatService) -> str:
    """Run ``dev_team`` on "ship it" as run "old-run" until its first phase is done, as if the process then died;
    return the session that shows it interrupted."""
    experts = service.catalog.experts.template("dev_team")
    first = TeamOrchestrator(
        llm=ScriptedModel(_answer), lead=experts[0], members=experts[1:], task="ship it",
        interaction=Interaction(), checkpoints=service.checkpoints, run_id="old-run", language="en",
    )  # fmt: skip
    async with aclosing(first.run()) as events:
        async for event in events:
            if isinstance(event, ev.PhaseCompleted):
                break
    return await _interrupted_session(service, "old-run")


async def _interrupted_session(service: ChatService, team_run_id: str) -> str:
    """Return a session whose team run ``team_run_id`` is marked running, as a dead process leaves it."""
    session = await service.create_session("assistant")
    await service.store.append_message(
        session_id=session.session_id,
        role="user",
        content="@team ship it",
        metadata={"message_type": "team_request"},
    )
    await service.store.update_session(
        session.session_id,
        kind="team",
        server_state={"team_run": {"run_id": team_run_id, "status": "running"}},
    )
    return session.session_id


async def test_resume_team_refuses_without_an_interrupted_run_or_checkpoint(service_factory):
    service = service_factory(ScriptedModel(_answer))
    with pytest.raises(NotFound, match="session not found"):
        await service.resume_team("no-such-session")
    plain = await service.create_session("assistant")
    assert await service.interrupted_team(plain) is None
    with pytest.raises(NotFound, match="no interrupted team run"):
        await service.resume_team(plain.session_id)
    session_id = await _interrupted_session(service, "lost-run")
    session = await service.session_or_404(session_id)
    assert await service.interrupted_team(session) == {"run_id": "lost-run", "status": "running"}
    with pytest.raises(InvalidInput, match="no checkpoint"):
        await service.resume_team(session_id)


async def test_live_team_run_is_not_interrupted(service_factory):
    service = service_factory(DemoModel(word_delay_s=0.05))
    session = await service.create_session("assistant")
    run = await service.start_turn(TurnRequest(session_id=session.session_id, content="@team write docs"))
    async for event in run.follow():
        if isinstance(event, ev.PhaseStarted):
            live = await service.session_or_404(session.session_id)
            assert live.server_state["team_run"] == {"run_id": run.run_id, "status": "running"}
            assert await service.interrupted_team(live) is None
            with pytest.raises(NotFound):
                await service.resume_team(session.session_id)
            await service.cancel(session.session_id)


async def test_resume_team_continues_from_the_checkpoint(service_factory):
    service = service_factory(ScriptedModel(_answer))
    session_id = await _crashed_after_first_phase(service)

    run = await service.resume_team(session_id)
    assert run.kind == "team"
    events = [e async for e in run.follow()]
    phases = [
        c.messages[-1]["content"].split("Your phase: ")[1].split("\n")[0]
        for c in service.llm.calls
        if c.purpose == "team.phase"
    ]
    assert phases == ["Build", "Review"] and not any(c.purpose == "team.plan" for c in service.llm.calls)
    assert events[-2] == ev.TeamDissolved(team_id="old-run", status="completed")
    assert isinstance(events[-1], ev.FinalAnswer) and events[-1].content == "Shipped."
    session = await service.session_or_404(session_id)
    assert session.server_state["team_run"] == {"run_id": "old-run", "status": "completed"}
    assert await service.interrupted_team(session) is None
    stored = await service.store.get_messages(session_id)
    assert [m.metadata.get("event_type") for m in stored if m.metadata.get("message_type") == "team_phase"] == [
        "phase_started", "phase_completed", "phase_started", "phase_completed",
    ]  # fmt: skip
    assert stored[-1].metadata["message_type"] == "team_final"


async def test_two_resumes_at_once_start_one_run(service_factory):
    service = service_factory(ScriptedModel(_answer))
    session_id = await _crashed_after_first_phase(service)
    outcomes = await asyncio.gather(
        service.resume_team(session_id), service.resume_team(session_id), return_exceptions=True
    )
    runs = [o for o in outcomes if not isinstance(o, BaseException)]
    assert len(runs) == 1 and any(isinstance(o, NotFound) for o in outcomes)
    [e async for e in runs[0].follow()]
    phases = [c for c in service.llm.calls if c.purpose == "team.phase"]
    assert len(phases) == 2, "the remaining two phases ran once"


async def test_the_team_total_counts_every_model_call(service_factory):
    service = service_factory(ScriptedModel(_answer))
    session = await service.create_session("assistant")
    run = await service.start_turn(TurnRequest(session_id=session.session_id, content="@team ship it"))
    events = [e async for e in run.follow()]
    final = events[-1]
    assert isinstance(final, ev.FinalAnswer) and final.metadata["message_type"] == "team_final"
    usage = final.metadata["usage"]
    assert usage["calls"] == len(service.llm.calls) == 5  # plan, three phases, synthesis
    assert usage["prompt_tokens"] > 0 and usage["completion_tokens"] > 0
    assert usage["first_token_s"] is not None
    stored = await service.store.get_messages(session.session_id)
    by_type = {m.metadata.get("message_type"): m.metadata for m in stored}
    assert by_type["team_final"]["usage"] == usage and by_type["team_final"]["model"] == "scripted"
    assert by_type["team_synthesis"]["usage"] == usage  # the synthesis card shows it after a reload


async def test_demo_team_total_has_tokens(service_factory):
    service = service_factory(DemoModel(word_delay_s=0))
    session = await service.create_session("assistant")
    request = TurnRequest(session_id=session.session_id, content="@team build a landing page")
    final = [e async for e in (await service.start_turn(request)).follow()][-1]
    assert isinstance(final, ev.FinalAnswer)
    usage = final.metadata["usage"]
    assert usage["calls"] > 0 and usage["prompt_tokens"] > 0 and usage["completion_tokens"] > 0


async def test_team_notices_are_stored_and_a_resumed_run_counts_only_its_own_calls(service_factory):
    service = service_factory(ScriptedModel(_answer))
    session_id = await _crashed_after_first_phase(service)
    run = await service.resume_team(session_id)
    final = [e async for e in run.follow()][-1]
    assert isinstance(final, ev.FinalAnswer)
    assert final.metadata["usage"]["calls"] == len(service.llm.calls) == 3  # two phases left, the synthesis
    stored = await service.store.get_messages(session_id)
    notices = [m for m in stored if m.metadata.get("message_type") == "team_notice"]
    assert [(m.content, m.agent_name) for m in notices] == [
        ("resuming after 1 finished phase(s)", "team_collab")
    ]


async def test_a_team_run_records_the_lowest_tier_that_answered(service_factory):
    main = ScriptedModel(lambda call: Reply(error="down") if call.purpose == "team.phase" else _answer(call))
    service = service_factory(FallbackModel(main, ScriptedModel(_answer), "Sorry."))
    session = await service.create_session("assistant")
    run = await service.start_turn(TurnRequest(session_id=session.session_id, content="@team ship it"))
    final = [e async for e in run.follow()][-1]
    assert isinstance(final, ev.FinalAnswer) and final.content == "Shipped."
    stored = {
        m.metadata.get("message_type"): m.metadata
        for m in await service.store.get_messages(session.session_id)
    }
    assert stored["team_final"]["tier"] == final.metadata["tier"] == "recovery", (
        "the phases were the recovery's"
    )
    assert stored["team_final"]["fallback_status"] == "recovery"


async def test_a_team_run_answered_by_the_emergency_tier_keeps_its_structured_error(service_factory):
    main = ScriptedModel(
        lambda call: Reply(error="down") if call.purpose == "team.synthesis" else _answer(call)
    )
    service = service_factory(FallbackModel(main, None, "Sorry."))
    session = await service.create_session("assistant")
    run = await service.start_turn(TurnRequest(session_id=session.session_id, content="@team ship it"))
    final = [e async for e in run.follow()][-1]
    assert isinstance(final, ev.FinalAnswer)
    stored = (await service.store.get_messages(session.session_id))[-1].metadata
    assert stored["message_type"] == "team_final" and stored["tier"] == "emergency"
    assert stored["error_struct"] == {
        "tier": "emergency",
        "errors": [{"tier": "main", "message": "down"}],
        "code": "llm_unavailable",
    }
