"""Scale-out: the streaming benchmark with runs on Redis against runs in the process, and N clients over
two backend processes against the same N on one.

``python -m bench.scale --clients 100 --tokens 500 --rate 100 --ttft 0.2 --database-url postgresql+psycopg://...``

Redis against in-process: two backends (the API alone, as in :mod:`bench.streaming`), one keeping its
runs in the process, one with ``AGENTKIT_REDIS_URL`` (every event also goes to the run's Redis stream,
every lease is renewed there); the same N WebSocket clients run one turn each on one, then on the
other. The figures are the streaming benchmark's; the ratio column is Redis over in-process.

One process against two: two backends on one database (``--database-url``, PostgreSQL as deployed;
without it a SQLite file they share) and one Redis. N clients on process A alone, then the same N
spread over A and B. Throughput is the tokens delivered over the time the last answer took.
Run it on a quiet machine: it shares the cores with what it measures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import redis

from bench.common import (
    SERVERS,
    ProcessSampler,
    ProcessUsage,
    Row,
    ServerProcess,
    backend_settings,
    backend_spec,
    format_table,
    percentile,
    running,
    warm_up_backend,
)
from bench.paced_model import Pace, paced_model_spec
from bench.streaming import (
    Figures,
    Servers,
    latency_rows,
    open_sockets,
    run_turn,
    streamed_at_once,
    through_agentkit,
)

REDIS_URL = "redis://127.0.0.1:6379/0"


@contextlib.contextmanager
def redis_prefix(url: str) -> Iterator[str]:
    """Yield a key prefix of this run's own on ``url``, and delete its keys at the end."""
    prefix = f"agentkit-bench-{uuid.uuid4().hex[:8]}"
    try:
        yield prefix
    finally:
        client = redis.Redis.from_url(url)
        for key in client.scan_iter(f"{prefix}*"):
            client.delete(key)
        client.close()


def on_redis(settings: dict[str, str], url: str, prefix: str) -> dict[str, str]:
    """Return a backend's settings with its runs on Redis at ``url`` under ``prefix``."""
    return {**settings, "AGENTKIT_REDIS_URL": url, "AGENTKIT_REDIS_KEY_PREFIX": prefix}


def _servers(model: ServerProcess, backend: ServerProcess) -> Servers:
    return Servers(f"{model.spec.base}/v1", model.pid, backend.spec.base, backend.pid)


def merged(rounds: Sequence[Figures]) -> Figures:
    """Return the figures of several rounds as one: every client of every round, the processes' CPU summed."""
    whole = Figures(0, [], [], [], [], 0, [])
    for figures in rounds:
        whole.count += figures.count
        whole.added_ttft_ms += figures.added_ttft_ms
        whole.completion_over_ideal += figures.completion_over_ideal
        whole.gaps_ms += figures.gaps_ms
        whole.tail_ms += figures.tail_ms
        whole.complete_in_order += figures.complete_in_order
        whole.errors += figures.errors
        whole.tokens += figures.tokens
        if figures.backend is not None:
            whole.backend = whole.backend or ProcessUsage()
            whole.backend.cpu_s += figures.backend.cpu_s
            whole.backend.peak_rss_bytes = max(whole.backend.peak_rss_bytes, figures.backend.peak_rss_bytes)
    return whole


