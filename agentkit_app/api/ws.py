"""The WebSocket protocol at ``/api/v1/chat/ws/{session_id}``.

A socket opened while a run of the session is answering gets what the run has produced so far, each
of those frames marked ``"replay": true``, then follows it live; a run that has already answered (and
only titles the session now) is not sent again, nor is a question or confirmation already answered.
Every event frame carries ``id``, its position in its run; ``?after=<id>`` resumes after that event
instead, and a malformed one gets an error event and close code 4000 (see :mod:`agentkit_app.service.viewing`).

Credentials come as query parameters: ``?api_key=`` or, with user accounts on, ``?token=`` (a sign-in
token). Wrong or missing ones get an error event and close code 4001; another user's session is
"session not found" (4004), like an unknown one. They are checked when the socket opens.

A client that misbehaves gets an ``error`` event, or a close once it is abusive, and nothing else
happens: other sockets and the runs of other sessions go on as before.

- A frame larger than :func:`max_frame_bytes` (the longest allowed message, 4 bytes a character, plus
  room for the rest of the frame) closes the socket with 1009 "message too big". The ASGI server
  hands over whole frames (uvicorn up to its ``ws_max_size``, 16 MiB by default; granian under
  ``reflex run`` has its own), so the limit is enforced here, whatever serves the app.
- A client sends at most :data:`FRAME_BURST` frames at once and :data:`FRAME_RATE` a second after
  that (a token bucket); beyond it, an error event and close 1008 "policy violation". A ping flood
  so ends after the burst, with no pong sent for what was over.
- Text that is not JSON (or is nested too deep to parse) is ignored, as the protocol says.
- A binary frame, JSON that is not an object,
  a frame of unknown type or with fields of the wrong type, and a reply or confirmation for an id
  nothing waits under each get an error event; the socket stays open.
- Frames after a close (either side's) are discarded by the ASGI server before they reach this code,
  and so are protocol-level pings, which it answers itself. uvicorn also reads a client's next frame only
  once this code has taken the last, so a fast sender waits rather than filling the server's memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import DataError

from agentkit_app.api.frames import encode_frame, frames_of
from agentkit_app.api.problems import UNSTORABLE, StorableText
from agentkit_app.api.security import current_service, principal_of
from agentkit_app.engine import events as ev
from agentkit_app.service.access import Principal
from agentkit_app.service.chat import TurnRequest
from agentkit_app.service.errors import NotFound, QuotaExceeded, ServiceError, Unauthorized
from agentkit_app.service.logs import bind
from agentkit_app.service.runtime import get_service
from agentkit_app.service.viewing import Position, View

MAX_TURNS_PER_CONNECTION = 4
IDLE_PONG_S = 300.0
MAX_REPLY_CHARS = 8000  # as the REST route's HumanReplyBody
FRAME_RATE = 20.0
FRAME_BURST = 60
# what a frame holds besides the message text: type, options, up to 10 attachments
FRAME_ENVELOPE_BYTES = 16 * 1024
CLOSE_TOO_BIG = 1009
CLOSE_POLICY = 1008
router = APIRouter(prefix="/api/v1/chat")


def max_frame_bytes(max_content_chars: int) -> int:
    """Return the largest frame accepted: a message of the longest allowed text, 4 UTF-8 bytes a character."""
    return max_content_chars * 4 + FRAME_ENVELOPE_BYTES


class FrameBudget:
    """A token bucket of frames: ``burst`` at once, then ``rate`` a second."""

    def __init__(self, rate: float = FRAME_RATE, burst: int = FRAME_BURST) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = float(burst)
        self.at = time.monotonic()

    def take(self) -> bool:
        """Spend one frame; False when the budget is used up."""
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class MessageFrame(BaseModel):
    """The fields of a ``message`` frame the service needs, with their types checked."""

    content: StorableText = ""
    model: StorableText | None = None
    execution_mode: StorableText | None = None
    language: StorableText | None = None
    attachments: Any = None  # checked by the service, which names the bad attachment


class Connection:
    """One client's socket: a send lock and the turns it is following."""

    def __init__(self, socket: WebSocket, principal: Principal | None = None) -> None:
        self.socket = socket
        self.principal = principal
        self.lock = asyncio.Lock()
        self.turns: set[asyncio.Task[None]] = set()

    async def send(self, frame: dict[str, Any]) -> None:
        """Send one JSON frame (frames of concurrent turns never interleave)."""
        text = encode_frame(frame)
        async with self.lock:
            await self.socket.send_text(text)

    async def error(self, message: str) -> None:
        """Send an error event."""
        await self.send(ev.to_wire(ev.Error(message=message)))

    def follow(self, view: View) -> None:
        """Forward the frames of a view of a run to the client in a task of its own (see :func:`frames_of`)."""

        async def forward() -> None:
            with contextlib.suppress(WebSocketDisconnect, RuntimeError):
                async for frames in frames_of(view):
                    for frame in frames:
                        await self.send(frame)

        task = asyncio.create_task(forward())
        self.turns.add(task)
        task.add_done_callback(self.turns.discard)


