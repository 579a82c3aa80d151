"""While a run streams, each flush sends only the items it changes, not the whole conversation (no browser)."""

from __future__ import annotations

import copy
from types import SimpleNamespace
from typing import Any, cast

import pytest
from reflex.state import State

from agentkit_app.engine import events as ev
from agentkit_app.service.flows import BOARD_AGENT
from agentkit_app.service.runs import Run
from agentkit_app.ui.states.chat import ChatState
from agentkit_app.ui.timeline import ChatItem, Timeline

TURNS = 50


@pytest.fixture
def chat() -> ChatState:
    """A chat state showing a conversation of 50 earlier turns, nothing pending to send."""
    root = State(_reflex_internal_init=True)
    state = root.get_substate(ChatState.get_full_name().split("."))
    assert isinstance(state, ChatState)
    earlier = Timeline()
    for n in range(TURNS):
        earlier.add_user(f"question {n}", item_id=f"u{n}")
        earlier.items.append(ChatItem(id=f"a{n}", content=f"answer {n} " * 50))
    state._show_items(earlier.items)
    root._clean()
    return state


def _sent(state: ChatState) -> dict[str, Any]:
    """Return what the next delta sends of the chat state, by var name, and clean the state."""
    root = state.parent_state
    assert root is not None
    delta = root.get_delta().get(state.get_full_name(), {})
    root._clean()
    return {name.removesuffix("_rx_state_"): value for name, value in delta.items()}


def _follow(state: ChatState) -> Timeline:
    """Start following a run as ``ChatState.follow`` does: on the run's own copy of the items."""
    return Timeline(copy.deepcopy(state._shown()))


def test_a_streaming_answer_sends_only_itself_in_each_flush(chat: ChatState):
    chat._show_changes([*chat._shown(), ChatItem(kind="user", content="one more")])  # as a sent message shows
    _sent(chat)
    timeline = _follow(chat)
    for word in ("Hello", " world", "!"):
        timeline.apply(ev.Token(content=word), "assistant")
        chat._show_changes(timeline.items)
        sent = _sent(chat)
        assert "items" not in sent, "a flush must not send the settled conversation"
        assert [item.content for item in sent["live"]] == [timeline.items[-1].content]
    assert len(chat.items) == 2 * TURNS and [i.content for i in chat.turn] == ["one more"]
    assert [i.content for i in chat.live] == ["Hello world!"]
    chat._show_changes(timeline.items)
    assert _sent(chat) == {}, "a flush without change sends nothing"


def test_a_finished_item_settles_once_when_the_next_one_starts(chat: ChatState):
    timeline = _follow(chat)
    timeline.apply(
        ev.BoardStarted(team_id="b", topic="t", experts=[{"name": "Ada"}], max_rounds=1), BOARD_AGENT
    )
    timeline.apply(ev.ExpertSpeechChunk(content="first", expert_name="Ada", round=1), BOARD_AGENT)
    chat._show_changes(timeline.items)
    assert [item.kind for item in _sent(chat)["live"]] == ["board_start", "round", "speech"]
    timeline.apply(ev.ExpertSpeechChunk(content=" words", expert_name="Ada", round=1), BOARD_AGENT)
    chat._show_changes(timeline.items)
    sent = _sent(chat)
    assert "items" not in sent and [item.kind for item in sent["turn"]] == ["board_start", "round"]
    assert [(item.kind, item.content) for item in sent["live"]] == [("speech", "first words")]
    timeline.apply(ev.ExpertSpeechChunk(content="!", expert_name="Ada", round=1), BOARD_AGENT)
    chat._show_changes(timeline.items)
    assert set(_sent(chat)) - {"last_answer_id"} == {"live"}


def test_a_change_to_a_settled_item_is_still_shown(chat: ChatState):
    timeline = _follow(chat)
    timeline.items[0].content = "edited"
    chat._show_changes(timeline.items)
    assert [i.content for i in chat._shown()] == [i.content for i in timeline.items]
    assert chat.items == [] and len(chat.live) == 2 * TURNS


def _turn(chat: ChatState, question: str, answer_id: str) -> list[dict[str, Any]]:
    """Run one chat turn as the page does (send, stream, end); return what each step sent."""
    steps = []
    run = SimpleNamespace(run_id=f"run-{answer_id}", kind="chat", answered=False)
    chat._show_sent(cast(Run, run), question, [])
    steps.append(_sent(chat))
    timeline = _follow(chat)
    for word in ("Hello", " world"):
        timeline.apply(ev.Token(content=word), "assistant")
        chat._show_changes(timeline.items)
        steps.append(_sent(chat))
    timeline.apply(ev.FinalAnswer(content="Hello world"), "assistant")
    chat._show_changes(timeline.items)
    steps.append(_sent(chat))
    stored = [*chat._shown()[:-2], ChatItem(kind="user", id=f"q-{answer_id}", content=question)]
    stored.append(ChatItem(id=answer_id, content="Hello world"))  # as stored: the ids the store gave
    chat._show_changes(stored)
    chat._set_running([])
    steps.append(_sent(chat))
    assert [i.content for i in chat._shown()] == [i.content for i in stored]
    return steps


def test_a_whole_turn_never_sends_the_conversation_as_opened(chat: ChatState):
    for n, answer_id in enumerate(("first", "second")):
        steps = _turn(chat, f"more {n}", answer_id)
        assert all("items" not in sent for sent in steps), "a turn must not send the conversation as opened"
        assert not any({"items", "recent"} & set(sent) for sent in steps[1:]), (
            "after the start, only the turn"
        )
        assert [i.id for i in steps[-1]["live"]] == [f"q-{answer_id}", answer_id]
    assert "recent" in steps[0] and [i.id for i in chat.recent] == ["q-first", "first"]
    assert len(chat.items) == 2 * TURNS and chat.last_answer_id == "second"


def test_regenerating_the_last_answer_of_this_visit_sends_only_its_turn(chat: ChatState):
    _turn(chat, "more", "first")
    chat._show_changes(chat._shown()[:-1])  # as regenerate shows it: the answer goes, its question stays
    sent = _sent(chat)
    assert not {"items", "recent"} & set(sent) and [i.id for i in chat.turn] == ["q-first"] and not chat.live
