"""``ChatService.run_turn``: the one place that routes a message, persists it and yields events.

The service admits and launches runs, keeps them followable, bills and stores what they produce; what a
run does is a flow (:mod:`agentkit_app.service.flows`), which gets a :class:`RunContext` built here.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
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
from agentkit_app.service.errors import InvalidInput, NotFound, QuotaExceeded, SessionClosed
from agentkit_app.service.feedback import FeedbackDesk
from agentkit_app.service.flows import FLOWS, Flow, Recorder, Resumption, RunContext
from agentkit_app.service.observe import run_context, run_ended
from agentkit_app.service.runs import Run, RunRegistry
from agentkit_app.service.sessions import SessionCommands
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
    ChatAnswer,
    ErrorRecord,
    Intervention,
    MessageRole,
    UserTurn,
    dump_record,
)
from agentkit_app.store.sessions import SessionManager

if TYPE_CHECKING:
    from agentkit_app.service.access import AccessControl, Principal

__all__ = ["ChatService", "ServiceConfig", "TurnRequest"]
log = logging.getLogger(__name__)


class ChatService(SessionCommands, ConversationReads, FeedbackDesk, CatalogDesk):
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
    ) -> None:
        self.store = store
        self.feedback = FeedbackStore(store.engine)  # readers' votes on messages
        self.catalog = catalog
        self.llm = llm
        self.config = config
        self.runs = RunRegistry()
        self.tools = ToolRegistry(builtin_tools())
        self.checkpoints = checkpoints
        self.uploads = uploads
        # what each kind of run does (the registry unless a test swaps one)
        self.flows = FLOWS if flows is None else flows
        # accounts, quotas and the usage ledger (None: none of them)
        self.access = access
        # the runs in flight of known principals, for the usage ledger
        self._billing: dict[str, RunBilling] = {}

    async def start_turn(self, request: TurnRequest) -> Run:
        """Validate a message, store it, and start the run that answers it.

        Raises:
            QuotaExceeded: the principal's department has used up a quota; nothing is stored.
            QuotaCheckFailed: the quotas could not be read; nothing is stored.
        """
        session = await self.session_or_404(request.session_id, request.principal)
        await self.refresh_catalog()  # another process's edits apply from here
        if session.status != "active":
            raise SessionClosed("session is closed", "session_closed")
        text = checked_text(request.content, self.config.max_content_chars)
        request.attachments = checked_attachments(request.attachments, self.uploads, request.principal)
        if request.execution_mode not in EXECUTION_MODES:
            raise InvalidInput("execution_mode must be react or plan_exec")
        language = request.language or ("zh" if has_cjk(text) else "en")
        running = [r for r in self.runs.busy(session.session_id) if r.kind in ("board", "team")]
        if running:
            return await self._intervene(running[-1], text)
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
            producer = self.flows[kind](self._context(run, session, request, text, language))
        except BaseException:
            await self._release(reservation)
            raise
        self._launch(run, producer, request.principal, reservation)
        return run

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
            checkpoints=self.checkpoints,
            uploads=self.uploads,
            store=self.store,
            recorder=Recorder(run, self.persist),
            resumption=resumption,
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

    def _launch(
        self, run: Run, producer: Any, principal: Principal | None = None, reservation: int | None = None
    ) -> None:
        self.runs.add(run)
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
        target.interaction.post(text)
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
        metadata = dump_record(record)
        if run is not None and self.access is not None and record.role == MessageRole.ASSISTANT:
            billing = self._billing.get(run.run_id)
            try:
                if (
                    await self.access.record_answer_usage(
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
        try:
            stored = await self.store.append_message(
                session_id=session_id,
                role=record.role,
                content=content,
                agent_name=agent_name,
                metadata=metadata,
            )
        except Exception:
            log.exception("could not store a message of session %s", session_id)
            return None
        if run is not None:
            run.persisted_ids.add(stored.message_id)
        return stored

    def answer(self, session_id: str, key: str, value: object) -> bool:
        """Deliver a confirmation or a reply to the run waiting for it; False if none waits."""
        run = self.runs.find_waiting(session_id, key)
        return bool(run and run.interaction.answer(key, value))

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
        team_run = self.interrupted_team(session)
        if team_run is None:
            raise NotFound("this session has no interrupted team run", "err_no_interrupted")
        team_run_id = str(team_run.get("run_id") or "")
        state = await self.checkpoints.load(team_run_id) if team_run_id else None
        if not state or not state.get("plan") or not state.get("lead"):
            raise InvalidInput(
                "the interrupted team run left no checkpoint to resume from", "err_no_checkpoint"
            )
        reservation = await self._admit(principal, session_id)
        if self.interrupted_team(session) is None:  # resumed by someone else while the checkpoint loaded
            await self._release(reservation)
            raise NotFound("this session has no interrupted team run", "err_no_interrupted")
        run = Run(session.session_id, "team", self.config.confirmation_timeout_s)
        request = TurnRequest(session_id=session_id, content="", principal=principal)
        language = str(state.get("language") or "en")
        resumption = Resumption(team_run_id, state)
        ctx = self._context(run, session, request, "", language, resumption)
        self._launch(run, self.flows["team_resume"](ctx), principal, reservation)
        return run

    async def regenerate(
        self,
        session_id: str,
        model: str | None = None,
        language: str | None = None,
        principal: Principal | None = None,
    ) -> Run:
        """Answer the last question again; the earlier answer stays as an alternative (quotas apply)."""
        session = await self._idle_session(session_id, principal)
        messages = await self.store.get_messages(session_id)
        last = messages[-1] if messages else None
        by_id = {m.message_id: m for m in messages}
        question = by_id.get(last.parent_id or "") if last else None
        asked = question.record if question is not None and question.role == MessageRole.USER else None
        if (
            last is None
            or question is None
            or last.role != MessageRole.ASSISTANT
            or not isinstance(last.record, ChatAnswer | ErrorRecord)
            or not isinstance(asked, UserTurn)
        ):
            raise InvalidInput("only the last answer of a chat can be regenerated", "err_regenerate")
        reservation = await self._admit(principal, session_id)
        text = f"@skill:{asked.skill} {question.content}" if asked.skill else question.content
        try:
            await self.store.set_leaf(session_id, question.message_id)
        except BaseException:
            await self._release(reservation)
            raise
        request = TurnRequest(
            session_id=session_id,
            content=text,
            model=model or asked.model,
            language=language,
            attachments=list(asked.attachments or []),
            execution_mode=asked.execution_mode,
            regenerate=True,
            principal=principal,
        )
        run = Run(session_id, "chat", self.config.confirmation_timeout_s)
        language = language or ("zh" if has_cjk(text) else "en")
        ctx = self._context(run, session, request, text, language)
        self._launch(run, self.flows["chat"](ctx), principal, reservation)
        return run

    async def edit_message(
        self,
        session_id: str,
        message_id: str,
        content: str,
        model: str | None = None,
        language: str | None = None,
        principal: Principal | None = None,
    ) -> Run:
        """Send an edited version of one of the user's messages: the conversation forks there.

        Quotas apply as to a new message; a refused edit changes nothing.
        """
        await self._idle_session(session_id, principal)
        text = checked_text(content, self.config.max_content_chars)
        target = next(
            (
                m
                for m in await self.store.get_messages(session_id, branch="all")
                if m.message_id == message_id
            ),
            None,
        )
        if target is None:
            raise NotFound("unknown message")
        if target.role != MessageRole.USER:
            raise InvalidInput("only your own messages can be edited")
        record = target.record
        turn = record if isinstance(record, UserTurn) else UserTurn()
        # the fork happens only once the edit is admitted: a refused edit changes nothing
        return await self.start_turn(
            TurnRequest(
                session_id=session_id,
                content=text,
                model=model,
                language=language,
                attachments=list(turn.attachments or []),
                execution_mode=turn.execution_mode,
                principal=principal,
                fork_at=target.parent_id or "",
            )
        )

    def cancel(self, session_id: str) -> int:
        """Cancel every run of a session; return how many were stopped."""
        return sum(run.cancel() for run in self.runs.of_session(session_id))