async def redis_against_in_process(
    count: int, pace: Pace, *, rounds: int = 1, server: str = "granian", redis_url: str = REDIS_URL
) -> tuple[Figures, Figures]:
    """Return the figures of ``count`` clients on a backend keeping its runs in the process, and on Redis.

    The two take turns, ``rounds`` times each (in-process first, then Redis first), so that both
    meet the same ups and downs of a shared machine; each one's rounds are merged.
    """
    model_spec = paced_model_spec(pace)
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as data, redis_prefix(redis_url) as prefix:
        llm = f"{model_spec.base}/v1"
        local, shared = Path(data, "in-process"), Path(data, "redis")
        specs = [
            backend_spec(backend_settings(local, llm), server),
            backend_spec(on_redis(backend_settings(shared, llm), redis_url, prefix), server),
        ]
        with running(model_spec, *specs) as (model, in_process, redis_backend):
            figures: dict[int, list[Figures]] = {in_process.pid: [], redis_backend.pid: []}
            for backend in (in_process, redis_backend):  # a round not counted: pools fill, code warms
                warm_up_backend(backend)
                await through_agentkit(_servers(model, backend), count, pace)
            for turn in range(rounds):
                order = (in_process, redis_backend) if turn % 2 == 0 else (redis_backend, in_process)
                for backend in order:
                    figures[backend.pid].append(await through_agentkit(_servers(model, backend), count, pace))
    return merged(figures[in_process.pid]), merged(figures[redis_backend.pid])


@dataclass
class Throughput:
    """N clients' figures on some backend processes, the time the slowest answer took, the processes' CPU."""

    figures: Figures
    processes: int
    seconds: float
    backend_cpu_s: float

    @property
    def tokens_per_s(self) -> float:
        """Return the tokens delivered over the time the slowest answer took (all started at once)."""
        return self.figures.tokens / self.seconds if self.seconds else 0.0


def merged_throughput(rounds: Sequence[Throughput]) -> Throughput:
    """Return the throughput of several rounds as one: their tokens over their summed times."""
    figures = merged([r.figures for r in rounds])
    seconds, cpu_s = sum(r.seconds for r in rounds), sum(r.backend_cpu_s for r in rounds)
    return Throughput(figures, rounds[0].processes, seconds, cpu_s)


async def _spread(servers: Sequence[Servers], count: int, pace: Pace) -> Throughput:
    """Run ``count`` clients at once, spread in turn over the backends of ``servers``."""
    sockets = await open_sockets([s.backend for s in servers], count)
    try:
        async with contextlib.AsyncExitStack() as stack:
            samplers = [await stack.enter_async_context(ProcessSampler(s.backend_pid)) for s in servers[1:]]
            figures = await streamed_at_once(servers[0], pace, [partial(run_turn, s) for s in sockets], True)
        cpu = (figures.backend.cpu_s if figures.backend else 0.0) + sum(s.usage.cpu_s for s in samplers)
        seconds = percentile(figures.completion_over_ideal, 100) * pace.ideal_s
        return Throughput(figures, len(servers), seconds, cpu)
    finally:
        await asyncio.gather(*(socket.close() for socket in sockets))


async def one_against_two(
    count: int,
    pace: Pace,
    *,
    rounds: int = 1,
    database_url: str | None = None,
    server: str = "granian",
    redis_url: str = REDIS_URL,
) -> tuple[Throughput, Throughput]:
    """Return the throughput of ``count`` clients on one backend process, and spread over two.

    The two take turns, ``rounds`` times each, as in :func:`redis_against_in_process`.
    """
    model_spec = paced_model_spec(pace)
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as data, redis_prefix(redis_url) as prefix:
        database = database_url or f"sqlite:///{Path(data, 'shared.db')}"
        llm = f"{model_spec.base}/v1"
        specs = [
            backend_spec(on_redis(backend_settings(Path(data), llm, database), redis_url, prefix), server)
            for _ in range(2)
        ]
        with running(model_spec, *specs) as (model, a, b):
            pair = [_servers(model, a), _servers(model, b)]
            for backend in (a, b):
                warm_up_backend(backend)
            await _spread(pair, count, pace)  # a round not counted: pools fill, code warms
            measured: dict[int, list[Throughput]] = {1: [], 2: []}
            for turn in range(rounds):
                for processes in (1, 2) if turn % 2 == 0 else (2, 1):
                    measured[processes].append(await _spread(pair[:processes], count, pace))
    return merged_throughput(measured[1]), merged_throughput(measured[2])


