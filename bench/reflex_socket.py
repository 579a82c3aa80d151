"""A session of the web UI without a browser: speaks Reflex's event socket as the page does.

The page's JavaScript talks to the backend over one WebSocket at ``/_event`` (engine.io 4, socket.io
namespace ``/_event``): it connects with the page's hydrate event, sends the events its components
fire (the composer's draft, the Send button) and receives state deltas. :class:`ReflexSocket` does the
same from Python, so a benchmark can hold many UI sessions on the backend without paying for a
renderer per session: the server does all the work it does for a browser (state, deltas, frames),
the client only reads the frames. What a browser adds on top (rendering) is measured in chromium.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import websockets
from reflex.state import State
from reflex_base.constants.state import FIELD_MARKER

from agentkit_app.ui.states.chat import ChatState
from agentkit_app.ui.states.composer import ComposerState

NAMESPACE = "/_event"
_TOKEN = re.compile(r"t\d{4,}")
_LIVE = "live" + FIELD_MARKER
_CHAT = ChatState.get_full_name()


async def until_quiet(arrived: asyncio.Event, quiet_s: float, within_s: float) -> None:
    """Return once ``arrived`` has not been set for ``quiet_s`` seconds (or after ``within_s`` seconds in all)."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(within_s):
            while True:
                arrived.clear()
                try:
                    await asyncio.wait_for(arrived.wait(), quiet_s)
                except TimeoutError:
                    return


@dataclass
class ReflexSocket:
    """One UI session on the chat page of ``session_id``: opened, typed into, sent, its answer followed."""

    url: str  # the app's http(s) URL
    session_id: str
    token: str = field(default_factory=lambda: str(uuid.uuid4()))
    arrivals: list[float] = field(default_factory=list)  # time.perf_counter() when each token first showed
    frames: int = 0
    payload_bytes: int = 0
    _socket: Any = None
    _reader: asyncio.Task[None] | None = None
    _hydrated: asyncio.Event = field(default_factory=asyncio.Event)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)  # set when the answer grew
    _framed: asyncio.Event = field(default_factory=asyncio.Event)  # set by every frame received

    @property
    def _router_data(self) -> dict[str, Any]:
        path = f"/chat/{self.session_id}"
        return {"pathname": path, "asPath": path, "query": {"session_id": self.session_id}}

    async def open(self, timeout_s: float = 60.0) -> None:
        """Connect as a page opening the conversation does, and wait until the state is hydrated."""
        ws_url = self.url.replace("http", "ws", 1) + f"/_event/?token={self.token}&EIO=4&transport=websocket"
        self._socket = await websockets.connect(ws_url, max_size=None)
        await self._socket.recv()  # engine.io's open packet
        boot = {
            "event": {"name": f"{State.get_full_name()}.hydrate_and_load", "router_data": self._router_data}
        }
        await self._socket.send(f"40{NAMESPACE},{json.dumps(boot)}")
        self._reader = asyncio.create_task(self._read())
        await asyncio.wait_for(self._hydrated.wait(), timeout_s)

    async def fire(self, handler: str, **payload: Any) -> None:
        """Send the event a component fires: ``handler`` is the state's full name and the handler's."""
        event = {"name": handler, "payload": payload, "router_data": self._router_data}
        await self._socket.send(f"42{NAMESPACE},{json.dumps(['event', event])}")

    async def send_message(self, text: str) -> float:
        """Type ``text`` into the composer and press Send; return the moment Send was pressed."""
        composer = ComposerState.get_full_name()
        await self.fire(f"{composer}.set_draft", value=text)
        await asyncio.sleep(0.2)  # as a page does: the draft reaches the server before Send asks for it
        self.arrivals.clear()
        self.frames = self.payload_bytes = 0
        pressed = time.perf_counter()
        await self.fire(f"{composer}.send")
        return pressed

    async def wait_tokens(self, count: int, timeout_s: float) -> None:
        """Wait until ``count`` tokens of the new answer have arrived."""
        async with asyncio.timeout(timeout_s):
            while len(self.arrivals) < count:
                self._changed.clear()
                await self._changed.wait()

    async def quiet(self, quiet_s: float, within_s: float) -> None:
        """Return once no frame has arrived for ``quiet_s`` seconds (or after ``within_s`` seconds in all)."""
        await until_quiet(self._framed, quiet_s, within_s)

    async def close(self) -> None:
        """Close the socket and stop reading."""
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
        if self._socket is not None:
            await self._socket.close()

    async def _read(self) -> None:
        async for message in self._socket:
            if message == "2":  # engine.io ping
                await self._socket.send("3")
                continue
            prefix = f"42{NAMESPACE},"
            if not isinstance(message, str) or not message.startswith(prefix):
                continue
            now = time.perf_counter()
            self._framed.set()
            self.frames += 1
            self.payload_bytes += len(message.encode())
            name, update = json.loads(message[len(prefix) :])
            delta = update.get("delta", {}) if name == "event" and isinstance(update, dict) else {}
            if delta.get(State.get_full_name(), {}).get("is_hydrated" + FIELD_MARKER):
                self._hydrated.set()
            live = delta.get(_CHAT, {}).get(_LIVE)
            if live:
                answer = next((i for i in reversed(live) if i.get("kind") == "assistant"), None)
                seen = len(_TOKEN.findall(answer.get("content", ""))) if answer else 0
                while len(self.arrivals) < seen:
                    self.arrivals.append(now)
                self._changed.set()
