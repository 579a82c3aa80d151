"""What a flow gets to work with: one :class:`RunContext` per run, built by the service that launches it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from agentkit_app.engine import events as ev
from agentkit_app.store.records import AnyRecord, ErrorRecord

if TYPE_CHECKING:
    from agentkit_app.engine.llm.base import ChatModel
    from agentkit_app.engine.ports import CheckpointStore
    from agentkit_app.engine.tools import ToolRegistry
    from agentkit_app.service.catalog import Catalog
    from agentkit_app.service.runs import Run
    from agentkit_app.service.turns import ServiceConfig, TurnRequest
    from agentkit_app.service.uploads import UploadStore
    from agentkit_app.store.models import MessagePublic, SessionPublic
    from agentkit_app.store.sessions import SessionManager


class Persist(Protocol):
    """The service's ``persist``: it stores a record, bills an answer's usage and logs a failure."""

    async def __call__(
        self,
        session_id: str,
        record: AnyRecord,
        content: str,
        *,
        agent_name: str | None = None,
        run: Run | None = None,
    ) -> MessagePublic | None: ...


@dataclass
class Recorder:
    """How a flow stores and publishes what its run produces; usage, billing and logging are the service's."""

    run: Run
    store_message: Persist
    # whether the run is still this process's to record for (a run taken over by another stores nothing)
    owned: Callable[[], Awaitable[bool]]
    # the input being stored while the run goes on (persist_input_soon): the run's messages come after it
    _input: asyncio.Task[MessagePublic | None] | None = field(default=None, init=False, repr=False)

    async def persist(
        self, record: AnyRecord, content: str, agent_name: str | None = None
    ) -> MessagePublic | None:
        """Store a message the run produced (an answer's usage is billed); None if it could not be stored.

        It is stored after the run's input, if that is still being stored.
        """
        if self._input is not None:
            await asyncio.shield(self._input)
        return await self.store_message(
            self.run.session_id, record, content, agent_name=agent_name, run=self.run
        )

    async def owns(self) -> bool:
        """Whether the run may still store what it produces (False: another process took it over)."""
        return await self.owned()

    async def persist_input(self, record: AnyRecord, content: str) -> MessagePublic | None:
        """Store the message the run answers (the user's): not the run's own, never billed."""
        return await self.store_message(self.run.session_id, record, content)

    def persist_input_soon(self, record: AnyRecord, content: str) -> None:
        """Start storing the message the run answers, and return at once (the model is asked meanwhile).

        The input is stored even if the run is cancelled, and whatever the run stores waits for it
        (:meth:`persist`), so the conversation keeps its order.
        """
        self._input = asyncio.create_task(self.persist_input(record, content))

    async def fail(self, message: str, agent_name: str, code: str) -> None:
        """Store and publish an error the user should see (cut to 200 characters)."""
        message = message[:200]
        await self.persist(ErrorRecord(), message, agent_name)
        self.run.publish(ev.Error(message=message, code=code))

    def publish(self, event: ev.Event) -> None:
        """Hand an event to the run's followers."""
        self.run.publish(event)


class FencedCheckpoints:
    """A checkpoint store a run writes to only while it is the run's owner: a run taken over saves nothing."""

    def __init__(self, checkpoints: CheckpointStore, owned: Callable[[], Awaitable[bool]]) -> None:
        self.checkpoints = checkpoints
        self.owned = owned

    async def save(self, run_id: str, state: dict[str, Any]) -> None:
        """Store the state of a run, unless the run is no longer this process's."""
        if await self.owned():
            await self.checkpoints.save(run_id, state)

    async def load(self, run_id: str) -> dict[str, Any] | None:
        """Return the last stored state of a run, or None."""
        return await self.checkpoints.load(run_id)

    async def delete(self, run_id: str) -> None:
        """Forget a run, unless it is no longer this process's."""
        if await self.owned():
            await self.checkpoints.delete(run_id)

    async def ping(self) -> None:
        """Raise if the store cannot be reached."""
        await self.checkpoints.ping()


@dataclass
class Resumption:
    """The interrupted team run a flow continues: its id and its last checkpoint."""

    team_run_id: str
    state: dict[str, Any]


@dataclass
class RunContext:
    """Everything a flow may use for one run; flows know nothing of the service that built it."""

    session: SessionPublic
    run: Run
    request: TurnRequest
    text: str
    language: str
    catalog: Catalog
    llm: ChatModel
    config: ServiceConfig
    tools: ToolRegistry
    checkpoints: CheckpointStore
    uploads: UploadStore
    store: SessionManager
    recorder: Recorder
    # set only for a team run continued from its checkpoint
    resumption: Resumption | None = None
    # a chat turn's history, read with its session (None: the flow reads it)
    history: list[dict[str, str]] | None = None


Flow = Callable[[RunContext], Coroutine[Any, Any, None]]