def _fields(frame: dict[str, Any]) -> dict[str, Any]:
    data = frame.get("data")
    return {**frame, **data} if isinstance(data, dict) else frame


@router.websocket("/ws/{session_id}")
async def chat_socket(socket: WebSocket, session_id: str) -> None:
    """Serve the streaming protocol: messages in, engine events out."""
    bind(session_id=session_id[:64])
    await socket.accept()
    conn = Connection(socket)
    service = await current_service()
    try:
        conn.principal = await principal_of(
            service, api_key=socket.query_params.get("api_key"), token=socket.query_params.get("token")
        )
    except Unauthorized as exc:
        await conn.error(str(exc))
        await socket.close(code=4001)
        return
    try:
        session = await service.session_or_404(session_id, conn.principal)
    except (NotFound, DataError):  # DataError: an id the database cannot even look up (a NUL in it)
        session = None
    if session is None or session.status != "active":
        await conn.error("session not found" if session is None else "session is closed")
        await socket.close(code=4004 if session is None else 4000)
        return
    try:
        after = Position.parse(socket.query_params["after"]) if "after" in socket.query_params else None
    except ValueError as exc:
        await conn.error(f"after: {exc}")
        await socket.close(code=4000)
        return
    await conn.send({"type": "connected", "session_id": session_id, "data": {"session_id": session_id}})
    for view in await service.views(session_id, after):
        conn.follow(view)
    try:
        await _serve(conn, session_id, max_frame_bytes(service.config.max_content_chars))
    except WebSocketDisconnect:
        pass
    finally:
        for task in list(conn.turns):
            task.cancel()


async def _serve(conn: Connection, session_id: str, max_bytes: int) -> None:
    """Read frames until the client leaves or is closed for abuse; act on each well-formed one."""
    socket = conn.socket
    budget = FrameBudget()
    while True:
        try:
            message = await asyncio.wait_for(socket.receive(), IDLE_PONG_S)
        except TimeoutError:
            await conn.send({"type": "pong", "data": {}})
            continue
        if message["type"] == "websocket.disconnect":
            return
        text, data = message.get("text"), message.get("bytes")
        size = len(text) if text is not None else len(data or b"")
        if text is not None and size * 4 > max_bytes:  # only a long text needs its bytes counted
            size = len(text.encode())
        if size > max_bytes:
            await conn.error(f"frame larger than {max_bytes} bytes")
            await socket.close(code=CLOSE_TOO_BIG, reason="message too big")
            return
        if not budget.take():
            await conn.error(f"too many frames: at most {FRAME_RATE:g} a second")
            await socket.close(code=CLOSE_POLICY, reason="too many frames")
            return
        if text is None:
            await conn.error("binary frames are not supported: send JSON text")
            continue
        try:
            frame = json.loads(text)
        except (ValueError, RecursionError):
            continue  # the protocol ignores malformed JSON
        if not isinstance(frame, dict):
            await conn.error("frame must be a JSON object")
            continue
        await _handle(conn, session_id, _fields(frame))


async def _handle(conn: Connection, session_id: str, frame: dict[str, Any]) -> None:
    """Act on one client frame."""
    service = get_service()
    kind = frame.get("type")
    if kind == "ping":
        await conn.send({"type": "pong", "data": {}})
    elif kind == "message":
        if len(conn.turns) >= MAX_TURNS_PER_CONNECTION:
            await conn.error("Too many concurrent requests")
            return
        try:
            body = MessageFrame.model_validate(frame)
        except ValidationError as exc:
            await conn.error(f"invalid message: {_first_problem(exc)}")
            return
        request = TurnRequest(
            session_id=session_id,
            content=body.content,
            model=body.model,
            execution_mode=body.execution_mode,
            language=body.language,
            attachments=body.attachments or [],  # checked by the service
            principal=conn.principal,
        )
        try:
            run = await service.start_turn(request)
        except QuotaExceeded as exc:
            await conn.send(ev.to_wire(exc.event()))
            return
        except ServiceError as exc:
            await conn.error(str(exc))
            return
        except DataError:  # e.g. a NUL character, which PostgreSQL does not store
            await conn.error(UNSTORABLE)
            return
        conn.follow(View(run))
    elif kind == "cancel":
        await service.cancel(session_id)
    elif kind == "confirmation_reply":
        approved = frame.get("approved")
        if not isinstance(approved, bool):  # "false" must not approve a command
            await conn.error("approved must be true or false")
        elif not await service.answer(session_id, str(frame.get("confirmation_id") or ""), approved):
            await conn.error("no pending confirmation with that id")
    elif kind == "reply":
        content = frame.get("content")
        if not isinstance(content, str) or len(content) > MAX_REPLY_CHARS or "\x00" in content:
            await conn.error(f"content must be text of at most {MAX_REPLY_CHARS} characters, without NUL")
        elif not await service.answer(session_id, str(frame.get("request_id") or ""), content):
            await conn.error("no pending question with that id")
    else:
        await conn.error(f"unknown frame type: {str(kind)[:40]}")


def _first_problem(exc: ValidationError) -> str:
    """Return the first field error of a frame, e.g. ``model: Input should be a valid string``."""
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"])
    return f"{where}: {error['msg']}"[:200]
