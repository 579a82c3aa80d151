"""``ChatService.run_turn``: the one place that routes a message, persists it and yields events.

The service admits and launches runs, keeps them followable and stores what they produce; what a
run does is a flow: ``chat_flow.run_chat`` for chat turns, ``flows`` for board meetings and teams.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agentkit_app.engine import events as ev
from agentkit_app.engine.board import is_board_command
from agentkit_app.engine.i18n import has_cjk
from agentkit_app.engine.llm.base import ChatModel
from agentkit_app.engine.ports import CheckpointStore
from agentkit_app.engine.team_plan import is_team_command
from agentkit_app.engine.tools import ToolContext, ToolRegistry
from agentkit_app.engine.tools.builtin import builtin_tools
from agentkit_app.engine.tools.sandbox import remove_session_scratch
from agentkit_app.service.catalog import Catalog
from agentkit_app.service.chat_flow import run_chat
from agentkit_app.service.conversations import ConversationReads
from agentkit_app.service.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    QuotaExceeded,
    SessionClosed,
)
from agentkit_app.service.flows import resume_team
from agentkit_app.service.runs import Run, RunRegistry
from agentkit_app.service.uploads import UploadStore
from agentkit_app.store.models import MessagePublic, SessionPublic
from agentkit_app.store.sessions import SessionManager

if TYPE_CHECKING:
    from agentkit_app.service.access import AccessControl, Principal

log = logging.getLogger(__name__)

EXECUTION_MODES = (None, "react", "plan_exec")
MAX_ATTACHMENTS = 10
MAX_TITLE_CHARS = 200
MAX_METADATA_BYTES = 16_384  # a client's session metadata, as JSON


@dataclass
class ServiceConfig:
    """The limits and places the service works with."""

    tool_context: ToolContext
    max_content_chars: int = 32_000
    confirmation_timeout_s: float = 300.0
    board_max_rounds: int = 5
    models: list[str] = field(default_factory=list)
    model_label: str = ""
    plan_exec_enabled: bool = True
    # the deployment's phase policy as configured (list, JSON/YAML text, or None for the default);
    # read per turn so that a bad one fails the turn with a clear error instead of the startup
    plan_exec_policy: Any = None


@dataclass
class TurnRequest:
    """One user message and its options."""

    session_id: str
    content: str
    model: str | None = None
    execution_mode: str | None = None
    language: str | None = None
    attachments: list[dict[str, Any]] = field(default_factory=list)
    # answer the active branch's last user message again instead of storing a new one
    regenerate: bool = False
    # who sends it: their sessions only, their department's quotas (None: no accounts, no limits)
    principal: Principal | None = None
    # store the message as a new branch after this message ("" = at the start): an edit
    fork_at: str | None = None


@dataclass
class _Billing:
    """Who started a run in flight, the ledger row reserved when it was admitted, and whether it is billed."""

    principal: Principal
    reservation: int | None = None
    billed: bool = False


class ChatService(ConversationReads):
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
        flows: dict[str, Any] | None = None,
        access: AccessControl | None = None,
    ) -> None:
        self.store = store
        self.catalog = catalog
        self.llm = llm
        self.config = config
        self.runs = RunRegistry()
        self.tools = ToolRegistry(builtin_tools())
        self.checkpoints = checkpoints
        self.uploads = uploads
        self.flows = flows or {}
        # accounts, quotas and the usage ledger (None: none of them)
        self.access = access
        # the runs in flight of known principals, for the usage ledger
        self._billing: dict[str, _Billing] = {}

    async def session_or_404(self, session_id: str, principal: Principal | None = None) -> SessionPublic:
        """Return the session, or raise NotFound (also when it is not ``principal``'s to see)."""
        session = await self.store.get_session(session_id)
        if session is None or (principal is not None and not principal.can_see(session)):
            raise NotFound("session not found", "session_missing")
        return session

    async def create_session(
        self, agent_name: str, metadata: dict[str, Any] | None = None, principal: Principal | None = None
    ) -> SessionPublic:
        """Create a session bound to a known agent, owned by ``principal``'s user if any.

        ``metadata`` is the client's own (kept as given, at most 16 KiB of JSON); nothing the server
        decides on is read from it.
        """
        if self.catalog.agent(agent_name) is None:
            raise NotFound(f"unknown agent: {agent_name}")
        if metadata and len(json.dumps(metadata, default=str)) > MAX_METADATA_BYTES:
            raise InvalidInput(f"metadata larger than {MAX_METADATA_BYTES} bytes of JSON")
        owner = principal.user_id if principal else None
        return await self.store.create_session(agent_name=agent_name, metadata=metadata or {}, user_id=owner)

    async def update_session(
        self,
        session_id: str,
        *,
        title: str | None = None,
        pinned: bool | None = None,
        status: str | None = None,
        principal: Principal | None = None,
    ) -> SessionPublic:
        """Rename a session (a name a user gave is never replaced by a generated one), pin it, or restore it.

        ``status="active"`` restores an archived session (closing is :meth:`close_session`). Pinning
        alone keeps the session's place in time (``updated_at``).
        """
        await self.session_or_404(session_id, principal)
        if status not in (None, "active"):
            raise InvalidInput("status can only be set back to active: DELETE closes a session")
        state: dict[str, Any] = {}
        if title is not None:
            title = " ".join(title.split())
            if not title:
                raise InvalidInput("title must not be blank", "err_title_blank")
            if len(title) > MAX_TITLE_CHARS:
                raise InvalidInput(
                    f"title longer than {MAX_TITLE_CHARS} characters", "err_title_long", limit=MAX_TITLE_CHARS
                )
            state["title_source"] = "user"
        if pinned is not None:
            state["pinned"] = bool(pinned)
        if not state and status is None:
            raise InvalidInput("nothing to change: give a title, pinned or status")
        updated = await self.store.update_session(
            session_id,
            title=title,
            server_state=state,
            status=status,
            touch=title is not None or status is not None,
        )
        if updated is None:
            raise NotFound("session not found", "session_missing")
        return updated

    async def close_session(self, session_id: str, principal: Principal | None = None) -> SessionPublic:
        """Close a session and stop what runs in it."""
        await self.session_or_404(session_id, principal)
        for run in self.runs.of_session(session_id):
            run.cancel()
        closed = await self.store.close_session(session_id)
        assert closed is not None
        return closed

    async def delete_session(self, session_id: str, principal: Principal | None = None) -> None:
        """Delete a session for good: its messages, search entries and team checkpoint (the usage ledger stays).

        Raises:
            NotFound: unknown session, or not ``principal``'s.
            Conflict: an answer, board meeting or team run is still being written in it.
        """
        session = await self.session_or_404(session_id, principal)
        if self.runs.busy(session_id):
            raise Conflict(
                "an answer is still running in this session: wait for it or stop it first", "err_busy"
            )
        team_run = session.server_state.get("team_run")
        if isinstance(team_run, dict) and team_run.get("run_id"):
            try:
                await self.checkpoints.delete(str(team_run["run_id"]))
            except Exception:  # the checkpoint expires by its TTL anyway
                log.exception("could not delete the team checkpoint of session %s", session_id)
        if not await self.store.delete_session(session_id):
            raise NotFound("session not found", "session_missing")
        try:
            await asyncio.to_thread(remove_session_scratch, self.config.tool_context.scratch_dir, session_id)
        except OSError:
            log.exception("could not remove the scratch directory of session %s", session_id)

    def _validate(self, content: str) -> str:
        text = (content or "").strip()
        if not text:
            raise InvalidInput("content must not be empty", "err_empty")
        if len(text) > self.config.max_content_chars:
            raise InvalidInput(
                f"content longer than {self.config.max_content_chars} characters",
                "err_too_long",
                limit=self.config.max_content_chars,
            )
        return text

    def _checked_attachments(
        self, attachments: list[Any], principal: Principal | None
    ) -> list[dict[str, str]]:
        """Return the attachments as ``{filename, stored_name}``; each must be an upload ``principal`` may read."""
        if not isinstance(attachments, list):
            raise InvalidInput("attachments must be a list of uploads")
        if len(attachments) > MAX_ATTACHMENTS:
            raise InvalidInput(f"at most {MAX_ATTACHMENTS} attachments per message")
        reader = principal.owner_filter if principal else None
        checked = []
        for attachment in attachments:
            name = str(attachment.get("stored_name") or "") if isinstance(attachment, dict) else ""
            info = self.uploads.info(name, reader) if name else None
            if info is None:
                raise InvalidInput(
                    f"unknown attachment {name[:80]!r}: upload the file first",
                    "err_attachment",
                    name=name[:80],
                )
            checked.append({"filename": info.filename, "stored_name": info.path.name})
        return checked

    async def start_turn(self, request: TurnRequest) -> Run:
        """Validate a message, store it, and start the run that answers it.

        Raises:
            QuotaExceeded: the principal's department has used up a quota; nothing is stored.
            QuotaCheckFailed: the quotas could not be read; nothing is stored.
        """
        session = await self.session_or_404(request.session_id, request.principal)
        if session.status != "active":
            raise SessionClosed("session is closed", "session_closed")
        text = self._validate(request.content)
        request.attachments = self._checked_attachments(request.attachments, request.principal)
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
            if kind == "chat":
                producer = run_chat(self, run, session, request, text, language)
            else:
                producer = self.flows[kind](self, run, session, request, text, language)
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
            self._billing[run.run_id] = _Billing(principal, reservation)

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

        run.task = asyncio.create_task(drive(), name=f"run-{run.run_id}")

    async def _intervene(self, target: Run, text: str) -> Run:
        """Hand a message to the board or team running in the session, and acknowledge it."""
        await self.persist(
            target.session_id, role="user", content=text, metadata={"message_type": "intervention"}
        )
        target.interaction.post(text)
        run = Run(target.session_id, "intervention")
        run.publish(ev.TeamInterventionAck(content=text))
        run.finish()
        return run

    async def persist(
        self, session_id: str, *, run: Run | None = None, **fields: Any
    ) -> MessagePublic | None:
        """Store a message (one that ``run`` produced, if given); a failure is logged, the stream goes on.

        An answer of ``run`` that carries its turn's or run's usage also adds a row to the usage ledger.
        """
        if run is not None and self.access is not None and fields.get("role") == "assistant":
            billing = self._billing.get(run.run_id)
            try:
                if (
                    await self.access.record_answer_usage(
                        billing.principal if billing else None,
                        session_id,
                        dict(fields.get("metadata") or {}),
                        None if billing is None or billing.billed else billing.reservation,
                    )
                    and billing is not None
                ):
                    billing.billed = True
            except Exception:
                log.exception("could not record the usage of run %s", run.run_id)
        try:
            stored = await self.store.append_message(session_id=session_id, **fields)
        except Exception:
            log.exception("could not store a message of session %s", session_id)
            return None
        if run is not None:
            run.persisted_ids.add(stored.message_id)
        return stored

    async def fail(self, run: Run, message: str, agent_name: str, code: str) -> None:
        """Publish and store an error the user should see."""
        message = message[:200]
        await self.persist(
            run.session_id,
            run=run,
            role="assistant",
            content=message,
            agent_name=agent_name,
            metadata={"message_type": "error"},
        )
        run.publish(ev.Error(message=message, code=code))

    def answer(self, session_id: str, key: str, value: object) -> bool:
        """Deliver a confirmation or a reply to the run waiting for it; False if none waits."""
        run = self.runs.find_waiting(session_id, key)
        return bool(run and run.interaction.answer(key, value))

    def interrupted_team(self, session: SessionPublic) -> dict[str, Any] | None:
        """Return the session's ``team_run`` state if that run is marked running but none runs here.

        That is a team run whose process died (a server restart): :meth:`resume_team` continues it.
        """
        team_run = session.server_state.get("team_run")
        if not isinstance(team_run, dict) or team_run.get("status") != "running":
            return None
        if any(run.kind == "team" for run in self.runs.of_session(session.session_id)):
            return None
        return dict(team_run)

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
        self._launch(run, resume_team(self, run, session, team_run_id, state), principal, reservation)
        return run

    async def _idle_session(self, session_id: str, principal: Principal | None = None) -> SessionPublic:
        session = await self.session_or_404(session_id, principal)
        if session.status != "active":
            raise SessionClosed("session is closed", "session_closed")
        if self.runs.busy(session_id):
            raise Conflict(
                "an answer is still running in this session: wait for it or stop it first", "err_busy"
            )
        return session

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
        if (
            last is None
            or last.role != "assistant"
            or last.metadata.get("message_type") not in (None, "error")
            or question is None
            or question.role != "user"
            or question.metadata.get("message_type")
        ):
            raise InvalidInput("only the last answer of a chat can be regenerated", "err_regenerate")
        reservation = await self._admit(principal, session_id)
        skill = question.metadata.get("skill")
        text = f"@skill:{skill} {question.content}" if skill else question.content
        try:
            await self.store.set_leaf(session_id, question.message_id)
        except BaseException:
            await self._release(reservation)
            raise
        request = TurnRequest(
            session_id=session_id,
            content=text,
            model=model or question.metadata.get("model"),
            language=language,
            attachments=list(question.metadata.get("attachments") or []),
            execution_mode=question.metadata.get("execution_mode"),
            regenerate=True,
            principal=principal,
        )
        run = Run(session_id, "chat", self.config.confirmation_timeout_s)
        language = language or ("zh" if has_cjk(text) else "en")
        self._launch(run, run_chat(self, run, session, request, text, language), principal, reservation)
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
        text = self._validate(content)
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
        if target.role != "user":
            raise InvalidInput("only your own messages can be edited")
        # the fork happens only once the edit is admitted: a refused edit changes nothing
        return await self.start_turn(
            TurnRequest(
                session_id=session_id,
                content=text,
                model=model,
                language=language,
                attachments=list(target.metadata.get("attachments") or []),
                execution_mode=target.metadata.get("execution_mode"),
                principal=principal,
                fork_at=target.parent_id or "",
            )
        )

    async def switch_branch(
        self, session_id: str, message_id: str, principal: Principal | None = None
    ) -> list[MessagePublic]:
        """Show the branch through ``message_id`` (an alternative answer or edit); return its messages."""
        await self._idle_session(session_id, principal)
        try:
            await self.store.switch_branch(session_id, message_id)
        except KeyError:
            raise NotFound("unknown message") from None
        return await self.store.get_messages(session_id)

    def cancel(self, session_id: str) -> int:
        """Cancel every run of a session; return how many were stopped."""
        return sum(run.cancel() for run in self.runs.of_session(session_id))
