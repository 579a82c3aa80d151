"""An OpenAI-compatible chat model that streams numbered tokens at a set pace, so that a benchmark
measures the app in front of it, not a model.

``python -m bench.paced_model --port 8001 --ttft 0.2 --rate 100 --tokens 500`` serves
``POST /v1/chat/completions`` (streamed as server-sent events, or one JSON reply) and ``GET /v1/models``.
Token ``i`` (from 0) leaves ``ttft + i / rate`` seconds after the request arrived, scheduled against
that start rather than slept one by one, so pacing does not drift; tokens that fall due together (a
busy machine) leave in one write, each as its own event, as a real endpoint sends them. The tokens
are numbered (``t0001 t0002 ...``) so a client can check that every one arrived, in order.
A request's ``max_tokens`` (or ``max_completion_tokens``) shortens the reply.

It speaks HTTP/1.1 with keep-alive on plain asyncio streams: a framework would cost more per token
than the app being measured, at 250 streams of 100 tokens a second on two cores.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import sys
import time
import uuid
from dataclasses import dataclass
from typing import Any

from bench.common import ServerSpec, free_port

MODEL_NAME = "paced"
_TOKEN_NUMBER = re.compile(r"t(\d+) ")


@dataclass(frozen=True)
class Pace:
    """How the model answers: seconds to the first token, tokens a second, tokens in a reply."""

    ttft_s: float = 0.2
    rate: float = 100.0
    tokens: int = 500

    def due_s(self, index: int) -> float:
        """Return when token ``index`` (from 0) is due, in seconds after the request arrived."""
        return self.ttft_s + index / self.rate

    @property
    def ideal_s(self) -> float:
        """Return the time a client needs for a whole reply from a perfect server: the last token's due time."""
        return self.due_s(self.tokens - 1)

    def args(self) -> list[str]:
        """Return the command-line options that give this pace."""
        return ["--ttft", str(self.ttft_s), "--rate", str(self.rate), "--tokens", str(self.tokens)]


def token_text(index: int, count: int) -> str:
    """Return token ``index`` (from 0) of a reply of ``count`` tokens: ``t0001 `` and so on."""
    return f"t{index + 1:0{max(4, len(str(count)))}d} "


def reply_text(count: int) -> str:
    """Return the whole text of a reply of ``count`` tokens."""
    return "".join(token_text(i, count) for i in range(count))


def token_numbers(text: str) -> list[int]:
    """Return the numbers of the tokens in ``text``, in the order they appear."""
    return [int(number) for number in _TOKEN_NUMBER.findall(text)]


class _Reply:
    """The wire form of one completion: its chunks as server-sent events, or one JSON body."""

    def __init__(self, request: dict[str, Any], pace: Pace) -> None:
        limit = request.get("max_completion_tokens") or request.get("max_tokens")
        self.count = min(pace.tokens, limit) if isinstance(limit, int) and limit > 0 else pace.tokens
        self.model = str(request.get("model") or MODEL_NAME)
        self.id = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        self.created = int(time.time())
        options = request.get("stream_options")
        self.include_usage = isinstance(options, dict) and options.get("include_usage") is True
        prompt_chars = sum(len(str(m.get("content") or "")) for m in request.get("messages") or [])
        self.usage = {
            "prompt_tokens": prompt_chars // 4,
            "completion_tokens": self.count,
            "total_tokens": prompt_chars // 4 + self.count,
        }

    def _chunk(self, delta: dict[str, Any], finish_reason: str | None) -> bytes:
        chunk: dict[str, Any] = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
        }
        if self.include_usage:
            chunk["usage"] = None
        return b"data: " + json.dumps(chunk, separators=(",", ":")).encode() + b"\n\n"

    def token_event(self, index: int) -> bytes:
        """Return the event carrying token ``index``; the first also names the role."""
        delta = {"content": token_text(index, self.count)}
        return self._chunk({"role": "assistant", **delta} if index == 0 else delta, None)

    def closing_events(self) -> bytes:
        """Return the events after the last token: the finish reason, the usage if asked for, ``[DONE]``."""
        events = self._chunk({}, "stop")
        if self.include_usage:
            usage = {
                "id": self.id,
                "object": "chat.completion.chunk",
                "created": self.created,
                "model": self.model,
                "choices": [],
                "usage": self.usage,
            }
            events += b"data: " + json.dumps(usage, separators=(",", ":")).encode() + b"\n\n"
        return events + b"data: [DONE]\n\n"

    def completion(self) -> dict[str, Any]:
        """Return the non-streamed reply."""
        return {
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "model": self.model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": reply_text(self.count)},
                    "finish_reason": "stop",
                }
            ],
            "usage": self.usage,
        }


