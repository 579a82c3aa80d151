"""Runs as Server-Sent Events: a turn streamed over plain HTTP, and ``GET /sessions/{id}/stream`` to follow or resume.

Each event of a run is one SSE event: ``event:`` its type, ``id:`` its position (``{run_id}:{n}``) and
``data:`` the same JSON frame the WebSocket sends (:mod:`agentkit_app.api.frames`). A comment line
(``: ping``) keeps an idle connection open every :data:`PING_S` seconds. The stream ends when the run
ends. A client that goes away stops reading, and nothing else: the run goes on, and
``GET /sessions/{id}/stream`` with ``Last-Event-ID`` (or ``?after=``) gets the rest of it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Query, Request, Response
from sse_starlette import EventSourceResponse, ServerSentEvent

from agentkit_app.api.frames import encode_frame, frames_of
from agentkit_app.api.problems import error_responses
from agentkit_app.api.security import ServiceDep
from agentkit_app.service.viewing import Position, View

PING_S = 15
EVENT_STREAM = "text/event-stream"

# one event of the stream, as OpenAPI describes a text/event-stream item (the fields of the SSE wire format)
_EVENT_SCHEMA = {
    "type": "object",
    "properties": {
        "event": {"type": "string", "description": "the event's type, as the frame's `type`"},
        "id": {"type": "string", "description": "its position, `<run id>:<n>`: what Last-Event-ID takes"},
        "data": {
            "type": "string",
            "contentMediaType": "application/json",
            "description": "the frame, the JSON the WebSocket sends",
        },
    },
    "required": ["event", "data"],
}
_EXAMPLE = {
    "event": "token",
    "id": "3f9c0b7e5d6a4f1e8c2b9a0d7e6f5a4b:7",
    "data": '{"type":"token","content":"Once ","data":{"content":"Once "},"id":"3f9c0b7e5d6a4f1e8c2b9a0d7e6f5a4b:7"}',
}


def stream_responses(description: str) -> dict[int | str, dict[str, Any]]:
    """Return the OpenAPI description of a 200 answered as an event stream."""
    return {
        200: {
            "description": description,
            "content": {EVENT_STREAM: {"schema": _EVENT_SCHEMA, "example": _EXAMPLE}},
        }
    }


def wants_stream(request: Request, asked: bool = False) -> bool:
    """Return whether a request asks for an event stream: ``asked`` in its body, or its ``Accept`` header."""
    return asked or EVENT_STREAM in request.headers.get("accept", "").lower()


def event_stream(views: list[View]) -> EventSourceResponse:
    """Return the response that sends the frames of ``views``, one after the other, as Server-Sent Events."""

    async def events() -> AsyncIterator[ServerSentEvent]:
        for view in views:
            async for frames in frames_of(view):
                for frame in frames:
                    yield ServerSentEvent(data=encode_frame(frame), event=frame["type"], id=frame["id"])

    return EventSourceResponse(events(), ping=PING_S, headers={"Cache-Control": "no-cache"})


router = APIRouter()


@router.get(
    "/sessions/{session_id}/stream",
    response_class=Response,
    responses={
        **stream_responses("the session's run: replayed (or from after the given event), then live"),
        204: {
            "description": "nothing to follow: no run is answering, and nothing is left after the given event"
        },
        **error_responses(400, 404),
    },
)
async def follow_session(
    session_id: str,
    service: ServiceDep,
    last_event_id: Annotated[
        str | None, Header(description="the id of the last event received: resume after it")
    ] = None,
    after: Annotated[
        str | None, Query(description="as Last-Event-ID, for clients that cannot set it")
    ] = None,
) -> Response:
    """Follow the session's running turn as Server-Sent Events, or resume one after the event a client saw last.

    Without a position, the run answering now is sent from its start, its earlier events marked
    ``"replay": true``; with one (``Last-Event-ID``, or ``?after=``), what came after it in that run.
    Questions and confirmations already answered are left out. Nothing to follow: 204, at once (an
    ``EventSource`` then stops reconnecting). An id that is not one this server sent: 400.
    """
    named = last_event_id if last_event_id is not None else after
    try:
        position = Position.parse(named) if named is not None else None
    except ValueError as exc:
        raise HTTPException(status_code=400, detail=f"Last-Event-ID: {exc}") from None
    views = await service.views(session_id, position)
    if not views:
        return Response(status_code=204)
    return event_stream(views)