def redis_rows(redis_figures: Figures, local: Figures) -> list[Row]:
    """Return the rows comparing the figures with runs on Redis and with runs in the process."""

    def cpu_per_token_us(f: Figures) -> float | str:
        return f.backend.cpu_s / f.tokens * 1e6 if f.backend and f.tokens else "-"

    r, i = redis_figures, local
    return [
        *latency_rows(r, i, digits=3),
        Row("end of answer after its last token p50 (ms)", percentile(r.tail_ms, 50), percentile(i.tail_ms, 50)),
        Row("backend CPU / tokens delivered (us)", cpu_per_token_us(r), cpu_per_token_us(i)),
        Row("answers complete, tokens in order", r.in_order, i.in_order),
        Row("errors", str(len(r.errors)), str(len(i.errors))),
    ]  # fmt: skip


def throughput_rows(two: Throughput, one: Throughput) -> list[Row]:
    """Return the rows comparing N clients over two processes with the same N on one."""
    t, o = two.figures, one.figures
    return [
        Row("tokens delivered a second", two.tokens_per_s, one.tokens_per_s, 0),
        Row("completion / ideal p50", percentile(t.completion_over_ideal, 50), percentile(o.completion_over_ideal, 50), 3),
        Row("completion / ideal max", percentile(t.completion_over_ideal, 100), percentile(o.completion_over_ideal, 100), 3),
        Row("added time to first token p50 (ms)", percentile(t.added_ttft_ms, 50), percentile(o.added_ttft_ms, 50)),
        Row("inter-token gap p99 (ms)", percentile(t.gaps_ms, 99), percentile(o.gaps_ms, 99)),
        Row("backends' CPU (s)", two.backend_cpu_s, one.backend_cpu_s, 2),
        Row("answers complete, tokens in order", t.in_order, o.in_order),
        Row("errors", str(len(t.errors)), str(len(o.errors))),
    ]  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    """Run both comparisons and print their tables."""
    parser = argparse.ArgumentParser(description="AgentKit with runs on Redis, and on two processes.")
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=2, help="turns each side takes (merged)")
    parser.add_argument("--tokens", type=int, default=500)
    parser.add_argument("--rate", type=float, default=100.0, help="tokens a second")
    parser.add_argument("--ttft", type=float, default=0.2, help="the model's seconds to the first token")
    parser.add_argument(
        "--database-url", help="the database both processes share, e.g. postgresql+psycopg://..."
    )
    parser.add_argument("--redis-url", default=REDIS_URL)
    parser.add_argument("--server", choices=SERVERS, default="granian", help="the backends' ASGI server")
    args = parser.parse_args(argv)
    pace = Pace(ttft_s=args.ttft, rate=args.rate, tokens=args.tokens)
    rounds, server, redis_url = args.rounds, args.server, args.redis_url
    shared = asyncio.run(
        redis_against_in_process(args.clients, pace, rounds=rounds, server=server, redis_url=redis_url)
    )
    alone, together = asyncio.run(
        one_against_two(
            args.clients,
            pace,
            rounds=rounds,
            database_url=args.database_url,
            server=server,
            redis_url=redis_url,
        )
    )
    print(
        f"paced model: {pace.tokens} tokens at {pace.rate:g}/s after {pace.ttft_s:g} s (ideal {pace.ideal_s:.2f} s)\n"
    )
    title = (
        f"{args.clients} clients at once ({args.rounds} rounds): runs on Redis against runs in the process"
    )
    print(format_table(title, redis_rows(*reversed(shared)), app="runs on Redis", baseline="in-process"))
    title = f"{args.clients} clients at once ({args.rounds} rounds) over two backend processes against one"
    print("\n" + format_table(title, throughput_rows(together, alone), app="two processes", baseline="one"))
    for label, figures in (
        ("in-process", shared[0]),
        ("Redis", shared[1]),
        ("one", alone.figures),
        ("two", together.figures),
    ):
        if figures.errors:
            print(f"{label} errors (first 3): {figures.errors[:3]}")


if __name__ == "__main__":
    main()
