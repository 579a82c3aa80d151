from __future__ import annotations

import pytest

from agentkit_app.engine.llm.sse import SseDataDecoder

STREAM = (
    b": keep-alive comment\n"
    b"event: message\n"
    b'data: {"a": 1}\n'
    b"\n"
    b"id: 7\n"
    b"data:first line\n"
    b"data: second line\n"
    b"retry: 1000\n"
    b"\n"
    b"\n"
    b"data: [DONE]\n"
    b"\n"
)
EVENTS = [b'{"a": 1}', b"first line\nsecond line", b"[DONE]"]


def decode(chunks: list[bytes]) -> list[bytes]:
    decoder = SseDataDecoder()
    events = [data for chunk in chunks for data in decoder.feed(chunk)]
    return events + decoder.flush()


@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r"])
def test_every_line_ending_and_every_cut_between_reads_gives_the_same_events(newline):
    stream = STREAM.replace(b"\n", newline)

    assert decode([stream]) == EVENTS
    for cut in range(1, len(stream)):
        assert decode([stream[:cut], b"", stream[cut:]]) == EVENTS, cut
    assert decode([bytes([byte]) for byte in stream]) == EVENTS


def test_an_event_completes_as_soon_as_its_blank_line_arrives():
    decoder = SseDataDecoder()

    assert decoder.feed(b"data: one\n") == []
    assert decoder.feed(b"\ndata: tw") == [b"one"]
    assert decoder.feed(b"o\n\n") == [b"two"]


def test_an_event_the_stream_left_unfinished_is_flushed():
    decoder = SseDataDecoder()

    assert decoder.feed(b"data: last\n") == []
    assert decoder.flush() == [b"last"]
    assert decode([b"data: no newline at all"]) == [b"no newline at all"]
    assert decode([b": only a comment"]) == []
