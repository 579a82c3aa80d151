"""The event classes: one tag each, frozen keyword-only fields, and the wire form that transports use."""

from __future__ import annotations

import dataclasses
from typing import get_args

import pytest

from agentkit_app.engine import events as ev


def test_every_event_in_the_union_has_its_own_tag():
    classes = get_args(ev.Event)
    tags = [cls.type for cls in classes]
    assert len(set(tags)) == len(tags) == len(classes)
    assert ev.EVENT_TYPES == dict(zip(tags, classes, strict=True))


def test_bases_that_share_fields_are_not_events():
    for base in (ev.TextEvent, ev.SpeechEvent, ev.PhaseEvent, ev.PhaseWorkEvent, ev.PhaseText):
        assert not hasattr(base, "type")
        assert base not in get_args(ev.Event)


def test_events_are_frozen_and_keyword_only():
    token = ev.Token(content="hi")
    with pytest.raises(dataclasses.FrozenInstanceError):
        token.content = "changed"  # type: ignore[misc]
    with pytest.raises(TypeError):
        ev.Token("hi")  # type: ignore[misc]
    assert ev.Token(content="hi") == token != ev.Thinking(content="hi")


def test_the_wire_form_lists_the_fields_in_order_under_the_tag():
    started = ev.PhaseStarted(phase_id="p1", name="Research", expert_name="Ada", interventions=["faster"])
    assert ev.to_wire(started) == {
        "type": "phase_started",
        "data": {"phase_id": "p1", "name": "Research", "expert_name": "Ada", "interventions": ["faster"]},
    }
    assert list(
        ev.to_wire(ev.ReviewResult(phase_id="p", expert_name="E", verdict="approve", content="ok"))["data"]
    ) == [
        "phase_id",
        "expert_name",
        "verdict",
        "content",
    ]
    speech = ev.ExpertSpeech(
        content="c", expert_name="n", expert_avatar="a", expert_color="#fff", round=2, role="expert"
    )
    assert list(ev.to_wire(speech)["data"]) == [
        "content",
        "expert_name",
        "expert_avatar",
        "expert_color",
        "round",
        "role",
    ]
    assert ev.to_wire(ev.ExpertResult(phase_id="p", expert_name="E", content="r")) == {
        "type": "expert_result",
        "data": {"phase_id": "p", "expert_name": "E", "content": "r"},
    }


def test_the_events_the_reference_sent_flat_carry_their_fields_at_the_top_level_and_under_data():
    assert ev.to_wire(ev.Token(content="a")) == {"type": "token", "content": "a", "data": {"content": "a"}}
    assert ev.to_wire(ev.Thinking(content="hm"))["content"] == "hm"
    asked = ev.to_wire(ev.AskHuman(question="name?", request_id="r1"))
    assert (asked["question"], asked["request_id"]) == ("name?", "r1")
    assert asked["data"] == {"question": "name?", "request_id": "r1"}
    final = ev.to_wire(ev.FinalAnswer(content="done", metadata={"model": "m"}))
    assert final["content"] == "done" and final["data"]["content"] == "done"
    assert ev.from_wire(final) == ev.FinalAnswer(content="done", metadata={"model": "m"})
    assert "message" not in ev.to_wire(ev.Error(message="boom"))  # the rest keep theirs under data alone


def test_an_error_leaves_its_empty_fields_off_the_wire():
    assert ev.to_wire(ev.Error(message="boom", code="llm")) == {
        "type": "error",
        "data": {"message": "boom", "code": "llm"},
    }


def test_from_wire_rebuilds_each_event_and_ignores_unknown_keys_and_types():
    samples: list[ev.Event] = [
        ev.TeamSynthesis(content="all done"),
        ev.ExpertResult(phase_id="p", expert_name="E", content="r"),
        ev.PhaseCompleted(phase_id="p", name="n", expert_name="E", result="r", duration_s=1.5),
        ev.Step(event_type="tool_call", step=2, data={"tool": "calculator"}),
        ev.TeamDissolved(team_id="t"),
    ]
    for event in samples:
        frame = ev.to_wire(event)
        assert ev.from_wire(frame) == event
        assert ev.from_wire({**frame, "data": {**frame["data"], "extra": 1}}) == event
    assert ev.from_wire({"type": "no_such_event", "data": {}}) is None
