"""Full-text search over all sessions' messages: SQLite FTS5 or PostgreSQL text search, one interface.

SQLite uses the FTS5 table of migration 0002 with the trigram tokenizer, which matches any
substring of three or more characters (Chinese included); shorter queries fall back to LIKE.
PostgreSQL matches words with ``to_tsvector('simple', ...)`` and falls back to ILIKE for
queries it cannot split into words (Chinese, punctuation).
"""

from __future__ import annotations

import json
import re
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from agentkit_app.store.db import in_session
from agentkit_app.store.models import AwareDatetime
from agentkit_app.store.records import MessageRole, MessageType, read_record

MAX_QUERY_CHARS = 200
_CJK = re.compile(r"[\u3000-\u9fff\uff00-\uffef]")


class SearchHit(BaseModel):
    """One matching message and where it lives."""

    session_id: str
    session_title: str
    session_kind: str
    message_id: str
    role: MessageRole
    message_type: MessageType
    snippet: str
    created_at: AwareDatetime


def snippet(content: str, query: str, width: int = 60) -> str:
    """Return the part of ``content`` around the first match of ``query`` (or of its first word)."""
    flat = " ".join(content.split())
    lower = flat.casefold()
    at = lower.find(query.casefold())
    if at < 0:
        at = next((lower.find(w.casefold()) for w in query.split() if w.casefold() in lower), 0)
    start = max(0, at - width)
    end = min(len(flat), at + len(query) + width)
    return ("…" if start else "") + flat[start:end] + ("…" if end < len(flat) else "")


def _like(query: str) -> str:
    return "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


_SELECT = """
SELECT m.message_id, m.session_id, m.role, m.content, m.metadata, m.created_at, s.title, s.kind
FROM messages m JOIN sessions s ON s.session_id = m.session_id
"""


class MessageSearch:
    """Searches message text across sessions, newest best match first."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _sql(self, query: str) -> tuple[str, dict[str, object]]:
        dialect = self.engine.dialect.name
        base = _SELECT + " WHERE m.role != 'tool' AND "
        if dialect == "sqlite" and len(query) >= 3:
            phrase = '"' + query.replace('"', '""') + '"'
            sql = (
                _SELECT
                + " JOIN messages_fts f ON f.rowid = m.id WHERE m.role != 'tool' AND messages_fts MATCH :q "
                "ORDER BY f.rank, m.id DESC LIMIT :limit"
            )
            return sql, {"q": phrase}
        if dialect == "postgresql" and not _CJK.search(query) and re.search(r"\w", query):
            sql = (
                base + "to_tsvector('simple', m.content) @@ plainto_tsquery('simple', :q) "
                "ORDER BY ts_rank(to_tsvector('simple', m.content), plainto_tsquery('simple', :q)) DESC, m.id DESC "
                "LIMIT :limit"
            )
            return sql, {"q": query}
        op = "ILIKE" if dialect == "postgresql" else "LIKE"
        return base + f"m.content {op} :q ESCAPE '\\' ORDER BY m.id DESC LIMIT :limit", {"q": _like(query)}

    async def search(self, query: str, limit: int = 20) -> list[SearchHit]:
        """Return up to ``limit`` messages matching ``query``; raise ValueError on an empty or huge query."""
        query = " ".join(query.split())
        if not query:
            raise ValueError("search query must not be empty")
        if len(query) > MAX_QUERY_CHARS:
            raise ValueError(f"search query longer than {MAX_QUERY_CHARS} characters")
        sql, params = self._sql(query)

        def work(db: Session) -> list[SearchHit]:
            rows = db.connection().execute(text(sql), {**params, "limit": limit}).all()
            hits = []
            for r in rows:
                meta = r.metadata if isinstance(r.metadata, dict) else json.loads(r.metadata or "{}")
                created = (
                    r.created_at
                    if isinstance(r.created_at, datetime)
                    else datetime.fromisoformat(str(r.created_at))
                )
                hits.append(
                    SearchHit(
                        session_id=r.session_id,
                        session_title=r.title or "",
                        session_kind=r.kind,
                        message_id=r.message_id,
                        role=r.role,
                        message_type=read_record(r.role, meta).message_type,
                        snippet=snippet(r.content, query),
                        created_at=created,
                    )
                )
            return hits

        return await in_session(self.engine, work)
