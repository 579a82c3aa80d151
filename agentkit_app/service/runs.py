"""Runs in flight: each keeps every event it produced, so any number of viewers can follow it."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

from agentkit_app.engine.events import Error, Event, FinalAnswer
from agentkit_app.engine.interaction import Interaction


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
        self._wake = asyncio.Event()

    def publish(self, event: Event) -> None:
        """Record an event and wake every viewer."""
        if isinstance(event, FinalAnswer | Error):
            self.answered = True
        self.events.append(event)
        self._wake.set()
        self._wake = asyncio.Event()

    def finish(self) -> None:
        """Mark the run ended and wake every viewer."""
        self.done = self.answered = True
        self._wake.set()

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
    """The runs of this process, by session."""

    def __init__(self) -> None:
        self._runs: dict[str, Run] = {}

    def add(self, run: Run) -> None:
        """Register a run; it is dropped again when it ends."""
        self._runs[run.run_id] = run

    def remove(self, run: Run) -> None:
        """Forget a run."""
        self._runs.pop(run.run_id, None)

    def get(self, run_id: str) -> Run | None:
        """Return a run by id."""
        return self._runs.get(run_id)

    def busy(self, session_id: str) -> list[Run]:
        """Return the session's runs that have not answered yet (interventions excluded)."""
        return [r for r in self.of_session(session_id) if not r.answered and r.kind != "intervention"]

    def of_session(self, session_id: str) -> list[Run]:
        """Return the session's runs still in flight, oldest first."""
        return sorted(
            (r for r in self._runs.values() if r.session_id == session_id and not r.done),
            key=lambda r: r.started_at,
        )

    def find_waiting(self, session_id: str, key: str) -> Run | None:
        """Return the session's run waiting for the confirmation or question ``key``."""
        return next((r for r in self.of_session(session_id) if key in r.interaction.pending()), None)
