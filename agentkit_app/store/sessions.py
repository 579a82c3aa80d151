"""The session manager: sessions and their messages, async over a synchronous SQLModel engine."""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, delete, select

from agentkit_app.store.db import in_session
from agentkit_app.store.models import (
    MessagePublic,
    MessageRecord,
    SessionKind,
    SessionPublic,
    SessionRecord,
    SessionStatus,
    utcnow,
)
from agentkit_app.store.records import NOT_FOR_MODEL, AnyRecord, MessageRole, UserTurn, read_record
from agentkit_app.store.search import MessageSearch, SearchHit

TITLE_CHARS = 60


def _storable(text: str) -> str:
    """Return ``text`` without NUL characters, which PostgreSQL's text columns cannot hold (a model may write them)."""
    return text.replace("\x00", "")


def _title_from(text: str) -> str:
    line = " ".join(_storable(text).split())
    return line if len(line) <= TITLE_CHARS else line[: TITLE_CHARS - 1].rstrip() + "…"


def _message(db: Session, session_id: str, message_id: str) -> MessageRecord | None:
    return db.exec(
        select(MessageRecord).where(
            MessageRecord.session_id == session_id, MessageRecord.message_id == message_id
        )
    ).first()


def _leaf(db: Session, session: SessionRecord) -> str:
    """Return the active branch's last message id ("" = before the first message)."""
    leaf = (session.server_state or {}).get("active_leaf")
    if isinstance(leaf, str):
        return leaf
    last = db.exec(
        select(MessageRecord.message_id)
        .where(MessageRecord.session_id == session.session_id)
        .order_by(col(MessageRecord.id).desc())
    ).first()
    return last or ""


def _path(rows: list[MessageRecord], leaf: str | None) -> list[MessageRecord]:
    """Return the messages from the first one down to ``leaf``, following parent links."""
    by_id = {r.message_id: r for r in rows}
    path: list[MessageRecord] = []
    current = by_id.get(leaf or "")
    while current is not None and len(path) <= len(rows):
        path.append(current)
        current = by_id.get(current.parent_id or "")
    return list(reversed(path))


