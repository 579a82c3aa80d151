"""A local server that speaks the OpenAI streaming wire format, scripted reply by reply."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

API_KEY = "sk-test-SECRET-0123456789"
MODEL = "fake-model"


@dataclass
class SseReply:
    """A 200 event stream: each event a ``data:`` line (a dict as JSON, a str verbatim), then ``[DONE]``.

    ``wait_s`` passes before the status line, ``pause_s`` between events and ``stall_s`` after
    the last event, before ``[DONE]``.
    """

    events: list[dict[str, Any] | str]
    done: bool = True
    wait_s: float = 0.0
    pause_s: float = 0.0
    stall_s: float = 0.0


@dataclass
class ErrorReply:
    """An HTTP error: a status, a JSON (dict) or plain-text (str) body, and extra headers."""

    status: int
    body: dict[str, Any] | str
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class JsonReply:
    """A 200 with a plain JSON body, as a server that ignores ``stream: true`` would send."""

    body: dict[str, Any]


Reply = SseReply | ErrorReply | JsonReply


@dataclass
class RecordedRequest:
    """One request the server received."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class FakeOpenAI:
    """The scripted server: push replies, point a client at ``base_url``, read ``requests``."""

    base_url: str
    replies: list[Reply] = field(default_factory=list)
    requests: list[RecordedRequest] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def push(self, *replies: Reply) -> None:
        """Queue replies, answered in order, one per request."""
        self.replies.extend(replies)


def chunk(
    *,
    content: str | None = None,
    reasoning: str | None = None,
    tool_calls: list[dict[str, Any]] | None = None,
    role: str | None = None,
    finish: str | None = None,
    model: str = MODEL,
) -> dict[str, Any]:
    """Return one ``chat.completion.chunk`` with a single choice."""
    delta: dict[str, Any] = {}
    if role is not None:
        delta["role"] = role
    if content is not None:
        delta["content"] = content
    if reasoning is not None:
        delta["reasoning_content"] = reasoning
    if tool_calls is not None:
        delta["tool_calls"] = tool_calls
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": 1_700_000_000,
        "model": model,
        "system_fingerprint": "fp_test",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        "usage": None,
    }


def tool_delta(
    index: int, *, call_id: str | None = None, name: str | None = None, arguments: str | None = None
) -> dict[str, Any]:
    """Return one tool-call delta: the first of a call carries id and name, later ones argument pieces."""
    delta: dict[str, Any] = {"index": index, "function": {}}
    if call_id is not None:
        delta.update(id=call_id, type="function")
    if name is not None:
        delta["function"]["name"] = name
    if arguments is not None:
        delta["function"]["arguments"] = arguments
    return delta


def usage_chunk(prompt_tokens: int, completion_tokens: int, model: str = MODEL) -> dict[str, Any]:
    """Return the final usage chunk, with no choices, as sent for ``include_usage``."""
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": 1_700_000_000,
        "model": model,
        "choices": [],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        fake = self.server.fake
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        fake.requests.append(
            RecordedRequest(
                self.path, {k.lower(): v for k, v in self.headers.items()}, json.loads(raw or b"{}")
            )
        )
        reply = (
            fake.replies.pop(0) if fake.replies else ErrorReply(500, {"error": {"message": "no reply left"}})
        )
        try:
            if isinstance(reply, SseReply):
                self._stream(reply, fake.stop)
            elif isinstance(reply, ErrorReply):
                body = reply.body if isinstance(reply.body, str) else json.dumps(reply.body)
                ctype = "text/html" if isinstance(reply.body, str) else "application/json"
                self._send_whole(reply.status, ctype, body.encode(), reply.headers)
            else:
                self._send_whole(200, "application/json", json.dumps(reply.body).encode())
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _send_whole(
        self, status: int, ctype: str, body: bytes, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _stream(self, reply: SseReply, stop: threading.Event) -> None:
        if reply.wait_s and stop.wait(reply.wait_s):
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for i, event in enumerate(reply.events):
            if i and reply.pause_s and stop.wait(reply.pause_s):
                return
            self._write_chunk(f"data: {event if isinstance(event, str) else json.dumps(event)}\n\n")
        if reply.stall_s and stop.wait(reply.stall_s):
            return
        if reply.done:
            self._write_chunk("data: [DONE]\n\n")
        self.wfile.write(b"0\r\n\r\n")

    def _write_chunk(self, text: str) -> None:
        data = text.encode()
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    fake: FakeOpenAI

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up mid-stream (timeout, cancel) is expected here, not a failure.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    """Run the scripted server on a random local port for one test."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.fake = FakeOpenAI(base_url=f"http://127.0.0.1:{server.server_address[1]}/v1")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server.fake
    finally:
        server.fake.stop.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
