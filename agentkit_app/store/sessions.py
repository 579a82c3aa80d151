"""The session manager: sessions and their messages, async over a synchronous SQLModel engine."""

from __future__ import annotations

import itertools
import threading
from typing import Any

from sqlalchemy import bindparam, func
from sqlalchemy import insert as sa_insert
from sqlalchemy import select as sa_select
from sqlalchemy import update as sa_update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, delete, select

from agentkit_app.store.branches import (
    CHAT_ROLES,
    active_branch,
    alternatives,
    leaf_of,
    message_in,
)
from agentkit_app.store.db import in_session, writer_lock
from agentkit_app.store.models import (
    MessagePublic,
    MessageRecord,
    SessionKind,
    SessionPublic,
    SessionRecord,
    SessionStatus,
    new_id,
    utcnow,
)
from agentkit_app.store.records import NOT_FOR_MODEL, AnyRecord, MessageRole, UserTurn, read_record
from agentkit_app.store.search import MessageSearch, SearchHit

TITLE_CHARS = 60
SESSION_LOCKS = 64  # on a database server, sessions whose writes may go on at once
CHAT_HISTORY_LIMIT = 40  # the newest chat messages a model is given
_SESSIONS = SessionRecord.__table__  # type: ignore[attr-defined]
_MESSAGES = MessageRecord.__table__  # type: ignore[attr-defined]
# statements built once: every answer, step and question is stored with these
_SESSION_HEAD = sa_select(_SESSIONS.c.server_state, _SESSIONS.c.title).where(
    _SESSIONS.c.session_id == bindparam("session_id")
)
_INSERT_MESSAGE = sa_insert(_MESSAGES)
# and every turn reads its session, and whether it ever forked
_SESSION_BRANCHED = sa_select(_SESSIONS.c.branched).where(_SESSIONS.c.session_id == bindparam("session_id"))
# the newest chat messages of a session that never forked (the history every turn gives the model)
_CHAT_NEWEST_FIRST = (
    sa_select(_MESSAGES.c.role, _MESSAGES.c.content, _MESSAGES.c["metadata"])
    .where(_MESSAGES.c.session_id == bindparam("session_id"), _MESSAGES.c.role.in_(CHAT_ROLES))
    .order_by(_MESSAGES.c.id.desc())
    .limit(bindparam("limit"))
    .offset(bindparam("offset"))
)
_SESSION_ROW = sa_select(_SESSIONS).where(_SESSIONS.c.session_id == bindparam("session_id"))
_UPDATE_SESSION = sa_update(_SESSIONS).where(_SESSIONS.c.session_id == bindparam("where_session_id"))


def _storable(text: str) -> str:
    """Return ``text`` without NUL characters, which PostgreSQL's text columns cannot hold (a model may write them)."""
    return text.replace("\x00", "")


def _title_from(text: str) -> str:
    line = " ".join(_storable(text).split())
    return line if len(line) <= TITLE_CHARS else line[: TITLE_CHARS - 1].rstrip() + "…"


