"""Board meetings through the service: events, persistence, interventions, bad commands."""

from __future__ import annotations

import asyncio

import pytest

from agentkit_app.engine import events as ev
from agentkit_app.engine.board import BoardCommandError, parse_board_command
from agentkit_app.engine.experts import UnknownExpertsError
from agentkit_app.engine.llm.demo import DemoModel
from agentkit_app.engine.llm.scripted import Call, Reply, ScriptedModel
from agentkit_app.service.chat import TurnRequest

KNOWN = ["Strategist", "Risk Officer", "Customer Advocate", "Moderator"]


def test_parse_names_with_spaces_rounds_and_topic():
    cmd = parse_board_command("@board:Risk Officer,Strategist rounds=2 should we open a shop?", 5, KNOWN)
    assert cmd.expert_names == ["Risk Officer", "Strategist"]
    assert cmd.rounds == 2
    assert cmd.topic == "should we open a shop?"


def test_parse_defaults_and_errors():
    assert parse_board_command("@board AI in retail", 3, KNOWN).rounds == 3
    with pytest.raises(BoardCommandError, match="needs a topic"):
        parse_board_command("@board  rounds=2", 5, KNOWN)
    with pytest.raises(BoardCommandError, match="between 1 and"):
        parse_board_command("@board rounds=0 topic", 5, KNOWN)
    with pytest.raises(UnknownExpertsError, match="Wizard"):
        parse_board_command("@board:Strategist,Wizard topic", 5, KNOWN)


async def _collect(service, session_id: str, text: str) -> list[ev.Event]:
    return [e async for e in service.run_turn(TurnRequest(session_id=session_id, content=text))]


async def test_demo_board_meeting_is_stored_and_concludes(service_factory):
    service = service_factory(DemoModel(word_delay_s=0))
    session = await service.create_session("assistant")
    events = await _collect(service, session.session_id, "@board:Strategist,Risk Officer rounds=3 open a second shop")
    kinds = [e.type for e in events]
    assert kinds[0] == "board_started"
    speeches = [e for e in events if isinstance(e, ev.ExpertSpeech)]
    # the demo moderator finds consensus in round 2, so the meeting ends before round 3
    assert [(s.expert_name, s.round) for s in speeches] == [
        ("Strategist", 1), ("Risk Officer", 1), ("Strategist", 2), ("Risk Officer", 2),
    ]
    concluded = next(e for e in events if isinstance(e, ev.BoardConcluded))
    assert concluded.total_rounds == 2 and concluded.consensus_points
    final = next(e for e in events if isinstance(e, ev.FinalAnswer))
    assert "## Decision advice" in final.content and "2 round(s)" in final.content
    stored = await service.store.get_messages(session.session_id)
    types = [m.metadata.get("message_type") for m in stored]
    assert types[0] == "board_request" and stored[0].content == "@board open a second shop"
    assert types.count("board_speech") == 4 and types.count("board_summary") == 2
    assert "board_started" in types and "board_conclusion" in types and types[-1] == "board_final"
    speech = next(m for m in stored if m.metadata.get("message_type") == "board_speech")
    assert speech.metadata["expert_name"] == "Strategist" and speech.metadata["board_round"] == 1
    assert speech.metadata["expert_color"]
    assert (await service.store.get_session(session.session_id)).kind == "board"


async def test_board_in_chinese_uses_chinese_headings(service_factory):
    service = service_factory(DemoModel(word_delay_s=0))
    session = await service.create_session("assistant")
    events = await _collect(service, session.session_id, "@board:Strategist rounds=1 要不要开第二家店")
    final = next(e for e in events if isinstance(e, ev.FinalAnswer))
    for heading in ("讨论总结", "决策建议", "共识点", "分歧点", "共进行 1 轮讨论"):
        assert heading in final.content


async def test_intervention_is_heard_by_the_next_speaker(service_factory):
    gate = asyncio.Event()

    def script(call: Call) -> Reply:
        if call.purpose == "board.speech":
            heard = "convened the board" in call.messages[-1]["content"]
            return Reply(text="I heard you" if heard else "first view", delay=0.3)
        if call.purpose == "board.summary":
            return Reply(text="sum\nCONSENSUS: yes")
        return Reply(text='{"summary": "s", "decision_advice": "d", "consensus_points": ["c"], "dissent_points": []}')

    service = service_factory(ScriptedModel(script))
    session = await service.create_session("assistant")
    run = await service.start_turn(TurnRequest(session_id=session.session_id, content="@board:Strategist,Risk Officer,Customer Advocate rounds=1 pricing"))
    seen: list[ev.Event] = []
    async for event in run.follow():
        seen.append(event)
        if isinstance(event, ev.ExpertSpeech) and not gate.is_set():
            gate.set()
            ack_run = await service.start_turn(TurnRequest(session_id=session.session_id, content="think about students"))
            acks = [e async for e in ack_run.follow()]
            assert isinstance(acks[0], ev.TeamInterventionAck)
    speeches = [e for e in seen if isinstance(e, ev.ExpertSpeech)]
    # the second expert was already speaking when the message came; the third one hears it
    assert [s.content for s in speeches] == ["first view", "first view", "I heard you"]
    assert any(isinstance(e, ev.UserIntervention) and e.content == "think about students" for e in seen)
    stored = await service.store.get_messages(session.session_id)
    assert any(m.role == "user" and m.content == "think about students" for m in stored)


async def test_bad_board_commands_give_clear_errors(service_factory):
    service = service_factory(DemoModel(word_delay_s=0))
    session = await service.create_session("assistant")
    events = await _collect(service, session.session_id, "@board")
    assert any(isinstance(e, ev.Error) and "needs a topic" in e.message and e.code == "invalid" for e in events)
    events = await _collect(service, session.session_id, "@board:Wizard,Strategist topic")
    assert any(isinstance(e, ev.Error) and "Wizard" in e.message for e in events)


async def test_model_failure_mid_meeting_keeps_what_was_said(service_factory):
    replies = [Reply(text="first view"), Reply(error="endpoint down")]
    service = service_factory(ScriptedModel(replies))
    session = await service.create_session("assistant")
    events = await _collect(service, session.session_id, "@board:Strategist,Risk Officer rounds=1 pricing")
    assert any(isinstance(e, ev.Error) and "endpoint down" in e.message for e in events)
    stored = await service.store.get_messages(session.session_id)
    assert [m.content for m in stored if m.metadata.get("message_type") == "board_speech"] == ["first view"]
