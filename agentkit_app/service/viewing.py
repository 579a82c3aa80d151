"""What a viewer of a session is sent of its runs: the WebSocket and the HTTP event stream both read this.

Every event a run produces has a position, ``{run_id}:{n}`` for its n-th event, the same on every
process of a deployment. A viewer that connects while a run answers gets what the run has produced so
far, marked as replayed, then follows it live; one that names the position it saw last gets what came
after it. Either way a question or a confirmation that has already been answered is not asked again
(its answer still comes), and a run that has answered is not sent to a viewer that names no position.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

from agentkit_app.engine import events as ev
from agentkit_app.service.runs import Run, RunRegistry

_POSITION = re.compile(r"([0-9a-f]{32}):([0-9]{1,9})")


@dataclass(frozen=True)
class Position:
    """Where a viewer is in a run: it has seen the run's first ``seen`` events."""

    run_id: str
    seen: int

    def __str__(self) -> str:
        return f"{self.run_id}:{self.seen}"

    @classmethod
    def parse(cls, text: str) -> Position:
        """Return the position an event id names (raises ValueError for anything else)."""
        match = _POSITION.fullmatch(text.strip())
        if match is None:
            raise ValueError("not an event id of this server: expected <run id>:<number>")
        return cls(match.group(1), int(match.group(2)))


@dataclass(frozen=True)
class Seen:
    """One event as a viewer gets it: its position, and whether it was produced before the viewer came."""

    event: ev.Event
    position: Position
    replay: bool


def _answered_key(event: ev.Event) -> str | None:
    if isinstance(event, ev.ConfirmationResult):
        return event.confirmation_id
    if isinstance(event, ev.HumanReply):
        return event.request_id
    return None


def _question_key(event: ev.Event) -> str | None:
    if isinstance(event, ev.ConfirmationRequest):
        return event.confirmation_id
    if isinstance(event, ev.AskHuman):
        return event.request_id
    return None


class View:
    """A viewer's reading of one run: from ``start`` on, the events before ``live_from`` marked replayed."""

    def __init__(self, run: Run, start: int = 0, live_from: int = 0) -> None:
        self.run = run
        self.start = start
        self.live_from = live_from

    @property
    def done(self) -> bool:
        """Return whether the run has ended (nothing more will come after what it holds)."""
        return self.run.done

    async def batches(self) -> AsyncIterator[list[Seen]]:
        """Yield the events from ``start`` in batches, as the run produces them, without answered questions."""
        seen = self.start
        answered: set[str] = set()
        async for batch in self.run.batches(self.start):
            answered.update(key for event in batch if (key := _answered_key(event)) is not None)
            out: list[Seen] = []
            for event in batch:
                seen += 1
                replay = seen <= self.live_from
                if replay and _question_key(event) in answered:
                    continue
                out.append(Seen(event, Position(self.run.run_id, seen), replay))
            if out:
                yield out


async def views_of(runs: RunRegistry, session_id: str, after: Position | None = None) -> list[View]:
    """Return what a viewer connecting to a session follows: the run it names from there, and the run answering.

    A position of another session's run, or of a run no longer kept, is as no position. A run that has
    ended with nothing after the position is left out: no view then means nothing to follow.
    """
    views: list[View] = []
    named = await runs.replayable(after.run_id) if after is not None else None
    if after is not None and named is not None and named.session_id == session_id:
        produced = await runs.produced(named)
        if not (named.done and after.seen >= produced):
            views.append(View(named, after.seen, max(after.seen, produced)))
    for run in await runs.busy(session_id):
        if not any(view.run.run_id == run.run_id for view in views):
            views.append(View(run, 0, await runs.produced(run)))
    return views
