"""Runs on Redis: every process of a deployment sees, follows and steers the runs of every other.

The process that starts a run owns it: the run's task and its pending questions live there, and
its events go to a Redis Stream as they are published (a few times a second, every run's at
once: :mod:`agentkit_app.service.run_writes`). Any other process follows the run through a
:class:`RemoteRun`, a local copy filled from the stream, and steers it (cancel, answers,
interventions) with a command on the owner's control channel. Keys, under ``{prefix}:runs:``:

- ``busy:{session}``: the run answering in the session (``SET NX``: one at a time), with a lease;
- ``lease:{run}``: the owning process, with a lease it renews every third of it; gone: the owner died
  (or stalled past it, and is fenced off once the run is taken over: :mod:`agentkit_app.service.run_leases`);
- ``meta:{run}``: the run's session, kind, owner and start; ``session:{session}``: its runs in flight;
- ``events:{run}``: the stream, entry ``0-n`` the n-th event, then an ``end`` entry; kept an hour after;
- ``stored:{run}``: the messages the run stored; ``reaped:{run}``: set by who marked a dead run interrupted;
- channel ``control:{process}``: commands to a process, each answered on a list ``reply:{id}``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from functools import partial
from typing import Any

import redis.asyncio as aioredis

from agentkit_app.engine import events as ev
from agentkit_app.service.remote_runs import RemoteRun, decoded, fill_from_stream
from agentkit_app.service.run_leases import Command, Leases, Writes
from agentkit_app.service.run_writes import Outbox, RunKeys, StreamWriter, encode_event
from agentkit_app.service.runs import Run, RunRegistry

log = logging.getLogger(__name__)

KEPT_AFTER_END_S = 3600  # a run's stream stays readable this long after its end
META_TTL_S = 24 * 3600
REPLY_TIMEOUT_S = 5


class RedisRuns(RunRegistry):
    """The runs of every process of a deployment, in Redis; those started here run here."""

    def __init__(self, url: str, prefix: str, lease_s: float = 10.0) -> None:
        super().__init__()
        self.redis = aioredis.Redis.from_url(
            url, decode_responses=True, socket_connect_timeout=5, socket_timeout=lease_s + 10
        )
        self.prefix = f"{prefix.rstrip(':')}:runs:"
        self.lease_ms = int(lease_s * 1000)
        self.process = uuid.uuid4().hex
        self.leases = Leases(self.redis, self.process, self.lease_ms)
        # runs of this process whose lease lapsed: stopped here, their writes refused
        self.lost: set[str] = set()
        self._giving_up: set[asyncio.Task[None]] = set()
        self.writer = StreamWriter(url, self.leases, self.lost, self._lose)
        self._mirrors: dict[str, RemoteRun] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._started: asyncio.Lock | None = None

    def _key(self, kind: str, name: str) -> str:
        return f"{self.prefix}{kind}:{name}"

    async def _start(self) -> None:
        """Listen for commands and renew leases, once per process (before the first run is claimed)."""
        if self._started is None:
            self._started = asyncio.Lock()
        async with self._started:
            if self._tasks:
                return
            pubsub = self.redis.pubsub()
            await pubsub.subscribe(self._key("control", self.process))
            loop = asyncio.get_running_loop()
            self._tasks = [loop.create_task(self._obey(pubsub)), loop.create_task(self._renew())]

    async def claim(self, run: Run) -> bool:
        """Register a run about to start here, unless a run answers in the session on any process."""
        await self._start()
        session = run.session_id
        if not await self.redis.set(self._key("busy", session), run.run_id, nx=True, px=self.lease_ms):
            if await self.busy(session):  # the holder may have died: busy() reaps it
                return False
            if not await self.redis.set(self._key("busy", session), run.run_id, nx=True, px=self.lease_ms):
                return False
        meta = {"session_id": session, "kind": run.kind, "owner": self.process, "started_at": run.started_at}
        self.leases.confirmed[run.run_id] = time.monotonic()
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(self._key("meta", run.run_id), mapping=meta)
            pipe.expire(self._key("meta", run.run_id), META_TTL_S)
            pipe.set(self._key("lease", run.run_id), self.process, px=self.lease_ms)
            pipe.zadd(self._key("session", session), {run.run_id: run.started_at})
            pipe.expire(self._key("session", session), META_TTL_S)
            await pipe.execute()
        self._runs[run.run_id] = run
        keys = RunKeys(
            stream=self._key("events", run.run_id),
            busy=self._key("busy", session),
            stored=self._key("stored", run.run_id),
            fence=self._fence(run),
            ended=partial(self._ended, run.run_id, session),
        )
        run.observer = Outbox(self.writer, run, keys)
        return True

    def _fence(self, run: Run) -> list[str]:
        """Return the keys that say whether ``run`` is still this process's: its lease, reaped key and session list."""
        run_id = run.run_id
        return [self._key("lease", run_id), self._key("reaped", run_id), self._key("session", run.session_id)]

    def _ended(self, run_id: str, session_id: str, end_id: int) -> list[Command]:
        events = self._key("events", run_id)
        return [
            ("XADD", events, f"0-{end_id}", "end", "1"),
            ("ZREM", self._key("session", session_id), run_id),
            ("DEL", self._key("lease", run_id)),
            *(
                ("EXPIRE", key, KEPT_AFTER_END_S)
                for key in (events, self._key("stored", run_id), self._key("meta", run_id))
            ),
            ("DELIFEQ", self._key("busy", session_id), run_id),
        ]

    async def owns(self, run: Run) -> bool:
        """Whether ``run`` is still this process's, for a whole lease from now (False: it was taken over).

        Without an answer from Redis, whether its last renewal is less than a lease old.
        """
        if run.run_id in self.lost:
            return False
        if run.run_id not in self._runs:
            return True  # not a run on Redis (an intervention's acknowledgement)
        try:
            keys = [*self._fence(run), self._key("busy", run.session_id)]
            owned = await self.leases.confirm(keys, run.run_id, run.answered)
        except aioredis.RedisError:
            owned = not self.leases.lapsed(run.run_id)
        if not owned:
            self._lose(run)
        return owned

    def _lose(self, run: Run) -> None:
        """Stop here a run this process no longer owns, and see it marked interrupted (once, by whoever comes first)."""
        if run.run_id in self.lost:
            return
        self.lost.add(run.run_id)
        log.warning("run %s lost its lease (this process stalled or lost Redis): stopped here", run.run_id)
        run.cancel()
        # in a task of its own: the run's task, which may be asking, is being cancelled
        task = asyncio.get_running_loop().create_task(self._give_up(run.run_id))
        self._giving_up.add(task)
        task.add_done_callback(self._giving_up.discard)

    async def _give_up(self, run_id: str) -> None:
        lease = self._key("lease", run_id)
        try:
            writes = Writes(run_id, self._key("events", run_id), commands=[("DEL", lease)])
            await self.leases.run_fenced([lease], self.process, writes)
            await self.reap(run_id)
        except aioredis.RedisError:
            log.exception("could not hand over run %s; a process that follows it marks it", run_id)

    async def get(self, run_id: str) -> Run | None:
        """Return a run in flight by id: this process's own, or a view following another's."""
        if run_id in self._runs:
            return self._runs[run_id]
        if run_id in self._mirrors:
            return self._mirrors[run_id]
        meta = await self.redis.hgetall(self._key("meta", run_id))  # type: ignore[misc]
        if not meta or not await self.redis.exists(self._key("lease", run_id)):
            return None
        return await self._mirror(run_id, meta)

    async def replayable(self, run_id: str) -> Run | None:
        """Return a run in flight or one that ended within the hour, on any process, with all its events."""
        run = await super().replayable(run_id)
        if run is not None:
            return run
        meta = await self.redis.hgetall(self._key("meta", run_id))  # type: ignore[misc]
        if not meta:
            return None
        entries = await self.redis.xrange(self._key("events", run_id))
        if not entries or "end" not in entries[-1][1]:  # running, or its process died: a mirror tells
            return await self._mirror(run_id, meta)
        ended = RemoteRun(run_id, meta, set())
        for event in decoded(entries):
            ended.publish(event)
        ended.finish()
        return ended

    async def produced(self, run: Run) -> int:
        """Return how many events ``run`` has produced: for another process's run, what its stream holds."""
        if not isinstance(run, RemoteRun):
            return len(run.events)
        last = await self.redis.xrevrange(self._key("events", run.run_id), count=1)
        if not last:
            return 0
        seq = int(last[0][0].rpartition("-")[2])
        return seq - 1 if "end" in last[0][1] else seq

    async def of_session(self, session_id: str) -> list[Run]:
        """Return the session's runs in flight on any process, oldest first; a dead process's are marked interrupted."""
        found: list[Run] = []
        for run_id in await self.redis.zrange(self._key("session", session_id), 0, -1):
            run = self._runs.get(run_id) or self._mirrors.get(run_id)
            if run is None:
                async with self.redis.pipeline(transaction=False) as pipe:
                    pipe.hgetall(self._key("meta", run_id))
                    pipe.exists(self._key("lease", run_id))
                    meta, alive = await pipe.execute()
                if not alive:
                    await self.reap(run_id)
                    continue
                run = await self._mirror(run_id, meta)
            if not run.done:
                found.append(run)
        return sorted(found, key=lambda r: r.started_at)

    async def busy(self, session_id: str) -> list[Run]:
        """Return the session's run answering now, on any process (its busy key), if any."""
        runs = await self.of_session(session_id)
        holder = await self.redis.get(self._key("busy", session_id))
        return [r for r in runs if r.run_id == holder and r.kind != "intervention"]

    async def cancel(self, session_id: str) -> int:
        """Stop every run of the session on whichever process runs it; return how many were stopped."""
        stopped = 0
        for run in await self.of_session(session_id):
            if isinstance(run, RemoteRun):
                stopped += await self._command(run, {"op": "cancel"})
            else:
                stopped += run.cancel()
        return stopped

    async def answer(self, session_id: str, key: str, value: object) -> bool:
        """Deliver a confirmation or reply to the run waiting for ``key``, on whichever process it runs."""
        for run in await self.of_session(session_id):
            if isinstance(run, RemoteRun):
                if await self._command(run, {"op": "answer", "key": key, "value": value}):
                    return True
            elif run.interaction.answer(key, value):
                return True
        return False

    async def post(self, run: Run, text: str) -> bool:
        """Hand a message to a board meeting or team run, on whichever process it runs."""
        if isinstance(run, RemoteRun):
            return await self._command(run, {"op": "post", "text": text})
        return await super().post(run, text)

    async def _command(self, run: RemoteRun, command: dict[str, Any]) -> bool:
        """Send a command to the process owning ``run``; its answer (False if it is gone or did not answer)."""
        reply = self._key("reply", uuid.uuid4().hex)
        message = json.dumps({**command, "run_id": run.run_id, "reply": reply})
        if not await self.redis.publish(self._key("control", run.owner), message):
            return False
        answered = await self.redis.blpop([reply], timeout=REPLY_TIMEOUT_S)  # type: ignore[misc]
        return bool(answered and answered[1] == "1")

    async def _obey(self, pubsub: Any) -> None:
        """Carry out the commands other processes send to the runs of this one."""
        while True:
            try:
                # polled, so that an idle channel never meets the connection's read timeout
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                if message is not None and message.get("type") == "message":
                    try:
                        command = json.loads(message["data"])
                        reply = str(command["reply"])
                    except (ValueError, KeyError, TypeError):
                        continue
                    done = await self._carry_out(command)
                    async with self.redis.pipeline(transaction=False) as pipe:
                        pipe.rpush(reply, "1" if done else "0")
                        pipe.expire(reply, REPLY_TIMEOUT_S * 2)
                        await pipe.execute()
            except aioredis.RedisError:
                log.exception("the control channel of this process failed; listening again")
                await asyncio.sleep(1)
                with contextlib.suppress(aioredis.RedisError):
                    await pubsub.subscribe(self._key("control", self.process))

    async def _carry_out(self, command: dict[str, Any]) -> bool:
        run = self._runs.get(str(command.get("run_id")))
        if run is None or run.done:
            return False
        op = command.get("op")
        if op == "cancel":
            return run.cancel()
        if op == "answer":
            return run.interaction.answer(str(command.get("key")), command.get("value"))
        if op == "post":
            return await super().post(run, str(command.get("text") or ""))
        return False

    async def _renew(self) -> None:
        """Renew the leases of this process's runs (and the busy keys of those still answering).

        A run another process took over while this one stalled, or whose session another run took,
        is stopped here; so is one whose lease may have lapsed while Redis did not answer.
        """
        while True:
            await asyncio.sleep(self.lease_ms / 3000)
            runs = [r for r in self._runs.values() if not r.done and r.run_id not in self.lost]
            if not runs:
                continue
            asked = time.monotonic()
            try:
                async with self.redis.pipeline(transaction=False) as pipe:
                    for run in runs:
                        keys = [*self._fence(run), self._key("busy", run.session_id)]
                        await self.leases.renew(pipe, keys, run.run_id, run.answered)
                    owned = await pipe.execute()
            except aioredis.RedisError:
                log.exception("could not renew the leases of this process's runs")
                owned = [not self.leases.lapsed(run.run_id) for run in runs]
            for run, held in zip(runs, owned, strict=True):
                if held == 1 or held is True:
                    self.leases.confirmed[run.run_id] = asked
                elif not run.done:
                    self._lose(run)

    async def _mirror(self, run_id: str, meta: dict[str, str]) -> RemoteRun:
        """Return the view of another process's run, reading its stream in a task of its own."""
        if run_id in self._mirrors:
            return self._mirrors[run_id]
        stored = set(await self.redis.smembers(self._key("stored", run_id)))  # type: ignore[misc]
        mirror = RemoteRun(run_id, meta, stored)
        self._mirrors[run_id] = mirror
        mirror.task = asyncio.get_running_loop().create_task(self._read(mirror))
        return mirror

    async def _read(self, mirror: RemoteRun) -> None:
        """Fill ``mirror`` from its stream until the end (or the owner is gone), then forget it."""
        try:
            await fill_from_stream(
                self.redis,
                mirror,
                self._key("events", mirror.run_id),
                self._key("lease", mirror.run_id),
                self.lease_ms // 2,
                self.reap,
            )
        finally:
            self._mirrors.pop(mirror.run_id, None)

    async def reap(self, run_id: str) -> bool:
        """Mark interrupted the run of a process that died (once, whichever process sees it first).

        The service stores what the run leaves (:attr:`on_interrupted`); its followers get the events
        that say so, then the end. False when someone else did it, or the run had ended after all.
        """
        events_key, reaped = self._key("events", run_id), self._key("reaped", run_id)
        last = await self.redis.xrevrange(events_key, count=1)
        if last and "end" in last[0][1]:
            return False
        if not await self.leases.claim_reap(self._key("lease", run_id), reaped, self.process, META_TTL_S):
            return False
        meta = await self.redis.hgetall(self._key("meta", run_id))  # type: ignore[misc]
        entries = await self.redis.xrange(events_key)
        events = decoded(entries)
        seq = int(entries[-1][0].rpartition("-")[2]) if entries else 0
        added: list[ev.Event] = []
        if self.on_interrupted is not None and meta:
            try:
                added = await self.on_interrupted(meta["session_id"], meta.get("kind", "chat"), events)
            except Exception:
                log.exception("could not record the interruption of run %s", run_id)
        log.warning("run %s of a process that stopped is marked interrupted", run_id)
        writes = Writes(run_id, events_key, seq + 1, [encode_event(event) for event in added])
        writes.commands = self._ended(run_id, meta.get("session_id", ""), seq + len(added) + 1)
        await self.leases.run_fenced([reaped], self.process, writes)
        return True

    async def close(self) -> None:
        """Stop listening and renewing, and close the connections."""
        tasks = [*self._tasks, *self._giving_up]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.writer.close()
        await self.redis.aclose()
