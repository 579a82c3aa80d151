"""The session manager: sessions and their messages, async over a synchronous SQLModel engine."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from agentkit_app.store.models import MessagePublic, MessageRecord, SessionPublic, SessionRecord, utcnow
from agentkit_app.store.search import MessageSearch, SearchHit

TITLE_CHARS = 60
# Stored board and team events that are not part of the conversation the model reads.
_NOT_FOR_MODEL = {
    "board_started", "board_speech", "board_summary", "board_conclusion", "board_intervention",
    "team_formed", "team_plan", "team_phase", "team_result", "team_synthesis", "error",
}  # fmt: skip


def _title_from(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= TITLE_CHARS else line[: TITLE_CHARS - 1].rstrip() + "…"


class SessionManager:
    """Creates, lists and closes sessions and appends and reads their messages."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._search = MessageSearch(engine)

    async def search(self, query: str, limit: int = 20) -> list[SearchHit]:
        """Return messages of any session matching ``query`` (ValueError on an empty or huge query)."""
        return await self._search.search(query, limit)

    async def _run(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        return await asyncio.to_thread(fn, *args, **kwargs)

    async def create_session(
        self, *, agent_name: str, metadata: dict[str, Any] | None = None, kind: str = "chat", title: str = ""
    ) -> SessionPublic:
        """Create a session."""

        def work() -> SessionPublic:
            with Session(self.engine) as db:
                row = SessionRecord(agent_name=agent_name, meta=metadata or {}, kind=kind, title=title)
                db.add(row)
                db.commit()
                db.refresh(row)
                return SessionPublic.of(row)

        return await self._run(work)

    async def get_session(self, session_id: str) -> SessionPublic | None:
        """Return a session, or None."""

        def work() -> SessionPublic | None:
            with Session(self.engine) as db:
                row = db.get(SessionRecord, session_id)
                return SessionPublic.of(row) if row else None

        return await self._run(work)

    async def list_sessions(self, *, limit: int = 50, offset: int = 0) -> list[SessionPublic]:
        """Return sessions, most recently active first."""

        def work() -> list[SessionPublic]:
            with Session(self.engine) as db:
                query = (
                    select(SessionRecord)
                    .order_by(col(SessionRecord.updated_at).desc(), col(SessionRecord.created_at).desc())
                    .offset(offset)
                    .limit(limit)
                )
                return [SessionPublic.of(r) for r in db.exec(query)]

        return await self._run(work)

    async def update_session(
        self,
        session_id: str,
        *,
        title: str | None = None,
        kind: str | None = None,
        metadata: dict[str, Any] | None = None,
        status: str | None = None,
    ) -> SessionPublic | None:
        """Change a session's title, kind, status or metadata (merged); None if unknown."""

        def work() -> SessionPublic | None:
            with Session(self.engine) as db:
                row = db.get(SessionRecord, session_id)
                if row is None:
                    return None
                if title is not None:
                    row.title = _title_from(title)
                if kind is not None:
                    row.kind = kind
                if status is not None:
                    row.status = status
                if metadata:
                    row.meta = {**(row.meta or {}), **metadata}
                row.updated_at = utcnow()
                db.add(row)
                db.commit()
                db.refresh(row)
                return SessionPublic.of(row)

        return await self._run(work)

    async def close_session(self, session_id: str) -> SessionPublic | None:
        """Close a session; None if unknown."""
        return await self.update_session(session_id, status="closed")

    async def append_message(
        self,
        *,
        session_id: str,
        role: str,
        content: str,
        agent_name: str | None = None,
        tool_call_id: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> MessagePublic:
        """Store a message at the end of the conversation; the first user message titles the session."""

        def work() -> MessagePublic:
            with Session(self.engine) as db:
                session = db.get(SessionRecord, session_id)
                if session is None:
                    raise KeyError(f"unknown session {session_id}")
                row = MessageRecord(
                    session_id=session_id,
                    role=role,
                    content=content,
                    agent_name=agent_name,
                    tool_call_id=tool_call_id,
                    meta=metadata or {},
                )
                session.updated_at = utcnow()
                if role == "user" and not session.title and content.strip():
                    session.title = _title_from(content)
                db.add(row)
                db.add(session)
                db.commit()
                db.refresh(row)
                return MessagePublic.of(row)

        return await self._run(work)

    async def get_messages(self, session_id: str, *, limit: int | None = None, offset: int = 0) -> list[MessagePublic]:
        """Return a session's messages in conversation order."""

        def work() -> list[MessagePublic]:
            with Session(self.engine) as db:
                query = (
                    select(MessageRecord)
                    .where(MessageRecord.session_id == session_id)
                    .order_by(col(MessageRecord.id))
                    .offset(offset)
                )
                if limit is not None:
                    query = query.limit(limit)
                return [MessagePublic.of(r) for r in db.exec(query)]

        return await self._run(work)

    async def count_messages(self, session_id: str) -> int:
        """Return how many messages a session has."""

        def work() -> int:
            with Session(self.engine) as db:
                query = select(func.count()).select_from(MessageRecord).where(MessageRecord.session_id == session_id)
                return int(db.exec(query).one())

        return await self._run(work)

    async def get_chat_messages(self, session_id: str, *, limit: int = 40) -> list[dict[str, str]]:
        """Return the last user/assistant messages in LLM format, oldest first."""

        def work() -> list[dict[str, str]]:
            with Session(self.engine) as db:
                query = (
                    select(MessageRecord)
                    .where(MessageRecord.session_id == session_id, col(MessageRecord.role).in_(("user", "assistant")))
                    .order_by(col(MessageRecord.id).desc())
                    .execution_options(yield_per=100)
                )
                # Read newest first until enough chat is found: a long board or team run stores
                # many event messages, and a fixed window of rows could hold no chat at all.
                chat: list[dict[str, str]] = []
                for r in db.exec(query):
                    if len(chat) >= limit:
                        break
                    if r.content.strip() and (r.meta or {}).get("message_type") not in _NOT_FOR_MODEL:
                        chat.append({"role": r.role, "content": r.content})
                return list(reversed(chat))

        return await self._run(work)
