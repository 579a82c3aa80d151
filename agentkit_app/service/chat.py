"""``ChatService.run_turn``: the one place that routes a message, persists it and yields events.

The service admits and launches runs, keeps them followable, bills and stores what they produce; what a
run does is a flow (:mod:`agentkit_app.service.flows`), which gets a :class:`RunContext` built here.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from agentkit_app.engine import events as ev
from agentkit_app.engine.board import is_board_command
from agentkit_app.engine.i18n import has_cjk
from agentkit_app.engine.llm.base import ChatModel
from agentkit_app.engine.ports import CheckpointStore
from agentkit_app.engine.team_plan import is_team_command
from agentkit_app.engine.tools import ToolRegistry
from agentkit_app.engine.tools.builtin import builtin_tools
from agentkit_app.service.access import RunBilling
from agentkit_app.service.catalog import Catalog
from agentkit_app.service.catalog_admin import CatalogDesk
from agentkit_app.service.conversations import ConversationReads
from agentkit_app.service.errors import Conflict, InvalidInput, NotFound, QuotaExceeded, SessionClosed
from agentkit_app.service.feedback import FeedbackDesk
from agentkit_app.service.flows import FLOWS, FencedCheckpoints, Flow, Recorder, Resumption, RunContext
from agentkit_app.service.interruptions import record_interruption
from agentkit_app.service.observe import run_context, run_ended
from agentkit_app.service.reruns import Reruns
from agentkit_app.service.runs import Run, RunRegistry
from agentkit_app.service.sessions import SessionCommands, visible_or_404
from agentkit_app.service.shares import ShareDesk
from agentkit_app.service.turns import (
    EXECUTION_MODES,
    ServiceConfig,
    TurnRequest,
    checked_attachments,
    checked_text,
)
from agentkit_app.service.uploads import UploadStore
from agentkit_app.store.feedback import FeedbackStore
from agentkit_app.store.models import MessagePublic, SessionPublic
from agentkit_app.store.records import (
    AnyRecord,
    Intervention,
    MessageRole,
    dump_record,
)
from agentkit_app.store.sessions import SessionManager
from agentkit_app.store.shares import ShareStore

if TYPE_CHECKING:
    from agentkit_app.service.access import AccessControl, Principal

__all__ = ["ChatService", "ServiceConfig", "TurnRequest"]
log = logging.getLogger(__name__)


class ChatService(Reruns, SessionCommands, ConversationReads, FeedbackDesk, CatalogDesk, ShareDesk):
    """Routes user messages to the engine, persists what happens, and keeps runs followable."""

    def __init__(
        self,
        *,
        store: SessionManager,
        catalog: Catalog,
        llm: ChatModel,
        config: ServiceConfig,
        checkpoints: CheckpointStore,
        uploads: UploadStore,
        flows: dict[str, Flow] | None = None,
        access: AccessControl | None = None,
        runs: RunRegistry | None = None,
    ) -> None:
        self.store = store
        self.feedback = FeedbackStore(store.engine)  # readers' votes on messages
        self.shares = ShareStore(store.engine)  # read-only links to conversations
        self.catalog = catalog
        self.llm = llm
        self.config = config
        # the runs in flight: of this process, or with Redis of every process of the deployment
        self.runs = RunRegistry() if runs is None else runs
        self.runs.on_interrupted = partial(record_interruption, self.persist, store)
        self.tools = ToolRegistry(builtin_tools())
        self.checkpoints = checkpoints
        self.uploads = uploads
        # what each kind of run does (the registry unless a test swaps one)
        self.flows = FLOWS if flows is None else flows
        # accounts, quotas and the usage ledger (None: none of them)
        self.access = access
        # the runs in flight of known principals, for the usage ledger
        self._billing: dict[str, RunBilling] = {}
        # each run's newest ledger write in flight (see :meth:`_bill`)
        self._bills: dict[str, asyncio.Task[None]] = {}

    async def start_turn(self, request: TurnRequest) -> Run:
        """Validate a message, store it, and start the run that answers it.

        A message to a session whose board meeting or team run is going on joins that run.

        Raises:
            Conflict: an answer is still being written in the session (on any process); nothing is stored.
            QuotaExceeded: the principal's department has used up a quota; nothing is stored.
            QuotaCheckFailed: the quotas could not be read; nothing is stored.
        """
        history: list[dict[str, str]] | None = None
        if request.fork_at is None and not request.regenerate and not _runs_a_meeting(request.content):
            # a chat message: the history its model reads comes with the session, in one read
            found, history = await self.store.get_session_and_chat(request.session_id)
            session = visible_or_404(found, request.principal)
        else:
            session = await self.session_or_404(request.session_id, request.principal)
        await self.refresh_catalog()  # another process's edits apply from here
        if session.status != "active":
            raise SessionClosed("session is closed", "session_closed")
        text = checked_text(request.content, self.config.max_content_chars)
        request.attachments = checked_attachments(request.attachments, self.uploads, request.principal)
        if request.execution_mode not in EXECUTION_MODES:
            raise InvalidInput("execution_mode must be react or plan_exec")
        language = request.language or ("zh" if has_cjk(text) else "en")
        busy = await self.runs.busy(session.session_id)
        running = [r for r in busy if r.kind in ("board", "team")]
        if running:
            return await self._intervene(running[-1], text)
        if busy:
            raise _busy()
        reservation = await self._admit(request.principal, session.session_id)
        try:
            if request.fork_at is not None:
                await self.store.set_leaf(session.session_id, request.fork_at)
            if is_board_command(text):
                kind = "board"
            elif is_team_command(text):
                kind = "team"
            else:
                kind = "chat"
            run = Run(session.session_id, kind, self.config.confirmation_timeout_s)
            context = self._context(run, session, request, text, language, history=history)
            producer = self.flows[kind](context)
        except BaseException:
            await self._release(reservation)
            raise
        await self._launch(run, producer, request.principal, reservation)
        return run

    async def start_conversation(self, agent_name: str, request: TurnRequest) -> Run:
        """Create a session with ``agent_name`` and start its first turn; return that turn's run.

        The session exists only if the turn started: a message refused (empty, over a quota, an
        attachment that is not the sender's) leaves no empty session behind. ``request.session_id``
        is set to the new session's.

        Raises:
            NotFound: unknown agent.
            ServiceError: whatever :meth:`start_turn` refuses the message for.
        """
        checked_text(request.content, self.config.max_content_chars)
        session = await self.create_session(agent_name, principal=request.principal)
        request.session_id = session.session_id
        try:
            return await self.start_turn(request)
        except BaseException:
            await self.store.delete_session(session.session_id)
            raise

    async def run_turn(self, request: TurnRequest) -> AsyncIterator[ev.Event]:
        """Run one user message and yield its events (the run goes on if the caller stops reading).

        A turn refused by a quota yields one ``error`` event with ``code="quota"`` and ``quota_info``.
        """
        try:
            run = await self.start_turn(request)
        except QuotaExceeded as exc:
            yield exc.event()
            return
        async for event in run.follow():
            yield event

    def _context(
        self,
        run: Run,
        session: SessionPublic,
        request: TurnRequest,
        text: str,
        language: str,
        resumption: Resumption | None = None,
        *,
        history: list[dict[str, str]] | None = None,
    ) -> RunContext:
        """Return what the flow of ``run`` works with; what it records goes through :meth:`persist`."""
        return RunContext(
            session=session,
            run=run,
            request=request,
            text=text,
            language=language,
            catalog=self.catalog,
            llm=self.llm,
            config=self.config,
            tools=self.tools,
            checkpoints=FencedCheckpoints(self.checkpoints, partial(self.runs.owns, run)),
            uploads=self.uploads,
            store=self.store,
            recorder=Recorder(run, self.persist, partial(self.runs.owns, run)),
            resumption=resumption,
            history=history,
        )

    async def _admit(self, principal: Principal | None, session_id: str) -> int | None:
        """Admit a new turn or run, or refuse it by ``principal``'s department quotas.

        Returns the ledger row reserved for it (None when nothing limits ``principal``): hand it to
        :meth:`_launch`, or to :meth:`_release` if the run is not started after all.
        """
        if self.access is None or principal is None:
            return None
        return await self.access.admit(principal, session_id)

    async def _release(self, reservation: int | None) -> None:
        if reservation is None or self.access is None:
            return
        try:
            await self.access.release(reservation)
        except Exception:  # the row then counts as one request: the safe side of a quota
            log.exception("could not release the quota reservation %s", reservation)

    async def _launch(
        self,
        run: Run,
        producer: Any,
        principal: Principal | None = None,
        reservation: int | None = None,
        still_wanted: Callable[[], Awaitable[bool]] | None = None,
    ) -> None:
        """Start ``run`` unless another run took the session meanwhile (then Conflict, its place given back).

        ``still_wanted``, asked once the session is claimed, may call the run off (then NotFound).
        """
        try:
            claimed = await self.runs.claim(run)
            wanted = claimed and (still_wanted is None or await still_wanted())
        except BaseException:
            producer.close()
            await self._release(reservation)
            raise
        if not wanted:
            producer.close()
            await self._release(reservation)
            if not claimed:
                raise _busy()
            run.finish()
            self.runs.remove(run)
            raise NotFound("this session has no interrupted team run", "err_no_interrupted")
        if principal is not None:
            self._billing[run.run_id] = RunBilling(principal, reservation)

        async def drive() -> None:
            try:
                await producer
            except asyncio.CancelledError:
                run.publish(ev.Result(status="cancelled"))
            except Exception as exc:  # the user sees a short error, the log has the rest
                log.exception("run %s failed", run.run_id)
                run.publish(ev.Error(message=f"internal error: {type(exc).__name__}", code="internal"))
            finally:
                bills = self._bills.pop(run.run_id, None)
                if bills is not None:
                    await bills
                billing = self._billing.pop(run.run_id, None)
                if billing is not None and not billing.billed:  # never answered: it did not use the quota
                    await self._release(billing.reservation)
                run.finish()
                self.runs.remove(run)
                run_ended(run)

        run.task = asyncio.create_task(drive(), name=f"run-{run.run_id}", context=run_context(run))

    async def _intervene(self, target: Run, text: str) -> Run:
        """Hand a message to the board or team running in the session, and acknowledge it."""
        await self.persist(target.session_id, Intervention(), text)
        if not await self.runs.post(target, text):
            raise _busy()
        run = Run(target.session_id, "intervention")
        run.publish(ev.TeamInterventionAck(content=text))
        run.finish()
        return run

    async def persist(
        self,
        session_id: str,
        record: AnyRecord,
        content: str,
        *,
        agent_name: str | None = None,
        run: Run | None = None,
    ) -> MessagePublic | None:
        """Store a message (one that ``run`` produced, if given); a failure is logged, the stream goes on.

        An answer of ``run`` that carries its turn's or run's usage also adds a row to the usage ledger.
        """
        if run is not None and not await self.runs.owns(run):
            log.warning("run %s was taken over: its %s is not stored", run.run_id, record.message_type)
            return None
        if run is not None and self.access is not None and record.role == MessageRole.ASSISTANT:
            self._bill(run, session_id, record)
        try:
            stored = await self.store.append_message(
                session_id=session_id,
                role=record.role,
                content=content,
                agent_name=agent_name,
                metadata=dump_record(record),
            )
        except Exception:
            log.exception("could not store a message of session %s", session_id)
            return None
        if run is not None:
            run.stored(stored.message_id)
        return stored

    def _bill(self, run: Run, session_id: str, record: AnyRecord) -> None:
        """Add an answer of ``run`` to the usage ledger in a task of its own, after the run's earlier bills.

        The answer is shown without waiting for the ledger (100 answers ending together would each
        wait for the others' ledger rows); the run ends only once its bills are written, so the
        reservation of an answered run is never given back (see :meth:`_launch`).
        """
        assert self.access is not None
        access, billing, before = self.access, self._billing.get(run.run_id), self._bills.get(run.run_id)

        async def bill() -> None:
            if before is not None:
                await before
            try:
                if (
                    await access.record_answer_usage(
                        billing.principal if billing else None,
                        session_id,
                        record,
                        None if billing is None or billing.billed else billing.reservation,
                    )
                    and billing is not None
                ):
                    billing.billed = True
            except Exception:
                log.exception("could not record the usage of run %s", run.run_id)

        self._bills[run.run_id] = asyncio.create_task(bill(), name=f"bill-{run.run_id}")

    async def resume_team(self, session_id: str, principal: Principal | None = None) -> Run:
        """Continue the session's interrupted team run from its last checkpoint; return the new run.

        Raises:
            NotFound: unknown session (or ``principal``'s to see), or no interrupted team run in it.
            SessionClosed: the session is closed.
            InvalidInput: the run left no checkpoint to resume from (or one without its team).
            QuotaExceeded: ``principal``'s department has used up a quota.
        """
        session = await self.session_or_404(session_id, principal)
        if session.status != "active":
            raise SessionClosed("session is closed", "session_closed")
        team_run = await self.interrupted_team(session)
        if team_run is None:
            raise NotFound("this session has no interrupted team run", "err_no_interrupted")
        team_run_id = str(team_run.get("run_id") or "")
        state = await self.checkpoints.load(team_run_id) if team_run_id else None
        if not state or not state.get("plan") or not state.get("lead"):
            raise InvalidInput(
                "the interrupted team run left no checkpoint to resume from", "err_no_checkpoint"
            )
        reservation = await self._admit(principal, session_id)
        run = Run(session.session_id, "team", self.config.confirmation_timeout_s)
        request = TurnRequest(session_id=session_id, content="", principal=principal)
        language = str(state.get("language") or "en")
        resumption = Resumption(team_run_id, state)
        ctx = self._context(run, session, request, "", language, resumption)

        async def still_interrupted() -> bool:  # not resumed and ended by someone else meanwhile
            fresh = await self.store.get_session(session_id)
            return fresh is not None and fresh.server_state.get("team_run") == team_run

        try:  # the session's claim is atomic (on Redis too): of two resumptions at once, one starts
            await self._launch(run, self.flows["team_resume"](ctx), principal, reservation, still_interrupted)
        except Conflict:
            raise NotFound("this session has no interrupted team run", "err_no_interrupted") from None
        return run


def _runs_a_meeting(text: str) -> bool:
    """Return whether a message starts a board meeting or a team run (which read no chat history)."""
    return is_board_command(text.strip()) or is_team_command(text.strip())


def _busy() -> Conflict:
    return Conflict("an answer is still running in this session: wait for it or stop it first", "err_busy")
