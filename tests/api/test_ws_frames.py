"""What the WebSocket sends for a run's events: tokens ready together as one frame, JSON as before."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from agentkit_app.api.ws import encode_frame, wire_frames
from agentkit_app.engine import events as ev


def test_tokens_ready_together_go_out_as_one_token_and_other_events_keep_their_place():
    frames = wire_frames(
        [
            ev.Token(content="Once "),
            ev.Token(content="upon"),
            ev.Thinking(content="hmm"),
            ev.Token(content=" a time"),
            ev.FinalAnswer(content="Once upon a time"),
        ]
    )
    assert [f["type"] for f in frames] == ["token", "thinking", "token", "final_answer"]
    assert frames[0] == {"type": "token", "content": "Once upon", "data": {"content": "Once upon"}}
    assert frames[2]["data"]["content"] == " a time"
    assert wire_frames([]) == []


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