class SessionManager:
    """Creates, lists and closes sessions and appends and reads their messages."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._append_lock = threading.Lock()  # reading the branch's end and appending to it is one step
        self._search = MessageSearch(engine)

    async def search(self, query: str, limit: int = 20) -> list[SearchHit]:
        """Return messages of any session matching ``query`` (ValueError on an empty or huge query)."""
        return await self._search.search(query, limit)

    async def create_session(
        self,
        *,
        agent_name: str,
        metadata: dict[str, Any] | None = None,
        kind: SessionKind = SessionKind.CHAT,
        title: str = "",
        user_id: str | None = None,
    ) -> SessionPublic:
        """Create a session, owned by ``user_id`` if given."""

        def work(db: Session) -> SessionPublic:
            row = SessionRecord(
                agent_name=agent_name, meta=metadata or {}, kind=kind, title=title, user_id=user_id
            )
            db.add(row)
            db.commit()
            db.refresh(row)
            return SessionPublic.model_validate(row, update={"metadata": row.meta})

        return await in_session(self.engine, work)

    async def get_session(self, session_id: str) -> SessionPublic | None:
        """Return a session, or None."""

        def work(db: Session) -> SessionPublic | None:
            row = db.get(SessionRecord, session_id)
            return SessionPublic.model_validate(row, update={"metadata": row.meta}) if row else None

        return await in_session(self.engine, work)

    async def list_sessions(
        self, *, limit: int = 50, offset: int = 0, user_id: str | None = None
    ) -> list[SessionPublic]:
        """Return sessions, most recently active first: every one, or with ``user_id`` only that user's."""

        def work(db: Session) -> list[SessionPublic]:
            query = select(SessionRecord)
            if user_id is not None:
                query = query.where(SessionRecord.user_id == user_id)
            query = (
                query.order_by(col(SessionRecord.updated_at).desc(), col(SessionRecord.created_at).desc())
                .offset(offset)
                .limit(limit)
            )
            return [SessionPublic.model_validate(r, update={"metadata": r.meta}) for r in db.exec(query)]

        return await in_session(self.engine, work)

    async def update_session(
        self,
        session_id: str,
        *,
        title: str | None = None,
        kind: SessionKind | None = None,
        server_state: dict[str, Any] | None = None,
        status: SessionStatus | str | None = None,
        touch: bool = True,
    ) -> SessionPublic | None:
        """Change a session's title, kind, status or server state (merged); None if unknown.

        The client's ``metadata`` is set once, when the session is created, and never merged with
        what the server keeps. ``touch=False`` keeps ``updated_at`` (and so the session's place in the list).
        """

        def work(db: Session) -> SessionPublic | None:
            row = db.get(SessionRecord, session_id)
            if row is None:
                return None
            if title is not None:
                row.title = _title_from(title)
            if kind is not None:
                row.kind = kind
            if status is not None:
                row.status = SessionStatus(status)
            if server_state:
                row.server_state = {**(row.server_state or {}), **server_state}
            if touch:
                row.updated_at = utcnow()
            db.add(row)
            db.commit()
            db.refresh(row)
            return SessionPublic.model_validate(row, update={"metadata": row.meta})

        return await in_session(self.engine, work, lock=self._append_lock)

    async def close_session(self, session_id: str) -> SessionPublic | None:
        """Close a session; None if unknown."""
        return await self.update_session(session_id, status=SessionStatus.CLOSED)

    async def delete_session(self, session_id: str) -> bool:
        """Delete a session and all its messages (their search entries go with them); False if unknown."""

        def work(db: Session) -> bool:
            row = db.get(SessionRecord, session_id)
            if row is None:
                return False
            db.exec(delete(MessageRecord).where(col(MessageRecord.session_id) == session_id))
            db.delete(row)
            db.commit()
            return True

        return await in_session(self.engine, work, lock=self._append_lock)

    async def append_message(
        self,
        *,
        session_id: str,
        role: MessageRole | str,
        content: str,
        agent_name: str | None = None,
        tool_call_id: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> MessagePublic:
        """Store a message after the active branch's last one; the first user message titles the session."""

        def work(db: Session) -> MessagePublic:
            session = db.get(SessionRecord, session_id)
            if session is None:
                raise KeyError(f"unknown session {session_id}")
            row = MessageRecord(
                session_id=session_id,
                role=MessageRole(role),
                content=_storable(content),
                agent_name=agent_name,
                tool_call_id=tool_call_id,
                meta=metadata or {},
                parent_id=_leaf(db, session) or None,
            )
            session.updated_at = utcnow()
            session.server_state = {**(session.server_state or {}), "active_leaf": row.message_id}
            if role == MessageRole.USER and not session.title and content.strip():
                session.title = _title_from(content)
            db.add(row)
            db.add(session)
            db.commit()
            db.refresh(row)
            return MessagePublic.model_validate(row, update={"metadata": row.meta})

        return await in_session(self.engine, work, lock=self._append_lock)

    async def set_leaf(self, session_id: str, message_id: str) -> None:
        """Make the branch ending at ``message_id`` (or, with "", the empty start) the one new messages follow."""

        def work(db: Session) -> None:
            session = db.get(SessionRecord, session_id)
            if session is None:
                raise KeyError(f"unknown session {session_id}")
            if message_id and _message(db, session_id, message_id) is None:
                raise KeyError(f"unknown message {message_id}")
            session.server_state = {**(session.server_state or {}), "active_leaf": message_id}
            db.add(session)
            db.commit()

        await in_session(self.engine, work, lock=self._append_lock)

    async def switch_branch(self, session_id: str, message_id: str) -> None:
        """Show the branch through ``message_id``: down to its newest descendant."""

        def work(db: Session) -> str:
            if _message(db, session_id, message_id) is None:
                raise KeyError(f"unknown message {message_id}")
            children: dict[str | None, list[str]] = {}
            for mid, parent in db.exec(
                select(MessageRecord.message_id, MessageRecord.parent_id)
                .where(MessageRecord.session_id == session_id)
                .order_by(col(MessageRecord.id))
            ):
                children.setdefault(parent, []).append(mid)
            leaf = message_id
            while children.get(leaf):
                leaf = children[leaf][-1]
            return leaf

        await self.set_leaf(session_id, await in_session(self.engine, work))

    async def get_messages(
        self, session_id: str, *, limit: int | None = None, offset: int = 0, branch: str = "active"
    ) -> list[MessagePublic]:
        """Return a session's messages in conversation order: the active branch, or with ``branch="all"`` every one.

        On the active branch each user message and answer lists its ``alternatives`` (itself and
        its siblings: edits and regenerations), so a client can offer to switch.
        """

        def work(db: Session) -> list[MessagePublic]:
            rows = list(
                db.exec(
                    select(MessageRecord)
                    .where(MessageRecord.session_id == session_id)
                    .order_by(col(MessageRecord.id))
                )
            )
            if branch == "all":
                chosen = rows
            else:
                session = db.get(SessionRecord, session_id)
                chosen = _path(rows, _leaf(db, session) if session else None)
            siblings: dict[tuple[str | None, str], list[str]] = {}
            for r in rows:
                siblings.setdefault((r.parent_id, r.role), []).append(r.message_id)
            end = None if limit is None else offset + limit
            out = []
            for r in chosen[offset:end]:
                public = MessagePublic.model_validate(r, update={"metadata": r.meta})
                if r.role in (MessageRole.USER, MessageRole.ASSISTANT):
                    public.alternatives = siblings.get((r.parent_id, r.role), [])
                out.append(public)
            return out

        return await in_session(self.engine, work)

    async def count_messages(self, session_id: str) -> int:
        """Return how many messages a session has."""

        def work(db: Session) -> int:
            query = (
                select(func.count()).select_from(MessageRecord).where(MessageRecord.session_id == session_id)
            )
            return int(db.exec(query).one())

        return await in_session(self.engine, work)

    async def get_chat_messages(self, session_id: str, *, limit: int = 40) -> list[dict[str, str]]:
        """Return the last user/assistant messages in LLM format, oldest first."""

        def work(db: Session) -> list[dict[str, str]]:
            rows = list(
                db.exec(
                    select(MessageRecord)
                    .where(MessageRecord.session_id == session_id)
                    .order_by(col(MessageRecord.id))
                )
            )
            session = db.get(SessionRecord, session_id)
            branch = _path(rows, _leaf(db, session) if session else None)
            # Read newest first until enough chat is found: a long board or team run stores
            # many event messages, and a fixed window of rows could hold no chat at all.
            chat: list[dict[str, str]] = []
            for r in reversed(branch):
                if r.role not in (MessageRole.USER, MessageRole.ASSISTANT):
                    continue
                if len(chat) >= limit:
                    break
                record = read_record(r.role, r.meta)
                if r.content.strip() and record.message_type not in NOT_FOR_MODEL:
                    chat.append({"role": str(r.role), "content": _with_file_refs(r.content, record)})
            return list(reversed(chat))

        return await in_session(self.engine, work)


def _with_file_refs(content: str, record: AnyRecord) -> str:
    """Return a message's text as the model reads it: attached files named as ``[file: stored_name] filename``."""
    attached = record.attachments if isinstance(record, UserTurn) else None
    files = [a for a in attached or [] if isinstance(a, dict) and a.get("stored_name")]
    if not files:
        return content
    refs = "\n".join(f"[file: {a['stored_name']}] {a.get('filename') or ''}".rstrip() for a in files)
    return f"{content}\n\n{refs}"
