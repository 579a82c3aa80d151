"""Abusive WebSocket clients, against a real backend whose model streams at a known pace.

Every abuse gets an error event or a clean close, the server stays up, and a stream in another
session finishes as fast under the abuse as alone.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
import websockets
from websockets.frames import Frame, Opcode

from agentkit_app.api.ws import FRAME_BURST, max_frame_bytes
from tests.api.conftest import ROOT, Backend, free_port, start_backend, stop_backend
from tests.engine.llm.conftest import chunk

TOKENS = 40
PAUSE_S = 0.05
MAX_CONTENT_CHARS = 32_000  # the setting's default, which the backend runs with
MAX_FRAME = max_frame_bytes(MAX_CONTENT_CHARS)
QUESTION = "describe the sea"


class _PacedHandler(BaseHTTPRequestHandler):
    """Answers every chat completion with TOKENS words, PAUSE_S apart; a title request at once."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        first = str((body.get("messages") or [{}])[0].get("content") or "")
        words = ["Paced title"] if first.startswith("Write a title") else [f"w{i} " for i in range(TOKENS)]
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            for i, word in enumerate(words):
                if i:
                    time.sleep(PAUSE_S)
                self._event(chunk(content=word, role="assistant" if i == 0 else None))
            self._event(chunk(finish="stop"))
            self._event("[DONE]")
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _event(self, event: dict[str, Any] | str) -> None:
        data = f"data: {event if isinstance(event, str) else json.dumps(event)}\n\n".encode()
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()


def serve_paced(port: int) -> None:
    """Serve the paced model on ``port`` until killed (run in a process of its own, so that the
    test's own work cannot slow the pace)."""
    server = ThreadingHTTPServer(("127.0.0.1", port), _PacedHandler)
    server.daemon_threads = True
    server.serve_forever()


