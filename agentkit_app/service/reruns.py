"""Answering again: the last answer regenerated, or one of the user's messages edited (the conversation forks).

:class:`Reruns` is a base of ``ChatService``: both start a run as a new message does, quotas included.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agentkit_app.engine.i18n import has_cjk
from agentkit_app.service.errors import InvalidInput, NotFound
from agentkit_app.service.runs import Run
from agentkit_app.service.turns import TurnRequest, checked_text
from agentkit_app.store.records import ChatAnswer, ErrorRecord, MessageRole, UserTurn

if TYPE_CHECKING:
    from agentkit_app.service.access import Principal
    from agentkit_app.service.flows import Flow, RunContext
    from agentkit_app.service.turns import ServiceConfig
    from agentkit_app.store.models import SessionPublic
    from agentkit_app.store.sessions import SessionManager

__all__ = ["Reruns"]


class Reruns:
    """Regenerate an answer or edit a message: the run it starts is admitted and launched by ``ChatService``."""

    store: SessionManager
    config: ServiceConfig
    flows: dict[str, Flow]

    if TYPE_CHECKING:

        async def start_turn(self, request: TurnRequest) -> Run: ...

        async def _idle_session(
            self, session_id: str, principal: Principal | None = None
        ) -> SessionPublic: ...

        async def _admit(self, principal: Principal | None, session_id: str) -> int | None: ...

        async def _release(self, reservation: int | None) -> None: ...

        def _context(
            self, run: Run, session: SessionPublic, request: TurnRequest, text: str, language: str
        ) -> RunContext: ...

        async def _launch(
            self, run: Run, producer: Any, principal: Principal | None = None, reservation: int | None = None
        ) -> None: ...

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
        await self._launch(run, self.flows["chat"](ctx), principal, reservation)
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
