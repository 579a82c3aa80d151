"""The frames a viewer of a run is sent, the same over the WebSocket and the HTTP event stream.

A frame is an event's transport form (:func:`agentkit_app.engine.events.to_wire`) with two more
top-level fields: ``id``, the event's position (``{run_id}:{n}``, what ``?after=`` and
``Last-Event-ID`` take), and ``replay: true`` on an event the run produced before the viewer came.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import AsyncIterator
from typing import Any

import orjson

from agentkit_app.engine import events as ev
from agentkit_app.service.viewing import Seen, View

# after a frame with answer text, the next waits this long, so that the tokens which come meanwhile go
# out together: a fast model's stream costs a frame per interval instead of one per token
FRAME_INTERVAL_S = 0.02
# as ``json.dumps(frame, ensure_ascii=False, default=str)`` writes them, in a fraction of the time
_JSON_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def encode_frame(frame: dict[str, Any]) -> str:
    """Return a frame as JSON text: orjson, or the standard library for what orjson refuses (huge integers)."""
    try:
        return orjson.dumps(frame, default=str, option=_JSON_OPTIONS).decode()
    except orjson.JSONEncodeError:
        return json.dumps(frame, ensure_ascii=False, default=str)


def _frame(seen: Seen, event: ev.Event) -> dict[str, Any]:
    frame = {**ev.to_wire(event), "id": str(seen.position)}
    if seen.replay:
        frame["replay"] = True
    return frame


def wire_frames(batch: list[Seen]) -> list[dict[str, Any]]:
    """Return the frames of ``batch`` in order, each run of consecutive tokens joined into one token.

    A joined token carries the position of its last token; replayed and live tokens are not joined.
    """
    frames: list[dict[str, Any]] = []
    tokens: list[tuple[Seen, ev.Token]] = []

    def flush() -> None:
        if tokens:
            joined = dataclasses.replace(tokens[0][1], content="".join(t.content for _, t in tokens))
            frames.append(_frame(tokens[-1][0], joined))
            tokens.clear()

    for seen in batch:
        if isinstance(seen.event, ev.Token):
            if tokens and tokens[-1][0].replay != seen.replay:
                flush()
            tokens.append((seen, seen.event))
        else:
            flush()
            frames.append(_frame(seen, seen.event))
    flush()
    return frames


async def frames_of(view: View) -> AsyncIterator[list[dict[str, Any]]]:
    """Yield the frames of a view as its run produces them; after answer text, wait :data:`FRAME_INTERVAL_S`.

    Tokens that are ready together go out as one ``token`` frame with their texts joined (a client
    appends token texts, so it sees the same answer): no token is held back longer than the interval.
    """
    async for batch in view.batches():
        frames = wire_frames(batch)
        yield frames
        if not view.done and any(frame["type"] == ev.Token.type for frame in frames):
            await asyncio.sleep(FRAME_INTERVAL_S)
