"""What a viewer is sent for a run's events: tokens ready together as one frame, JSON as before."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from agentkit_app.api.frames import encode_frame, wire_frames
from agentkit_app.engine import events as ev
from agentkit_app.service.viewing import Position, Seen

RUN = "a" * 32


def _seen(*events: ev.Event, replayed: int = 0) -> list[Seen]:
    return [Seen(e, Position(RUN, n), n <= replayed) for n, e in enumerate(events, 1)]


def test_tokens_ready_together_go_out_as_one_token_and_other_events_keep_their_place():
    frames = wire_frames(
        _seen(
            ev.Token(content="Once "),
            ev.Token(content="upon"),
            ev.Thinking(content="hmm"),
            ev.Token(content=" a time"),
            ev.FinalAnswer(content="Once upon a time"),
        )
    )
    assert [f["type"] for f in frames] == ["token", "thinking", "token", "final_answer"]
    assert frames[0] == {
        "type": "token",
        "content": "Once upon",
        "data": {"content": "Once upon"},
        "id": f"{RUN}:2",
    }
    assert frames[2]["data"]["content"] == " a time"
    assert [f["id"] for f in frames] == [f"{RUN}:2", f"{RUN}:3", f"{RUN}:4", f"{RUN}:5"]
    assert wire_frames([]) == []


def test_replayed_frames_are_marked_and_never_joined_with_live_tokens():
    frames = wire_frames(_seen(*(ev.Token(content=w) for w in ["a", "b", "c", "d"]), replayed=2))
    assert [(f["content"], f["id"], f.get("replay")) for f in frames] == [
        ("ab", f"{RUN}:2", True),
        ("cd", f"{RUN}:4", None),
    ]


def test_an_event_id_is_a_run_and_a_number():
    assert Position.parse(f" {RUN}:17 ") == Position(RUN, 17)
    assert str(Position(RUN, 3)) == f"{RUN}:3"


@pytest.mark.parametrize(
    "bad", ["", "17", f"{RUN}:", f"{RUN}:-1", f"{RUN}:1:2", f"{RUN.upper()}:1", f"{RUN}:1e3", "x" * 5000]
)
def test_anything_else_is_not_taken_for_an_event_id(bad):
    with pytest.raises(ValueError, match="not an event id"):
        Position.parse(bad)


def test_a_frame_is_the_json_the_standard_library_wrote():
    frame = {
        "type": "step",
        "data": {"at": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), 7: "seven", "text": "中文 ü", "big": 2**80},
    }
    expected = json.dumps(frame, ensure_ascii=False, default=str)
    assert json.loads(encode_frame(frame)) == json.loads(expected)
    del frame["data"]["big"]
    assert json.loads(encode_frame(frame)) == json.loads(json.dumps(frame, ensure_ascii=False, default=str))
    assert "中文 ü" in encode_frame(frame)
