"""Runs in flight: each keeps every event it produced, so any number of viewers can follow it.

:class:`RunRegistry` keeps the runs of one process; with Redis, :class:`agentkit_app.service.redis_runs.RedisRuns`
is the same interface over every process of a deployment. Both answer the same questions (which runs
live in a session, is it busy) and deliver the same commands (cancel, answers, interventions).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Protocol

from agentkit_app.engine.events import Error, Event, FinalAnswer
from agentkit_app.engine.interaction import Interaction

# a run that ended stays readable this long (and the last so many of them), for viewers that resume it
KEPT_AFTER_END_S = 600.0
KEPT_ENDED_RUNS = 200

Interrupted = Callable[[str, str, list[Event]], Awaitable[list[Event]]]
"""What the service does with a run whose process died: (session, kind, events so far) -> events to add."""


class RunObserver(Protocol):
    """What is told of everything a run does as it does it (the Redis stream of a run, in a deployment)."""

    def event(self, event: Event) -> None:
        """The run published ``event``."""

    def stored(self, message_id: str) -> None:
        """The run stored the message ``message_id``."""

    def finished(self) -> None:
        """The run ended."""


class Run:
    """One turn, board meeting or team run, producing events in a task of its own.

    The producing task does not depend on anyone watching: a viewer that goes away (a closed
    tab, a dropped WebSocket) stops reading, and the run goes on to its end.
    """

    def __init__(self, session_id: str, kind: str, confirmation_timeout_s: float = 300.0) -> None:
        self.run_id = uuid.uuid4().hex
        self.session_id = session_id
        self.kind = kind
        self.started_at = time.time()
        self.interaction = Interaction(confirmation_timeout_s)
        self.events: list[Event] = []
        self.done = False
        # the final answer (or the error) is out: what the run still does (titling the session) blocks nobody
        self.answered = False
        self.task: asyncio.Task[None] | None = None
        self.persisted_ids: set[str] = set()
        self.observer: RunObserver | None = None
        self._wake = asyncio.Event()

    def publish(self, event: Event) -> None:
        """Record an event and wake every viewer."""
        if isinstance(event, FinalAnswer | Error):
            self.answered = True
        self.events.append(event)
        self._wake.set()
        self._wake = asyncio.Event()
        if self.observer is not None:
            self.observer.event(event)

    def stored(self, message_id: str) -> None:
        """Note that the run stored the message ``message_id`` (a viewer opening the session skips it)."""
        self.persisted_ids.add(message_id)
        if self.observer is not None:
            self.observer.stored(message_id)

    def finish(self) -> None:
        """Mark the run ended and wake every viewer."""
        self.done = self.answered = True
        self._wake.set()
        if self.observer is not None:
            self.observer.finished()

    async def follow(self, start: int = 0) -> AsyncIterator[Event]:
        """Yield the run's events from ``start``: those already produced, then the rest as they come."""
        async for batch in self.batches(start):
            for event in batch:
                yield event

    async def batches(self, start: int = 0) -> AsyncIterator[list[Event]]:
        """Yield the run's events from ``start`` in batches: each time, all that were produced and not yet yielded.

        A viewer that falls behind (a slow socket, a busy process) gets what piled up at once, and may
        send it as fewer, larger frames.
        """
        index = start
        while True:
            if index < len(self.events):
                batch = self.events[index:]
                index += len(batch)
                yield batch
                continue
            if self.done:
                return
            await self._wake.wait()

    async def wait_beyond(self, index: int, timeout_s: float) -> None:
        """Wait until the run has more than ``index`` events or has ended (or the timeout passed)."""
        if index < len(self.events) or self.done:
            return
        try:
            await asyncio.wait_for(self._wake.wait(), timeout_s)
        except TimeoutError:
            pass

    def cancel(self) -> bool:
        """Stop the run; False if it had already ended."""
        if self.done or self.task is None:
            return False
        self.task.cancel()
        return True


class RunRegistry:
    """The runs of this process, by session: the implementation for a deployment of one process.

    Every method that reads or steers runs is a coroutine, as its Redis implementation needs.
    """

    def __init__(self) -> None:
        self._runs: dict[str, Run] = {}
        # runs that ended here, by id, oldest first, with when they ended: a viewer that lost its
        # connection mid-run reads the rest of the run from here
        self._kept: dict[str, tuple[float, Run]] = {}
        # what to store for a run whose process died (set by the service; one process dies with its runs)
        self.on_interrupted: Interrupted | None = None

    async def claim(self, run: Run) -> bool:
        """Register a run that is about to start; False (nothing registered) while the session is busy.

        A session is busy while one of its runs has not answered yet: a second turn, or a second
        resumption of the same team run, is refused.
        """
        if self._busy_here(run.session_id):
            return False
        self._runs[run.run_id] = run
        return True

    def remove(self, run: Run) -> None:
        """Forget a run that ended (it stays readable a while by :meth:`replayable`)."""
        self._runs.pop(run.run_id, None)
        self._kept[run.run_id] = (time.monotonic(), run)
        self._forget_kept()

    def _forget_kept(self) -> None:
        expired = time.monotonic() - KEPT_AFTER_END_S
        for run_id, (ended_at, _) in list(self._kept.items()):
            if ended_at > expired and len(self._kept) <= KEPT_ENDED_RUNS:
                break
            del self._kept[run_id]

    async def replayable(self, run_id: str) -> Run | None:
        """Return a run in flight, or one that ended recently, by id: all its events can be read again."""
        self._forget_kept()
        ended = self._kept.get(run_id)
        return ended[1] if ended is not None else await self.get(run_id)

    async def produced(self, run: Run) -> int:
        """Return how many events ``run`` has produced so far (a view elsewhere may not have them all yet)."""
        return len(run.events)

    async def get(self, run_id: str) -> Run | None:
        """Return a run in flight by id."""
        return self._runs.get(run_id)

    async def busy(self, session_id: str) -> list[Run]:
        """Return the session's runs that have not answered yet (interventions excluded)."""
        return self._busy_here(session_id)

    async def of_session(self, session_id: str) -> list[Run]:
        """Return the session's runs still in flight, oldest first."""
        return self._of_session_here(session_id)

    async def cancel(self, session_id: str) -> int:
        """Stop every run of a session; return how many were stopped."""
        return sum(run.cancel() for run in self._of_session_here(session_id))

    async def answer(self, session_id: str, key: str, value: object) -> bool:
        """Deliver a confirmation or reply to the session's run waiting for ``key``; False if none waits."""
        return any(run.interaction.answer(key, value) for run in self._waiting(session_id, key))

    async def owns(self, run: Run) -> bool:
        """Whether ``run`` may still store what it produces: always in one process; on Redis, while its lease holds."""
        return True

    async def post(self, run: Run, text: str) -> bool:
        """Hand a user's message to a running board meeting or team run; False if it has ended."""
        if run.done:
            return False
        run.interaction.post(text)
        return True

    def _busy_here(self, session_id: str) -> list[Run]:
        return [r for r in self._of_session_here(session_id) if not r.answered and r.kind != "intervention"]

    def _of_session_here(self, session_id: str) -> list[Run]:
        return sorted(
            (r for r in self._runs.values() if r.session_id == session_id and not r.done),
            key=lambda r: r.started_at,
        )

    def _waiting(self, session_id: str, key: str) -> list[Run]:
        return [r for r in self._of_session_here(session_id) if key in r.interaction.pending()][:1]
