"""Following a run that another process owns: a local copy of it, filled from its Redis Stream.

Viewers use a :class:`RemoteRun` as they use a local run; :func:`fill_from_stream` publishes into it
what the owner writes, until the run's end entry, or until the owner is gone and the run has been
marked interrupted (by this process or another).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
import redis.asyncio as aioredis

from agentkit_app.engine import events as ev
from agentkit_app.service.runs import Run

log = logging.getLogger(__name__)


class RemoteRun(Run):
    """A run owned by another process, followed here from its stream: viewers use it as a local run."""

    def __init__(self, run_id: str, meta: dict[str, str], stored: set[str]) -> None:
        super().__init__(meta.get("session_id", ""), meta.get("kind", "chat"))
        self.run_id = run_id
        self.owner = meta.get("owner", "")
        self.started_at = float(meta.get("started_at") or time.time())
        self.persisted_ids = stored


def decoded(entries: list[tuple[str, dict[str, str]]]) -> list[ev.Event]:
    """Return the events of stream entries (the end entry, and events of unknown types, left out)."""
    return [e for _, fields in entries if "e" in fields and (e := ev.from_wire(orjson.loads(fields["e"])))]


async def fill_from_stream(
    redis: Any,
    mirror: RemoteRun,
    events_key: str,
    lease_key: str,
    block_ms: int,
    reap: Callable[[str], Awaitable[bool]],
) -> None:
    """Publish into ``mirror`` what its stream holds and gets, each read's events at once, then finish it.

    When the stream is quiet and the owner's lease is gone, ``reap`` marks the run interrupted; if
    someone else is doing that, the stream is read a few more times for what they write. After a few
    failed reads in a row (Redis down) the mirror ends, logged.
    """
    last, idle, failures = 0, 0, 0
    try:
        while True:
            try:
                reply = await redis.xread({events_key: f"0-{last}"}, count=1000, block=block_ms)
                if not reply:
                    if await redis.exists(lease_key):
                        idle = 0
                    elif not await reap(mirror.run_id):
                        idle += 1  # the owner is gone and someone else marks it: wait for that, a while
                        if idle > 3:
                            return
                    continue
                failures = 0
            except aioredis.RedisError:
                failures += 1
                if failures > 3:
                    log.exception("lost the stream of run %s", mirror.run_id)
                    return
                await asyncio.sleep(0.5)
                continue
            for entry_id, fields in reply[0][1]:
                last = int(entry_id.rpartition("-")[2])
                if "end" in fields:
                    return
                event = ev.from_wire(orjson.loads(fields.get("e") or "{}"))
                if event is not None:
                    mirror.publish(event)
    finally:
        mirror.finish()