class SessionManager:
    """Creates, lists and closes sessions and appends and reads their messages."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # reading a branch's end and writing after it is one step: on SQLite every write of the process
        # takes the database's one writer lock, on a server only writes of the same session wait
        self._writer = writer_lock(engine)
        self._session_locks = [threading.Lock() for _ in range(SESSION_LOCKS)]
        self._search = MessageSearch(engine)

    def _lock(self, session_id: str) -> threading.Lock:
        """Return the lock a write to ``session_id`` holds."""
        return self._writer or self._session_locks[hash(session_id) % SESSION_LOCKS]

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
            db.flush()
            created = SessionPublic.model_validate(row, update={"metadata": row.meta})
            db.commit()
            return created

        return await in_session(self.engine, work, lock=self._writer)

    async def get_session(self, session_id: str) -> SessionPublic | None:
        """Return a session, or None."""
        return await in_session(self.engine, lambda db: _session_of(db, session_id)[0])

    async def get_session_and_chat(
        self, session_id: str, *, limit: int = CHAT_HISTORY_LIMIT
    ) -> tuple[SessionPublic | None, list[dict[str, str]]]:
        """Return a session (None: unknown, and no chat) and what :meth:`get_chat_messages` returns, in one read.

        What a chat turn reads before asking the model, with one trip to the database instead of two.
        """

        def work(db: Session) -> tuple[SessionPublic | None, list[dict[str, str]]]:
            session, branched = _session_of(db, session_id)
            return session, (_chat_of(db, session_id, limit, branched) if session is not None else [])

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
                if "active_leaf" in server_state:
                    row.branched = True
            if touch:
                row.updated_at = utcnow()
            db.add(row)
            db.flush()
            updated = SessionPublic.model_validate(row, update={"metadata": row.meta})
            db.commit()
            return updated

        return await in_session(self.engine, work, lock=self._lock(session_id))

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

        return await in_session(self.engine, work, lock=self._lock(session_id))

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
            conn = db.connection()
            session = conn.execute(_SESSION_HEAD, {"session_id": session_id}).one_or_none()
            if session is None:
                raise KeyError(f"unknown session {session_id}")
            now = utcnow()
            message = {
                "message_id": new_id(),
                "session_id": session_id,
                "role": MessageRole(role),
                "content": _storable(content),
                "agent_name": agent_name,
                "tool_call_id": tool_call_id,
                "metadata": metadata or {},
                "parent_id": leaf_of(db, session_id, session.server_state) or None,
                "created_at": now,
            }
            conn.execute(_INSERT_MESSAGE, message)
            state = {**(session.server_state or {}), "active_leaf": message["message_id"]}
            changes: dict[str, Any] = {
                "where_session_id": session_id,
                "updated_at": now,
                "server_state": state,
            }
            if role == MessageRole.USER and not session.title and content.strip():
                changes["title"] = _title_from(content)
            conn.execute(_UPDATE_SESSION, changes)
            db.commit()
            return MessagePublic.model_validate(message)

        return await in_session(self.engine, work, lock=self._lock(session_id))

    async def set_leaf(self, session_id: str, message_id: str) -> None:
        """Make the branch ending at ``message_id`` (or, with "", the empty start) the one new messages follow."""

        def work(db: Session) -> None:
            session = db.get(SessionRecord, session_id)
            if session is None:
                raise KeyError(f"unknown session {session_id}")
            if message_id and message_in(db, session_id, message_id) is None:
                raise KeyError(f"unknown message {message_id}")
            session.server_state = {**(session.server_state or {}), "active_leaf": message_id}
            session.branched = True  # what follows forks from here
            db.add(session)
            db.commit()

        await in_session(self.engine, work, lock=self._lock(session_id))

    async def switch_branch(self, session_id: str, message_id: str) -> None:
        """Show the branch through ``message_id``: down to its newest descendant."""

        def work(db: Session) -> str:
            if message_in(db, session_id, message_id) is None:
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
            session = db.get(SessionRecord, session_id)
            if branch == "all":
                query = select(MessageRecord).where(MessageRecord.session_id == session_id)
            elif (on_branch := active_branch(db, session)) is not None:
                query = on_branch
            else:
                return []
            query = query.order_by(col(MessageRecord.id)).offset(offset)
            # as plain rows, not ORM objects: a page is read far more often than anything is written
            found = db.connection().execute(query if limit is None else query.limit(limit))
            rows = found.mappings().all()
            # a session that never forked has no alternatives: each message is its only version
            siblings = (
                alternatives(db, session_id, rows) if session is None or session.branched is not False else {}
            )
            return [
                MessagePublic.model_validate(
                    {**r, "alternatives": siblings.get((r["parent_id"], r["role"]), [r["message_id"]])}
                    if r["role"] in CHAT_ROLES
                    else r
                )
                for r in rows
            ]

        return await in_session(self.engine, work)

    async def count_messages(self, session_id: str) -> int:
        """Return how many messages a session has."""

        def work(db: Session) -> int:
            query = (
                select(func.count()).select_from(MessageRecord).where(MessageRecord.session_id == session_id)
            )
            return int(db.exec(query).one())

        return await in_session(self.engine, work)

    async def get_chat_messages(
        self, session_id: str, *, limit: int = CHAT_HISTORY_LIMIT
    ) -> list[dict[str, str]]:
        """Return the last user/assistant messages in LLM format, oldest first."""

        def work(db: Session) -> list[dict[str, str]]:
            branched = db.connection().execute(_SESSION_BRANCHED, {"session_id": session_id}).scalar()
            return _chat_of(db, session_id, limit, branched)

        return await in_session(self.engine, work)


def _session_of(db: Session, session_id: str) -> tuple[SessionPublic | None, bool | None]:
    """Return a session (None: unknown) and whether it ever forked."""
    row = db.connection().execute(_SESSION_ROW, {"session_id": session_id}).mappings().first()
    if row is None:
        return None, None
    return SessionPublic.model_validate(dict(row)), row["branched"]


def _chat_of(db: Session, session_id: str, limit: int, branched: bool | None) -> list[dict[str, str]]:
    """Return the last ``limit`` user/assistant messages of the session's active branch in LLM format, oldest first.

    Every turn reads this: a session that never forked (``branched`` False) is read with a statement built once.
    """
    newest_first: Any = _CHAT_NEWEST_FIRST
    params: dict[str, Any] = {"session_id": session_id, "limit": limit}
    if branched is not False:
        on_branch = active_branch(db, db.get(SessionRecord, session_id))
        if on_branch is None:
            return []
        newest_first = (
            on_branch.with_only_columns(
                col(MessageRecord.role), col(MessageRecord.content), col(MessageRecord.meta)
            )
            .where(col(MessageRecord.role).in_(CHAT_ROLES))
            .order_by(col(MessageRecord.id).desc())
            .limit(bindparam("limit"))
            .offset(bindparam("offset"))
        )
    # Read newest first until enough chat is found: a long board or team run stores
    # many event messages, and a fixed window of rows could hold no chat at all.
    chat: list[dict[str, str]] = []
    for start in itertools.count(0, limit):
        rows = db.connection().execute(newest_first, {**params, "offset": start}).all()
        for role, content, meta in rows:
            record = read_record(role, meta)
            if content.strip() and record.message_type not in NOT_FOR_MODEL:
                chat.append({"role": str(role), "content": text_for_model(content, record)})
            if len(chat) >= limit:
                return list(reversed(chat))
        if len(rows) < limit:
            break
    return list(reversed(chat))


def text_for_model(content: str, record: AnyRecord) -> str:
    """Return a message's text as the model reads it: attached files named as ``[file: stored_name] filename``."""
    attached = record.attachments if isinstance(record, UserTurn) else None
    files = [a for a in attached or [] if isinstance(a, dict) and a.get("stored_name")]
    if not files:
        return content
    refs = "\n".join(f"[file: {a['stored_name']}] {a.get('filename') or ''}".rstrip() for a in files)
    return f"{content}\n\n{refs}"
