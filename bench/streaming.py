"""N WebSocket clients each running one turn at the same moment through AgentKit, against the same N
clients reading the paced model directly over HTTP (server-sent events), in the same run.

``python -m bench.streaming --clients 1,100,250 --tokens 500 --rate 100 --ttft 0.2``

The backend is the API app alone (``uvicorn agentkit_app.api.app:build_api --factory``, one process,
no Reflex UI) on a fresh SQLite file, with the paced model as its main model and the bench API key.
Each client gets a session of its own; its title is set first (as a user renaming it) so that the
turn makes one model call, the answer, and not a second one to title the conversation (which, with a
paced model, would be as long as the answer); ``--title-call`` keeps that call.

Per client: added time to first token (over the model's configured ``ttft``), completion over ideal
(ideal: the last token's due time, ``ttft + (tokens - 1) / rate``; completion ends with the
``final_answer`` frame, or ``[DONE]`` for the baseline), the gaps between tokens, the time from the
last token to that end, and whether every numbered token arrived once and in order. While the N turns
run: the backend's peak RSS and CPU seconds, and the CPU seconds of the benchmark's clients and of the
paced model (one of them near one CPU second a second means the machine, not the app, set the pace).
Run it on a quiet machine: it shares the cores with what it measures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

from bench.common import (
    API_KEY,
    SERVERS,
    ProcessSampler,
    ProcessUsage,
    Row,
    backend_settings,
    backend_spec,
    format_table,
    percentile,
    running,
    warm_up_backend,
)
from bench.paced_model import MODEL_NAME, Pace, paced_model_spec, reply_text, token_numbers

PROMPT = "Tell me a long story about a lighthouse keeper."
OPENING = 50  # connections opened at once while setting up


@dataclass
class Stream:
    """What one client saw of one answer: when it asked, when each token arrived, the text, the end."""

    sent: float = 0.0
    arrivals: list[float] = field(default_factory=list)
    parts: list[str] = field(default_factory=list)
    done: float | None = None
    error: str | None = None

    def receive(self, content: str, at: float) -> None:
        """Record text that arrived at ``at``, each numbered token in it as one arrival."""
        self.parts.append(content)
        self.arrivals.extend([at] * len(token_numbers(content)))


@dataclass
class Figures:
    """The figures of N clients answered at once."""

    count: int
    added_ttft_ms: list[float]
    completion_over_ideal: list[float]
    gaps_ms: list[float]
    # from the last token to the end of the answer (``final_answer``, or ``[DONE]``): what the server
    # does after the model has finished, e.g. storing the answer
    tail_ms: list[float]
    complete_in_order: int
    errors: list[str]
    tokens: int = 0  # tokens delivered, over all clients
    # what the processes used meanwhile: the backend (None for the baseline), the benchmark's own
    # (every client) and the paced model's; a process near one CPU second a second sets the pace itself
    backend: ProcessUsage | None = None
    clients: ProcessUsage | None = None
    model: ProcessUsage | None = None

    @property
    def in_order(self) -> str:
        """Return how many answers arrived whole and in order, of how many: ``done/count``."""
        return f"{self.complete_in_order}/{self.count}"


def latency_rows(app: Figures, base: Figures, digits: int = 2) -> list[Row]:
    """Return the rows both streaming tables begin with: first token, completion over ideal, gaps."""
    return [
        Row("added time to first token p50 (ms)", percentile(app.added_ttft_ms, 50), percentile(base.added_ttft_ms, 50)),
        Row("added time to first token p99 (ms)", percentile(app.added_ttft_ms, 99), percentile(base.added_ttft_ms, 99)),
        Row("completion / ideal p50", percentile(app.completion_over_ideal, 50), percentile(base.completion_over_ideal, 50), digits),
        Row("completion / ideal max", percentile(app.completion_over_ideal, 100), percentile(base.completion_over_ideal, 100), digits),
        Row("inter-token gap p99 (ms)", percentile(app.gaps_ms, 99), percentile(base.gaps_ms, 99)),
    ]  # fmt: skip


def summarize(streams: Sequence[Stream], pace: Pace) -> Figures:
    """Return the figures of ``streams``, each of which asked for one reply paced by ``pace``."""
    expected = reply_text(pace.tokens)
    figures = Figures(len(streams), [], [], [], [], 0, [])
    for stream in streams:
        figures.tokens += len(stream.arrivals)
        if stream.arrivals:
            figures.added_ttft_ms.append((stream.arrivals[0] - stream.sent - pace.ttft_s) * 1000)
            pairs = zip(stream.arrivals, stream.arrivals[1:], strict=False)
            figures.gaps_ms.extend((b - a) * 1000 for a, b in pairs)
        if stream.done is not None:
            figures.completion_over_ideal.append((stream.done - stream.sent) / pace.ideal_s)
            if stream.arrivals:
                figures.tail_ms.append((stream.done - stream.arrivals[-1]) * 1000)
        if stream.error is None and stream.done is None:
            stream.error = "no end of the answer"
        if stream.error is not None:
            figures.errors.append(stream.error)
        elif "".join(stream.parts) == expected:
            figures.complete_in_order += 1
    return figures


@dataclass(frozen=True)
class Servers:
    """The paced model and the AgentKit backend of a run: their addresses and process ids."""

    model_api: str
    model_pid: int
    backend: str
    backend_pid: int


async def _together(jobs: Sequence[Callable[[], Awaitable[Any]]], at_once: int) -> list[Any]:
    """Run the jobs with at most ``at_once`` of them at a time; return their results in order."""
    gate = asyncio.Semaphore(at_once)

    async def one(job: Callable[[], Awaitable[Any]]) -> Any:
        async with gate:
            return await job()

    return list(await asyncio.gather(*(one(job) for job in jobs)))


async def streamed_at_once(
    servers: Servers, pace: Pace, jobs: Sequence[Callable[[Stream], Awaitable[None]]], with_backend: bool
) -> Figures:
    """Start every job at the same moment, each recording one answer; return their figures and what the
    processes used meanwhile.

    A job that fails or takes longer than a generous timeout counts as an error: overload is
    measured, not failed.
    """
    timeout_s = 60 + pace.ideal_s * max(10, len(jobs) / 10)
    streams = [Stream() for _ in jobs]

    async def timed(job: Callable[[Stream], Awaitable[None]], stream: Stream) -> None:
        try:
            async with asyncio.timeout(timeout_s):
                await job(stream)
        except TimeoutError:
            stream.error = f"no answer in {timeout_s:g} s"
        except Exception as exc:  # every failure of a client is one of the errors counted
            stream.error = f"{type(exc).__name__}: {exc}"[:200]

    async with (
        ProcessSampler(servers.backend_pid) as backend,
        ProcessSampler(os.getpid(), descendants=False) as clients,
        ProcessSampler(servers.model_pid) as model,
    ):
        await asyncio.gather(*(timed(job, stream) for job, stream in zip(jobs, streams, strict=True)))
    figures = summarize(streams, pace)
    figures.backend = backend.usage if with_backend else None
    figures.clients, figures.model = clients.usage, model.usage
    return figures


async def _read_model_stream(http: httpx.AsyncClient, model_api: str, stream: Stream) -> None:
    """Ask the paced model for one streamed reply and record its tokens (the baseline's client)."""
    body = {"model": MODEL_NAME, "messages": [{"role": "user", "content": PROMPT}], "stream": True}
    stream.sent = time.perf_counter()
    async with http.stream("POST", f"{model_api}/chat/completions", json=body) as response:
        response.raise_for_status()
        buffer = b""
        async for data in response.aiter_raw():
            at = time.perf_counter()
            *events, buffer = (buffer + data).split(b"\n\n")
            for event in events:
                payload = event.removeprefix(b"data: ")
                if payload == b"[DONE]":
                    stream.done = at
                    return
                choices = json.loads(payload).get("choices") or [{}]
                content = choices[0].get("delta", {}).get("content")
                if content:
                    stream.receive(content, at)
    stream.error = "the stream ended without [DONE]"


async def baseline(servers: Servers, count: int, pace: Pace) -> Figures:
    """Return the figures of ``count`` clients reading the paced model directly, all at once."""
    https = [httpx.AsyncClient(timeout=httpx.Timeout(60 + pace.ideal_s)) for _ in range(count)]
    try:
        # open each client's connection first, as the AgentKit clients open their sockets first
        await _together([partial(http.get, f"{servers.model_api}/models") for http in https], OPENING)
        jobs = [partial(_read_model_stream, http, servers.model_api) for http in https]
        return await streamed_at_once(servers, pace, jobs, with_backend=False)
    finally:
        await asyncio.gather(*(http.aclose() for http in https))


async def _new_session(http: httpx.AsyncClient, title_call: bool) -> str:
    """Create a session with the general assistant; titled by hand unless the turn is to title it."""
    created = await http.post("/api/v1/chat/sessions", json={"agent_name": "assistant"})
    created.raise_for_status()
    session_id = str(created.json()["session_id"])
    if not title_call:
        renamed = await http.patch(f"/api/v1/chat/sessions/{session_id}", json={"title": "Benchmark"})
        renamed.raise_for_status()
    return session_id


async def _open_socket(ws_base: str, session_id: str) -> ClientConnection:
    """Open a session's socket as a browser would: no keepalive pings of the client's own."""
    url = f"{ws_base}/api/v1/chat/ws/{session_id}?api_key={API_KEY}"
    socket = await connect(url, max_size=None, ping_interval=None, open_timeout=60)
    hello = json.loads(await socket.recv())
    if hello.get("type") != "connected":
        raise RuntimeError(f"the socket answered {hello} instead of connected")
    return socket


async def run_turn(socket: ClientConnection, stream: Stream) -> None:
    """Send one message on an open AgentKit socket and record the answer's tokens until ``final_answer``."""
    stream.sent = time.perf_counter()
    await socket.send(json.dumps({"type": "message", "content": PROMPT}))
    async for raw in socket:
        at = time.perf_counter()
        frame = json.loads(raw)
        kind, data = frame.get("type"), frame.get("data") or {}
        if kind == "token":
            stream.receive(str(data.get("content", frame.get("content", ""))), at)
        elif kind == "final_answer":
            stream.done = at
            return
        elif kind in ("error", "result"):
            stream.error = f"{kind}: {data.get('message') or data.get('status')}"
            return
    stream.error = "the socket closed before the answer ended"


async def open_sockets(
    backends: Sequence[str], count: int, title_call: bool = False
) -> list[ClientConnection]:
    """Open ``count`` sockets, each on a session of its own, spread in turn over ``backends`` (their base URLs)."""
    spread = [backends[i % len(backends)] for i in range(count)]
    https = {
        base: httpx.AsyncClient(base_url=base, headers={"X-API-Key": API_KEY}, timeout=120)
        for base in backends
    }
    try:
        sessions = await _together(
            [partial(_new_session, https[base], title_call) for base in spread], OPENING
        )
    finally:
        await asyncio.gather(*(http.aclose() for http in https.values()))
    ws_bases = [base.replace("http://", "ws://", 1) for base in spread]
    return await _together(
        [partial(_open_socket, ws, s) for ws, s in zip(ws_bases, sessions, strict=True)], OPENING
    )


async def through_agentkit(servers: Servers, count: int, pace: Pace, title_call: bool = False) -> Figures:
    """Return the figures of ``count`` WebSocket clients each running one turn on AgentKit, all at once."""
    sockets = await open_sockets([servers.backend], count, title_call)
    try:
        jobs = [partial(run_turn, socket) for socket in sockets]
        return await streamed_at_once(servers, pace, jobs, with_backend=True)
    finally:
        await asyncio.gather(*(socket.close() for socket in sockets))


def comparison_rows(app: Figures, base: Figures) -> list[Row]:
    """Return the table rows comparing AgentKit's figures with the baseline's."""

    def cpu_s(usage: ProcessUsage | None) -> float | None:
        return usage.cpu_s if usage else None

    def per_token_us(usage: ProcessUsage | None, f: Figures) -> float | str:
        # the cost of streaming itself, which a busy machine changes less than it changes times
        return usage.cpu_s / f.tokens * 1e6 if usage and f.tokens else "-"

    return [
        *latency_rows(app, base),
        Row("inter-token gap max (ms)", percentile(app.gaps_ms, 100), percentile(base.gaps_ms, 100)),
        Row("end of answer after its last token p50 (ms)", percentile(app.tail_ms, 50), percentile(base.tail_ms, 50)),
        Row("answers complete, tokens in order", app.in_order, base.in_order),
        Row("errors", str(len(app.errors)), str(len(base.errors))),
        Row("backend peak RSS (MB)", app.backend.peak_rss_bytes / 2**20 if app.backend else "-"),
        Row("backend CPU (s)", cpu_s(app.backend) or "-", None, 2),
        Row("backend CPU / tokens delivered (us)", per_token_us(app.backend, app), None),
        Row("benchmark clients' CPU (s)", cpu_s(app.clients) or "-", cpu_s(base.clients), 2),
        Row("paced model CPU (s)", cpu_s(app.model) or "-", cpu_s(base.model), 2),
    ]  # fmt: skip


@dataclass
class Comparison:
    """AgentKit's figures and the baseline's for one number of clients."""

    agentkit: Figures
    baseline: Figures


async def compare(
    clients: Sequence[int],
    pace: Pace,
    *,
    title_call: bool = False,
    database_url: str | None = None,
    server: str = "granian",
) -> list[Comparison]:
    """Start the paced model and the backend; for each number of clients, measure the baseline and AgentKit.

    One warm-up turn through each goes first and is not counted (the first turn after a start pays
    for imports and connection pools).
    """
    results: list[Comparison] = []
    model_spec = paced_model_spec(pace)
    with tempfile.TemporaryDirectory(prefix="bench-streaming-") as data:
        settings = backend_settings(Path(data), f"{model_spec.base}/v1", database_url)
        with running(model_spec, backend_spec(settings, server)) as (model, backend):
            warm_up_backend(backend)
            servers = Servers(f"{model.spec.base}/v1", model.pid, backend.spec.base, backend.pid)
            await baseline(servers, 1, pace)
            await through_agentkit(servers, 1, pace, title_call)
            for count in clients:
                base_figures = await baseline(servers, count, pace)
                app_figures = await through_agentkit(servers, count, pace, title_call)
                results.append(Comparison(app_figures, base_figures))
    return results


def main(argv: list[str] | None = None) -> None:
    """Run the streaming benchmark and print one table per number of clients."""
    parser = argparse.ArgumentParser(description="AgentKit's WebSocket streaming against the model alone.")
    parser.add_argument("--clients", default="1,100,250", help="comma-separated numbers of clients")
    parser.add_argument("--tokens", type=int, default=500)
    parser.add_argument("--rate", type=float, default=100.0, help="tokens a second")
    parser.add_argument("--ttft", type=float, default=0.2, help="the model's seconds to the first token")
    parser.add_argument("--title-call", action="store_true", help="let each turn title its conversation too")
    parser.add_argument(
        "--database-url", help="instead of a temporary SQLite file, e.g. postgresql+psycopg://..."
    )
    parser.add_argument("--server", choices=SERVERS, default="granian", help="the backend's ASGI server")
    args = parser.parse_args(argv)
    pace = Pace(ttft_s=args.ttft, rate=args.rate, tokens=args.tokens)
    counts = [int(n) for n in args.clients.split(",") if n.strip()]
    results = asyncio.run(
        compare(counts, pace, title_call=args.title_call, database_url=args.database_url, server=args.server)
    )
    print(
        f"paced model: {pace.tokens} tokens at {pace.rate:g}/s after {pace.ttft_s:g} s (ideal {pace.ideal_s:.2f} s)"
    )
    for result in results:
        title = f"{result.agentkit.count} client(s) at once"
        print(
            "\n"
            + format_table(title, comparison_rows(result.agentkit, result.baseline), baseline="model alone")
        )
        for label, figures in (("AgentKit", result.agentkit), ("model alone", result.baseline)):
            if figures.errors:
                print(f"{label} errors (first 3): {figures.errors[:3]}")


if __name__ == "__main__":
    main()
