"""A board meeting as the reader looks at it: narrowed to one expert, widened again, jumped through."""

from __future__ import annotations

from agentkit_app.engine.llm.demo import DemoModel
from agentkit_app.service.chat import TurnRequest
from agentkit_app.service.flows import BOARD_AGENT
from agentkit_app.ui.states.board_view import MAX_NAME_CHARS, narrowed, widened
from agentkit_app.ui.timeline import Timeline, items_from_messages


def test_an_expert_clicked_narrows_the_meeting_and_clicked_again_widens_it():
    one = narrowed({}, "board-1", "Strategist")
    assert one == {"board-1": "Strategist"}
    both = narrowed(one, "board-2", "Investor")
    assert both == {"board-1": "Strategist", "board-2": "Investor"}, "each meeting has its own filter"
    assert narrowed(both, "board-1", "Risk Officer") == {"board-1": "Risk Officer", "board-2": "Investor"}
    assert narrowed(both, "board-1", "Strategist") == {"board-2": "Investor"}
    assert widened(both, "board-2") == {"board-1": "Strategist"}
    assert widened({}, "board-9") == {}


def test_a_malformed_filter_changes_nothing():
    filters = {"board-1": "Strategist"}
    for board, expert in [("", "Strategist"), ("board-1", ""), ("board-1", "x" * (MAX_NAME_CHARS + 1)),
                          (None, "Strategist"), ("board-1", 42)]:  # fmt: skip
        assert narrowed(filters, board, expert) == filters  # type: ignore[arg-type]
    assert filters == {"board-1": "Strategist"}, "never changed in place"


async def test_every_card_of_a_meeting_names_it_and_its_jump_list_leads_to_each_round_and_the_conclusion(
    service_factory,
):
    service = service_factory(DemoModel(word_delay_s=0))
    session = await service.create_session("assistant")
    live = Timeline()
    text = "@board:Strategist,Risk Officer rounds=3 open a second shop"
    live.add_user(text)
    async for event in service.run_turn(TurnRequest(session_id=session.session_id, content=text)):
        live.apply(event, BOARD_AGENT)
    restored = items_from_messages(await service.store.get_messages(session.session_id))
    for items in (live.items, restored):
        header = next(i for i in items if i.kind == "board_start")
        board = [i for i in items if i.kind in ("round", "speech", "summary", "conclusion")]
        assert {i.board for i in board} == {header.id} == {"board-1"}
        rounds = [i.id for i in items if i.kind == "round"]
        # the demo's moderator ends the meeting on consensus before its third round: two to jump to
        assert header.meeting.anchors == rounds == ["board-1-round-1", "board-1-round-2"]
        conclusion = next(i for i in items if i.kind == "conclusion")
        assert header.meeting.conclusion == conclusion.verdict.anchor == "board-1-conclusion"
        speakers = {i.speaker.name for i in items if i.kind == "speech"}
        assert speakers == {"Strategist", "Risk Officer"}


async def test_a_second_meeting_in_the_conversation_has_ids_of_its_own(service_factory):
    service = service_factory(DemoModel(word_delay_s=0))
    session = await service.create_session("assistant")
    for text in ("@board:Strategist rounds=1 raise prices", "@board:Investor rounds=1 cut prices"):
        async for _ in service.run_turn(TurnRequest(session_id=session.session_id, content=text)):
            pass
    items = items_from_messages(await service.store.get_messages(session.session_id))
    headers = [i for i in items if i.kind == "board_start"]
    assert [h.id for h in headers] == ["board-1", "board-2"]
    assert [h.meeting.conclusion for h in headers] == ["board-1-conclusion", "board-2-conclusion"]
    assert {i.board for i in items if i.kind == "speech" and i.speaker.name == "Investor"} == {"board-2"}
