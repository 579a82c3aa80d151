"""The WebSocket protocol at ``/api/v1/chat/ws/{session_id}``.

Credentials come as query parameters: ``?api_key=`` or, with user accounts on, ``?token=`` (a sign-in
token). Wrong or missing ones get an error event and close code 4001; another user's session is
"session not found" (4004), like an unknown one. They are checked when the socket opens.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from agentkit_app.api.security import principal_of
from agentkit_app.engine import events as ev
from agentkit_app.service.access import Principal
from agentkit_app.service.chat import TurnRequest
from agentkit_app.service.errors import NotFound, QuotaExceeded, ServiceError, Unauthorized
from agentkit_app.service.runs import Run
from agentkit_app.service.runtime import get_service

MAX_TURNS_PER_CONNECTION = 4
IDLE_PONG_S = 300.0

router = APIRouter(prefix="/api/v1/chat")


class Connection:
    """One client's socket: a send lock and the turns it is following."""

    def __init__(self, socket: WebSocket, principal: Principal | None = None) -> None:
        self.socket = socket
        self.principal = principal
        self.lock = asyncio.Lock()
        self.turns: set[asyncio.Task[None]] = set()

    async def send(self, frame: dict[str, Any]) -> None:
        """Send one JSON frame (frames of concurrent turns never interleave)."""
        async with self.lock:
            await self.socket.send_text(json.dumps(frame, ensure_ascii=False, default=str))

    async def error(self, message: str) -> None:
        """Send an error event."""
        await self.send(ev.to_wire(ev.Error(message=message)))

    def follow(self, run: Run) -> None:
        """Forward a run's events to the client in a task of its own."""

        async def forward() -> None:
            with contextlib.suppress(WebSocketDisconnect, RuntimeError):
                async for event in run.follow():
                    await self.send(ev.to_wire(event))

        task = asyncio.create_task(forward())
        self.turns.add(task)
        task.add_done_callback(self.turns.discard)


def _fields(frame: dict[str, Any]) -> dict[str, Any]:
    data = frame.get("data")
    return {**frame, **data} if isinstance(data, dict) else frame


@router.websocket("/ws/{session_id}")
async def chat_socket(socket: WebSocket, session_id: str) -> None:
    """Serve the streaming protocol: messages in, engine events out."""
    await socket.accept()
    conn = Connection(socket)
    service = await asyncio.to_thread(get_service)  # built on first use: migrations must not block the loop
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
    except NotFound:
        session = None
    if session is None or session.status != "active":
        await conn.error("session not found" if session is None else "session is closed")
        await socket.close(code=4004 if session is None else 4000)
        return
    await conn.send({"type": "connected", "data": {"session_id": session_id}})
    for run in service.runs.of_session(session_id):
        conn.follow(run)
    try:
        while True:
            try:
                raw = await asyncio.wait_for(socket.receive_text(), IDLE_PONG_S)
            except TimeoutError:
                await conn.send({"type": "pong", "data": {}})
                continue
            try:
                frame = json.loads(raw)
            except ValueError:
                continue
            if not isinstance(frame, dict):
                continue
            await _handle(conn, session_id, _fields(frame))
    except WebSocketDisconnect:
        pass
    finally:
        for task in list(conn.turns):
            task.cancel()


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
        request = TurnRequest(
            session_id=session_id,
            content=str(frame.get("content") or ""),
            model=frame.get("model"),
            execution_mode=frame.get("execution_mode"),
            language=frame.get("language"),
            attachments=frame.get("attachments") or [],  # checked by the service
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
        conn.follow(run)
    elif kind == "cancel":
        service.cancel(session_id)
    elif kind == "confirmation_reply":
        key = str(frame.get("confirmation_id") or "")
        if not service.answer(session_id, key, bool(frame.get("approved"))):
            await conn.error("no pending confirmation with that id")
    elif kind == "reply":
        key = str(frame.get("request_id") or "")
        if not service.answer(session_id, key, str(frame.get("content") or "")):
            await conn.error("no pending question with that id")
    else:
        await conn.error(f"unknown frame type: {str(kind)[:40]}")