@pytest.fixture(scope="module")
def paced(tmp_path_factory) -> Iterator[Backend]:
    """A backend whose model is the paced server."""
    port = free_port()
    model = subprocess.Popen(
        [sys.executable, "-c", f"from tests.api.test_ws_abuse import serve_paced; serve_paced({port})"],
        cwd=ROOT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline and model.poll() is None, "the paced model did not start"
                time.sleep(0.1)
        server = start_backend(
            tmp_path_factory.mktemp("abuse"),
            AGENTKIT_LLM_BASE_URL=f"http://127.0.0.1:{port}/v1",
            AGENTKIT_LLM_MODEL="paced",
            AGENTKIT_FALLBACK_ENABLED="false",
        )
        try:
            yield server
        finally:
            stop_backend(server)
        log = (server.data / "server.log").read_text()
        assert "Traceback" not in log, log[-3000:]
    finally:
        model.kill()
        model.wait(5)


def new_session(backend: Backend) -> str:
    response = httpx.post(f"{backend.base}/api/v1/chat/sessions", json={"agent_name": "assistant"})
    return response.json()["session_id"]


async def receive(ws, timeout: float = 10.0) -> dict:
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def closed_with(ws, timeout: float = 10.0) -> tuple[list[dict], int | None]:
    """Read until the server closes; return the frames read and the close code."""
    frames: list[dict] = []
    try:
        while True:
            frames.append(await receive(ws, timeout))
    except websockets.ConnectionClosed as closed:
        return frames, closed.rcvd.code if closed.rcvd else None


async def timed_stream(backend: Backend) -> float:
    """Return the seconds from sending a message to its final answer, in a new session."""
    async with websockets.connect(f"{backend.ws}/{new_session(backend)}") as ws:
        assert (await receive(ws))["type"] == "connected"
        started = time.perf_counter()
        await ws.send(json.dumps({"type": "message", "content": QUESTION}))
        while True:
            frame = await receive(ws, 30)
            assert frame["type"] != "error", frame
            if frame["type"] == "final_answer":
                elapsed = time.perf_counter() - started
                assert frame["data"]["content"].split() == [f"w{i}" for i in range(TOKENS)]
                return elapsed


async def big_frame(backend: Backend, sid: str, payload: str | bytes) -> None:
    """A frame past the limit: an error event, then close 1009."""
    async with websockets.connect(f"{backend.ws}/{sid}") as ws:
        await receive(ws)
        await ws.send(payload)
        frames, code = await closed_with(ws)
        assert code == 1009, (code, frames)
        assert [f["type"] for f in frames] == ["error"] and "larger" in frames[0]["data"]["message"]


async def ping_flood(backend: Backend, sid: str, seconds: float) -> int:
    """Send pings at 1,000 a second; return how many times the server closed the socket with 1008."""
    closes = 0
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        async with websockets.connect(f"{backend.ws}/{sid}") as ws:
            await receive(ws)
            reader = asyncio.create_task(closed_with(ws))
            next_batch = time.monotonic()
            try:
                while not reader.done() and time.monotonic() < until:
                    for _ in range(10):  # 10 every 10 ms
                        await ws.send('{"type": "ping"}')
                    next_batch += 0.01
                    await asyncio.sleep(max(0.0, next_batch - time.monotonic()))
            except websockets.ConnectionClosed:
                pass
            if not reader.done():
                await ws.close()
            frames, code = await reader
            if code == 1008:
                closes += 1
                assert frames[-1]["type"] == "error" and "too many" in frames[-1]["data"]["message"]
                pongs = [f for f in frames if f["type"] == "pong"]
                assert 0 < len(pongs) <= FRAME_BURST + 10, len(pongs)
    return closes


# text that is not JSON is ignored, as the protocol says (the reference's clients expect no answer)
MALFORMED_JSON = ["{not json", "[" * 50_000 + "]" * 50_000]
BAD_FRAMES: list[tuple[str | bytes, str]] = [
    (b"\x00\x01binary", "binary"),
    ("[]", "object"),
    ('"x"', "object"),
    ("42", "object"),
    ('{"type": 5}', "unknown frame type"),
    ('{"type": "message", "content": {"a": 1}}', "content"),
    ('{"type": "message", "content": "hi", "model": [1]}', "model"),
    ('{"type": "message", "content": "a\\u0000b"}', "content"),
    ('{"type": "message", "content": "hi", "attachments": "x.txt"}', "attachment"),
    ('{"type": "reply", "request_id": "nope", "content": "Ada"}', "no pending question"),
    ('{"type": "reply", "request_id": "nope", "content": 5}', "content"),
    (
        '{"type": "confirmation_reply", "confirmation_id": "nope", "approved": true}',
        "no pending confirmation",
    ),
    ('{"type": "confirmation_reply", "confirmation_id": "nope", "approved": "false"}', "true or false"),
    (
        '{"type": "confirmation_reply", "data": {"confirmation_id": {"x": 1}, "approved": false}}',
        "no pending",
    ),
]


async def bad_frames(backend: Backend, sid: str) -> None:
    """Malformed JSON is ignored, each other bad frame gets its own error event, and the socket still answers."""
    async with websockets.connect(f"{backend.ws}/{sid}") as ws:
        await receive(ws)
        for payload in MALFORMED_JSON:
            await ws.send(payload)
        await ws.send('{"type": "ping"}')
        assert (await receive(ws))["type"] == "pong", "malformed JSON gets no answer"
        for payload, words in BAD_FRAMES:
            await ws.send(payload)
            frame = await receive(ws)
            assert frame["type"] == "error" and words in frame["data"]["message"], (payload[:60], frame)
        await ws.send('{"type": "ping"}')
        assert (await receive(ws))["type"] == "pong"


class RawSocket:
    """A WebSocket client that writes frames by hand, so it can go on sending after a close."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def connect(cls, backend: Backend, sid: str) -> RawSocket:
        host, port = backend.base.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            f"GET /api/v1/chat/ws/{sid} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        assert head.startswith(b"HTTP/1.1 101"), head
        return cls(reader, writer)

    async def send(self, opcode: Opcode, payload: bytes) -> None:
        self.writer.write(Frame(opcode, payload).serialize(mask=True))
        await self.writer.drain()

    async def read(self, timeout: float = 10.0) -> tuple[Opcode, bytes] | None:
        """Return the next frame from the server, or None at the end of the connection."""
        try:
            head = await asyncio.wait_for(self.reader.readexactly(2), timeout)
            length = head[1] & 0x7F
            if length == 126:
                (length,) = struct.unpack("!H", await self.reader.readexactly(2))
            elif length == 127:
                (length,) = struct.unpack("!Q", await self.reader.readexactly(8))
            return Opcode(head[0] & 0x0F), await self.reader.readexactly(length)
        except (asyncio.IncompleteReadError, ConnectionError):
            return None  # a reset too: the server drops a connection with frames it did not read

    def close(self) -> None:
        self.writer.close()


def close_code(payload: bytes) -> int:
    return struct.unpack("!H", payload[:2])[0]


async def frames_after_a_close(backend: Backend, sid: str) -> None:
    """After the client's close, and after the server's, further frames get no answer but the close."""
    raw = await RawSocket.connect(backend, sid)
    try:
        assert json.loads((await raw.read())[1])["type"] == "connected"
        await raw.send(Opcode.CLOSE, struct.pack("!H", 1000))
        with contextlib.suppress(ConnectionError):  # the server may have hung up already: a close too
            for _ in range(5):
                await raw.send(Opcode.TEXT, b'{"type": "ping"}')
            await raw.send(Opcode.TEXT, json.dumps({"type": "message", "content": "after close"}).encode())
        answer = await raw.read()
        assert answer is None or (answer[0] is Opcode.CLOSE and close_code(answer[1]) == 1000), answer
        assert await raw.read() is None, "nothing answers frames sent after the close"
    finally:
        raw.close()
    raw = await RawSocket.connect(backend, sid)
    try:
        await raw.read()
        await raw.send(Opcode.TEXT, b"x" * (MAX_FRAME + 1))
        opcode, payload = await raw.read()
        assert opcode is Opcode.TEXT and json.loads(payload)["type"] == "error"
        opcode, payload = await raw.read()
        assert opcode is Opcode.CLOSE and close_code(payload) == 1009
        with contextlib.suppress(ConnectionError):
            for _ in range(5):
                await raw.send(
                    Opcode.TEXT, json.dumps({"type": "message", "content": "after close"}).encode()
                )
            await raw.send(Opcode.CLOSE, struct.pack("!H", 1009))
        assert await raw.read() is None, "nothing answers frames sent after the close"
    finally:
        raw.close()


async def still_serves(backend: Backend) -> None:
    assert backend.process.poll() is None, "the server is still running"
    assert httpx.get(f"{backend.base}/api/v1/health", timeout=5).json() == {"status": "ok"}
    async with websockets.connect(f"{backend.ws}/{new_session(backend)}") as ws:
        assert (await receive(ws))["type"] == "connected"
        await ws.send('{"type": "ping"}')
        assert (await receive(ws))["type"] == "pong"


async def test_frames_past_the_limit_close_with_1009_and_a_longest_message_fits(paced):
    sid = new_session(paced)
    await big_frame(paced, sid, "x" * (1024 * 1024))
    await big_frame(paced, sid, b"\x00" * (1024 * 1024))
    await big_frame(paced, sid, "x" * (MAX_FRAME + 1))
    await big_frame(paced, sid, "字" * (MAX_FRAME // 3 + 1))  # few characters, many bytes
    async with websockets.connect(f"{paced.ws}/{sid}") as ws:
        await receive(ws)
        # as many characters as a message may have, each as wide as UTF-8 goes: not the frame limit
        longest = json.dumps(
            {"type": "message", "content": "😀" * (MAX_CONTENT_CHARS + 1)}, ensure_ascii=False
        )
        assert len(longest.encode()) <= MAX_FRAME
        await ws.send(longest)
        error = await receive(ws)
        assert error["type"] == "error" and "content longer than" in error["data"]["message"]
    await still_serves(paced)


async def test_each_bad_frame_gets_an_error_and_the_socket_stays_open(paced):
    await bad_frames(paced, new_session(paced))
    await still_serves(paced)


async def test_a_ping_flood_is_closed_with_1008(paced):
    assert await ping_flood(paced, new_session(paced), 0.5) >= 1
    await still_serves(paced)


async def test_frames_after_a_close_are_discarded(paced):
    sid = new_session(paced)
    await frames_after_a_close(paced, sid)
    messages = httpx.get(f"{paced.base}/api/v1/chat/sessions/{sid}/messages").json()
    assert messages == [], "no frame sent after a close started a turn"
    await still_serves(paced)


async def _repeat(stop: asyncio.Event, round_: Callable[[], Awaitable[Any]], pause_s: float) -> int:
    """Run an abuse round again and again until ``stop``; return how many rounds ran."""
    rounds = 0
    while not stop.is_set():
        await round_()
        rounds += 1
        await asyncio.sleep(pause_s)
    return rounds


async def test_a_stream_in_another_session_keeps_its_pace_under_abuse(paced):
    await timed_stream(paced)  # warm up: the first turn of a process imports and connects
    alone = await timed_stream(paced)
    assert alone >= TOKENS * PAUSE_S * 0.9, "the model streams at its pace"
    stop = asyncio.Event()
    sid = new_session(paced)
    abuse = [
        _repeat(stop, lambda: big_frame(paced, sid, "x" * (1024 * 1024)), 0.05),
        _repeat(stop, lambda: big_frame(paced, sid, os.urandom(1024 * 1024)), 0.05),
        _repeat(stop, lambda: ping_flood(paced, sid, 0.3), 0.0),
        _repeat(stop, lambda: bad_frames(paced, sid), 0.0),
        _repeat(stop, lambda: frames_after_a_close(paced, sid), 0.05),
    ]
    abusers = [asyncio.create_task(a) for a in abuse]
    await asyncio.sleep(0.3)  # the abuse is under way before the stream starts
    try:
        under_abuse = await timed_stream(paced)
    finally:
        stop.set()
    rounds = await asyncio.gather(*abusers)
    assert all(rounds), f"every abuse ran during the stream: {rounds}"
    assert under_abuse <= 1.2 * alone + 0.3, f"alone {alone:.2f} s, under abuse {under_abuse:.2f} s"
    await still_serves(paced)