def _response_head(status: str, content_type: str, length: int | None) -> bytes:
    framing = f"content-length: {length}" if length is not None else "transfer-encoding: chunked"
    return (
        f"HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncache-control: no-cache\r\n{framing}\r\n\r\n"
    ).encode()


def _chunked(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


class PacedModelServer:
    """Serves the paced model on asyncio streams."""

    def __init__(self, pace: Pace) -> None:
        self.pace = pace

    async def serve(self, host: str, port: int) -> None:
        """Serve until cancelled."""
        server = await asyncio.start_server(self._connection, host, port, backlog=4096)
        async with server:
            await server.serve_forever()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while await self._exchange(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    async def _exchange(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Answer one request; return whether the connection stays open for another."""
        # a head over the reader's 64 KiB limit raises, which ends the connection
        head = await reader.readuntil(b"\r\n\r\n")
        request_line, *header_lines = head.decode("latin-1").split("\r\n")
        method, _, rest = request_line.partition(" ")
        path = rest.partition(" ")[0].partition("?")[0]
        headers = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        body = await reader.readexactly(int(headers.get("content-length") or 0))
        started = _now()
        keep_alive = headers.get("connection", "").lower() != "close"
        if method == "GET" and path.rstrip("/").endswith("/models"):
            listing = {"object": "list", "data": [{"id": MODEL_NAME, "object": "model", "owned_by": "bench"}]}
            await self._send_json(writer, "200 OK", listing)
        elif method == "POST" and path.rstrip("/").endswith("/chat/completions"):
            try:
                request = json.loads(body)
                if not isinstance(request, dict):
                    raise ValueError("the body must be a JSON object")
            except ValueError as exc:
                error = {"error": {"message": f"invalid JSON body: {exc}", "type": "invalid_request_error"}}
                await self._send_json(writer, "400 Bad Request", error)
                return keep_alive
            reply = _Reply(request, self.pace)
            if request.get("stream") is True:
                await self._stream(writer, reply, started)
            else:
                await asyncio.sleep(max(0.0, started + self.pace.due_s(reply.count - 1) - _now()))
                await self._send_json(writer, "200 OK", reply.completion())
        else:
            await self._send_json(
                writer, "404 Not Found", {"error": {"message": f"no route {method} {path}"}}
            )
        return keep_alive

    async def _send_json(self, writer: asyncio.StreamWriter, status: str, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        writer.write(_response_head(status, "application/json", len(data)) + data)
        await writer.drain()

    async def _stream(self, writer: asyncio.StreamWriter, reply: _Reply, started: float) -> None:
        """Send the reply's tokens as they fall due, then its closing events."""
        writer.write(_response_head("200 OK", "text/event-stream", None))
        sent = 0
        while sent < reply.count:
            wait = started + self.pace.due_s(sent) - _now()
            if wait > 0:
                await asyncio.sleep(wait)
            elapsed = _now() - started
            due = sent + 1
            while due < reply.count and self.pace.due_s(due) <= elapsed:
                due += 1
            writer.write(_chunked(b"".join(reply.token_event(i) for i in range(sent, due))))
            await writer.drain()
            sent = due
        writer.write(_chunked(reply.closing_events()) + b"0\r\n\r\n")
        await writer.drain()


def _now() -> float:
    return asyncio.get_running_loop().time()


def paced_model_spec(pace: Pace) -> ServerSpec:
    """Return the paced model as a server of its own on a free port (its API root: ``spec.base + "/v1"``).

    A process of its own keeps the model's work off the benchmark's clients and off the app.
    """
    port = free_port()
    command = [sys.executable, "-m", "bench.paced_model", "--port", str(port), *pace.args()]
    return ServerSpec(command, f"http://127.0.0.1:{port}", "/v1/models")


def main(argv: list[str] | None = None) -> None:
    """Serve the paced model until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--ttft", type=float, default=0.2, help="seconds to the first token")
    parser.add_argument("--rate", type=float, default=100.0, help="tokens a second")
    parser.add_argument("--tokens", type=int, default=500, help="tokens in a reply")
    args = parser.parse_args(argv)
    pace = Pace(ttft_s=args.ttft, rate=args.rate, tokens=args.tokens)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(PacedModelServer(pace).serve(args.host, args.port))


if __name__ == "__main__":
    main()
