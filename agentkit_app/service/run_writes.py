"""How the owner of runs on Redis writes what they do to their streams: every run's at once, a few times a second.

Each run has an :class:`Outbox` that gathers what it did since its last write (its events, the
messages it stored, its end); one :class:`StreamWriter` per process sends every outbox's in one
pipelined round trip, at most every :data:`COALESCE_S` (an answer or an end at once). Each run's
part is a fenced script (:mod:`agentkit_app.service.run_leases`): refused once another process
took the run over.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

import orjson
import redis.asyncio as aioredis

from agentkit_app.engine import events as ev
from agentkit_app.service.run_leases import Command, Leases, Writes
from agentkit_app.service.runs import Run

log = logging.getLogger(__name__)

# the runs' events are written together at most this often: a write per few tokens of every run
# instead of one per token of each (a viewer's frames batch by 50 ms too)
COALESCE_S = 0.05
STORED_TTL_S = 24 * 3600


def encode_event(event: ev.Event) -> bytes:
    """Return an event as the JSON a stream entry holds."""
    return orjson.dumps(ev.to_wire(event), default=str)


@dataclass(frozen=True)
class RunKeys:
    """The keys a run's writes touch, and the commands that end it."""

    stream: str
    busy: str
    stored: str
    fence: list[str]  # lease, reaped key, session list: whether the run is still this process's
    ended: Callable[[int], list[Command]]  # the commands of the end, given the end's entry id


class Outbox:
    """The owner's side of a run's stream: what the run did since its last write, waiting for the next."""

    def __init__(self, writer: StreamWriter, run: Run, keys: RunKeys) -> None:
        self.writer = writer
        self.run = run
        self.keys = keys
        self.seq = 0
        self.pending: Writes | None = None

    def _writes(self) -> Writes:
        if self.pending is None:
            self.pending = Writes(self.run.run_id, self.keys.stream, first=self.seq + 1)
            self.writer.wait_to_write(self)
        return self.pending

    def event(self, event: ev.Event) -> None:
        """The run published ``event``: an answer (or an error) frees the session for the next turn."""
        writes = self._writes()
        self.seq += 1
        writes.events.append(encode_event(event))
        if isinstance(event, ev.FinalAnswer | ev.Error):  # the next turn may start while this run titles it
            writes.commands.append(("DELIFEQ", self.keys.busy, self.run.run_id))
            self.writer.write_soon()

    def stored(self, message_id: str) -> None:
        """The run stored the message ``message_id``."""
        self._writes().commands += [
            ("SADD", self.keys.stored, message_id),
            ("EXPIRE", self.keys.stored, STORED_TTL_S),
        ]

    def finished(self) -> None:
        """The end: followers stop, the session no longer lists the run."""
        self._writes().commands += self.keys.ended(self.seq + 1)
        self.writer.write_soon()


class StreamWriter:
    """Writes what this process's runs did, all in one round trip, at most every :data:`COALESCE_S`."""

    def __init__(self, url: str, leases: Leases, lost: set[str], on_refused: Callable[[Run], None]) -> None:
        # many writes a second: no socket timeout, which costs redis-py a task per command (a write
        # stuck on a dead connection leaves the run to its lease, renewed on another connection)
        self.redis = aioredis.Redis.from_url(
            url, decode_responses=True, socket_connect_timeout=5, socket_keepalive=True
        )
        self.leases = leases
        self.lost = lost  # runs fenced off: their writes would be refused
        self.on_refused = on_refused
        self._outboxes: dict[str, Outbox] = {}
        self._writing: asyncio.Task[None] | None = None
        self._pause: asyncio.Future[None] | None = None
        self._hurry = False

    def wait_to_write(self, outbox: Outbox) -> None:
        """Have what ``outbox``'s run did written with the next write."""
        self._outboxes[outbox.run.run_id] = outbox
        if self._writing is None:
            self._writing = asyncio.get_running_loop().create_task(self._write_all())

    def write_soon(self) -> None:
        """Make the next write now (an answer is out, or a run ended), without waiting for more."""
        self._hurry = True
        if self._pause is not None and not self._pause.done():
            self._pause.set_result(None)

    async def _write_all(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._outboxes:
                outboxes, self._outboxes, self._hurry = list(self._outboxes.values()), {}, False
                batch: list[tuple[Outbox, Writes]] = []
                for outbox in outboxes:
                    writes, outbox.pending = outbox.pending, None
                    if writes is not None and outbox.run.run_id not in self.lost:
                        batch.append((outbox, writes))
                await self._write(batch)
                if not self._hurry:
                    self._pause = loop.create_future()
                    timer = loop.call_later(COALESCE_S, self.write_soon)
                    await self._pause
                    timer.cancel()
        finally:
            self._writing = None

    async def _write(self, batch: list[tuple[Outbox, Writes]]) -> None:
        """Write each run's part while the run is this process's; hand on those another process took over."""
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for outbox, writes in batch:
                    await self.leases.run_fenced(outbox.keys.fence, self.leases.token, writes, pipe)
                results = await pipe.execute(raise_on_error=False)
        except Exception:  # the runs go on here; viewers elsewhere miss what could not be written
            log.exception("could not write the events of %d runs to Redis", len(batch))
            return
        for (outbox, _), result in zip(batch, results, strict=True):
            if isinstance(result, Exception):
                log.error("could not write the events of run %s to Redis: %s", outbox.run.run_id, result)
            elif not result:
                self.on_refused(outbox.run)

    async def close(self) -> None:
        """Stop writing and close the connections."""
        if self._writing is not None:
            self._writing.cancel()
            await asyncio.gather(self._writing, return_exceptions=True)
        await self.redis.aclose()
