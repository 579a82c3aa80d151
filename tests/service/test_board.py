"""Board meetings through the service: events, persistence, interventions, bad commands."""

from __future__ import annotations

import asyncio

import pytest

from agentkit_app.engine import events as ev
from agentkit_app.engine.board import BoardCommandError, parse_board_command
from agentkit_app.engine.experts import UnknownExpertsError
from agentkit_app.engine.llm.demo import DEMO_MODEL_NAME, DemoModel
from agentkit_app.engine.llm.fallback import FallbackModel
from agentkit_app.engine.llm.scripted import Call, Reply, ScriptedModel
from agentkit_app.service.chat import TurnRequest
from agentkit_app.service.flows import BOARD_AGENT
from agentkit_app.ui.timeline import ChatItem, Timeline, items_from_messages, plain

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
    events = await _collect(
        service, session.session_id, "@board:Strategist,Risk Officer rounds=3 open a second shop"
    )
    kinds = [e.type for e in events]
    assert kinds[0] == "board_started"
    speeches = [e for e in events if isinstance(e, ev.ExpertSpeech)]
    # the demo moderator finds consensus in round 2, so the meeting ends before round 3
    assert [(s.expert_name, s.round) for s in speeches] == [
        ("Strategist", 1),
        ("Risk Officer", 1),
        ("Strategist", 2),
        ("Risk Officer", 2),
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


async def test_intervention_during_the_opening_round_is_heard_by_the_summary_and_round_two(service_factory):
    gate = asyncio.Event()
    # the Strategist finishes its opening statement well before the Risk Officer
    opening_delay = {"Strategist": 0.05, "Risk Officer": 0.4}

    def script(call: Call) -> Reply:
        prompt = call.messages[-1]["content"]
        heard = "think about students" in prompt
        if call.purpose == "board.speech":
            if "Round 1 of" in prompt:
                name = "Strategist" if "You are Strategist" in call.messages[0]["content"] else "Risk Officer"
                return Reply(text="first view", delay=opening_delay[name])
            return Reply(text="I heard you" if heard else "not heard")
        if call.purpose == "board.summary":
            return Reply(text=("students noted" if heard else "sum") + "\nCONSENSUS: no")
        return Reply(
            text='{"summary": "s", "decision_advice": "d", "consensus_points": ["c"], "dissent_points": []}'
        )

    service = service_factory(ScriptedModel(script))
    session = await service.create_session("assistant")
    run = await service.start_turn(
        TurnRequest(session_id=session.session_id, content="@board:Strategist,Risk Officer rounds=2 pricing")
    )
    seen: list[ev.Event] = []
    async for event in run.follow():
        seen.append(event)
        if isinstance(event, ev.ExpertSpeech) and not gate.is_set():
            gate.set()
            ack_run = await service.start_turn(
                TurnRequest(session_id=session.session_id, content="think about students")
            )
            acks = [e async for e in ack_run.follow()]
            assert isinstance(acks[0], ev.TeamInterventionAck)
    speeches = [(s.expert_name, s.round, s.content) for s in seen if isinstance(s, ev.ExpertSpeech)]
    # the opening statements were all being written when the message came; the summary and round 2 hear it
    assert speeches == [
        ("Strategist", 1, "first view"), ("Risk Officer", 1, "first view"),
        ("Strategist", 2, "I heard you"), ("Risk Officer", 2, "I heard you"),
    ]  # fmt: skip
    summaries = [s.content for s in seen if isinstance(s, ev.RoundSummary)]
    assert summaries == ["students noted", "students noted"]
    kinds = [e.type for e in seen if e.type in ("expert_speech", "user_intervention", "round_summary")]
    assert kinds[:4] == ["expert_speech", "expert_speech", "user_intervention", "round_summary"]
    stored = await service.store.get_messages(session.session_id)
    assert any(m.role == "user" and m.content == "think about students" for m in stored)


async def test_cancel_stops_the_meeting_and_keeps_what_was_said(service_factory):
    def script(call: Call) -> Reply:
        if call.purpose == "board.speech":
            fast = "You are Strategist" in call.messages[0]["content"]
            return Reply(text="a measured opening view", delay=0.02 if fast else 0.5)
        return Reply(text="sum\nCONSENSUS: no")

    service = service_factory(ScriptedModel(script))
    session = await service.create_session("assistant")
    run = await service.start_turn(
        TurnRequest(session_id=session.session_id, content="@board:Strategist,Risk Officer rounds=3 pricing")
    )
    seen: list[ev.Event] = []
    stopped = 0
    async for event in run.follow():
        seen.append(event)
        # cancel once the first speech is said and stored (its store comes before the next event is published)
        if not stopped and any(isinstance(e, ev.ExpertSpeech) for e in seen[:-1]):
            stopped = await service.cancel(session.session_id)
    assert stopped == 1
    assert isinstance(seen[-1], ev.Result) and seen[-1].status == "cancelled"
    assert [e.expert_name for e in seen if isinstance(e, ev.ExpertSpeech)] == ["Strategist"]
    assert not any(isinstance(e, ev.RoundSummary | ev.BoardConcluded | ev.FinalAnswer) for e in seen)
    stored = await service.store.get_messages(session.session_id)
    speeches = [m for m in stored if m.metadata.get("message_type") == "board_speech"]
    assert [(m.metadata["expert_name"], m.content) for m in speeches] == [
        ("Strategist", "a measured opening view")
    ]
    assert [m.metadata.get("message_type") for m in stored][:2] == ["board_request", "board_started"]
    # the other opening statement was being written: its writer was stopped with the meeting
    await asyncio.sleep(0)
    assert not [t for t in asyncio.all_tasks() if t.get_name().startswith("board-opening-") and not t.done()]


_BOARD_ITEMS = ("board_start", "round", "speech", "summary", "conclusion")


def _cards(items: list[ChatItem]) -> list[dict]:
    """The board's cards without what differs by nature between a live view and a reload (id, clock, and
    whether it can be rated: a live card has no stored id to vote on until the meeting ends)."""
    return [
        {k: v for k, v in card.items() if k not in ("id", "time", "rateable")}
        for card in plain([i for i in items if i.kind in _BOARD_ITEMS])
    ]


async def test_a_reload_rebuilds_the_same_cards_as_the_live_meeting(service_factory):
    service = service_factory(DemoModel(word_delay_s=0))
    session = await service.create_session("assistant")
    live = Timeline()
    async for event in service.run_turn(
        TurnRequest(
            session_id=session.session_id,
            content="@board:Strategist,Risk Officer,Investor rounds=3 open a second shop",
        )
    ):
        live.apply(event, BOARD_AGENT)
    reloaded = items_from_messages(await service.store.get_messages(session.session_id))
    live_cards, reloaded_cards = _cards(live.items), _cards(reloaded)
    assert reloaded_cards == live_cards
    rated = {i.kind for i in reloaded if i.rateable}
    assert rated == {"speech", "summary", "conclusion"}  # the start and the round dividers are not rated
    speeches = [(c["speaker"]["name"], c["round"]) for c in live_cards if c["kind"] == "speech"]
    assert speeches == [(n, r) for r in (1, 2) for n in ("Strategist", "Risk Officer", "Investor")]
    assert all(c["content"] and not c["streaming"] for c in live_cards if c["kind"] == "speech")
    assert [c["round"] for c in live_cards if c["kind"] == "summary"] == [1, 2]
    conclusion = next(c for c in live_cards if c["kind"] == "conclusion")
    assert conclusion["verdict"]["advice"] and conclusion["verdict"]["consensus"] and conclusion["round"] == 2
    assert "Decision advice" in conclusion["copy_text"], (
        "⧉ copies the meeting's whole answer, also after a reload"
    )


async def test_bad_board_commands_give_clear_errors(service_factory):
    service = service_factory(DemoModel(word_delay_s=0))
    session = await service.create_session("assistant")
    events = await _collect(service, session.session_id, "@board")
    assert any(
        isinstance(e, ev.Error) and "needs a topic" in e.message and e.code == "invalid" for e in events
    )
    events = await _collect(service, session.session_id, "@board:Wizard,Strategist topic")
    assert any(isinstance(e, ev.Error) and "Wizard" in e.message for e in events)


async def test_a_chinese_user_hears_why_in_chinese(service_factory):
    service = service_factory(DemoModel(word_delay_s=0))
    session = await service.create_session("assistant")
    request = TurnRequest(session_id=session.session_id, content="@board rounds=20 开第二家店", language="zh")
    errors = [e.message async for e in service.run_turn(request) if isinstance(e, ev.Error)]
    assert errors == ["轮数必须在 1 到 10 之间，而不是 20"]
    request = TurnRequest(session_id=session.session_id, content="@team:幽灵 做点什么", language="zh")
    errors = [e.message async for e in service.run_turn(request) if isinstance(e, ev.Error)]
    assert errors == ["未知的专家：幽灵"]


async def test_model_failure_mid_meeting_keeps_what_was_said(service_factory):
    replies = [Reply(text="first view"), Reply(error="endpoint down")]
    service = service_factory(ScriptedModel(replies))
    session = await service.create_session("assistant")
    events = await _collect(service, session.session_id, "@board:Strategist,Risk Officer rounds=1 pricing")
    assert any(isinstance(e, ev.Error) and "endpoint down" in e.message for e in events)
    stored = await service.store.get_messages(session.session_id)
    assert [m.content for m in stored if m.metadata.get("message_type") == "board_speech"] == ["first view"]


async def test_the_meeting_total_counts_every_model_call(service_factory):
    service = service_factory(DemoModel(word_delay_s=0))
    session = await service.create_session("assistant")
    text = "@board:Strategist,Risk Officer rounds=2 open a second shop"
    events = await _collect(service, session.session_id, text)
    final = next(e for e in events if isinstance(e, ev.FinalAnswer))
    usage = final.metadata["usage"]
    assert usage["calls"] >= 4 and usage["prompt_tokens"] > 0 and usage["completion_tokens"] > 0
    assert usage["total_s"] >= 0 and usage["first_token_s"] is not None
    assert final.metadata["model"] == "offline-demo"
    stored = await service.store.get_messages(session.session_id)
    by_type = {m.metadata.get("message_type"): m.metadata for m in stored}
    assert by_type["board_final"]["usage"] == usage
    assert by_type["board_conclusion"]["usage"] == usage  # the conclusion card shows it after a reload
    assert "usage" not in by_type["board_speech"]


async def test_the_meeting_total_is_the_sum_of_the_calls(service_factory):
    conclusion = '{"summary":"s","decision_advice":"d","consensus_points":[],"dissent_points":[]}'

    def script(call: Call) -> Reply:
        if call.purpose == "board.speech":
            return Reply(text="one two three")
        if call.purpose == "board.summary":
            return Reply(text="sum\nCONSENSUS: no")
        return Reply(text=conclusion)

    service = service_factory(ScriptedModel(script))
    session = await service.create_session("assistant")
    events = await _collect(service, session.session_id, "@board:Strategist,Risk Officer rounds=2 pricing")
    usage = next(e for e in events if isinstance(e, ev.FinalAnswer)).metadata["usage"]
    calls = service.llm.calls
    assert [c.purpose for c in calls].count("board.speech") == 4 and usage["calls"] == len(calls) == 7
    assert usage["completion_tokens"] == 4 * 3 + 2 * 2 + 1  # the scripted model counts words split by spaces
    assert usage["prompt_tokens"] == sum(len(str(m["content"])) // 4 for c in calls for m in c.messages)


async def test_a_board_meeting_answered_by_the_recovery_model_records_its_tier(service_factory):
    main = ScriptedModel(lambda call: Reply(error="model endpoint error 503: overloaded"))
    service = service_factory(FallbackModel(main, DemoModel(word_delay_s=0), "Sorry."))
    session = await service.create_session("assistant")
    events = await _collect(service, session.session_id, "@board:Strategist rounds=1 open a second shop")
    final = next(e for e in events if isinstance(e, ev.FinalAnswer))
    assert "## Decision advice" in final.content
    stored = {
        m.metadata.get("message_type"): m.metadata
        for m in await service.store.get_messages(session.session_id)
    }
    assert stored["board_final"]["tier"] == final.metadata["tier"] == "recovery"
    assert stored["board_final"]["model"] == DEMO_MODEL_NAME and "error_struct" not in stored["board_final"]
    assert len(main.calls) == stored["board_final"]["usage"]["calls"], "every call tried main first"


async def test_a_board_meeting_of_the_main_model_records_the_main_tier(service_factory):
    service = service_factory(DemoModel(word_delay_s=0))
    session = await service.create_session("assistant")
    await _collect(service, session.session_id, "@board:Strategist rounds=1 open a second shop")
    final = (await service.store.get_messages(session.session_id))[-1]
    assert final.metadata["message_type"] == "board_final" and final.metadata["tier"] == "main"
