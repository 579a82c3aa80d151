"""Tables for sessions and messages, and the public shapes the API returns."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import JSON, Column, DateTime, Text
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    """Return the current time, timezone-aware UTC."""
    return datetime.now(UTC)


def new_id() -> str:
    """Return a new random hex id."""
    return uuid.uuid4().hex


# A conversation bound to one agent.
class SessionRecord(SQLModel, table=True):
    __tablename__ = "sessions"

    session_id: str = Field(default_factory=new_id, primary_key=True, max_length=64)
    agent_name: str = Field(max_length=100)
    status: str = Field(default="active", max_length=16)
    title: str = Field(default="", max_length=200)
    kind: str = Field(default="chat", max_length=16)
    meta: dict[str, Any] = Field(default_factory=dict, sa_column=Column("metadata", JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False, index=True)
    )


# One message; the autoincrement id is the conversation's order.
class MessageRecord(SQLModel, table=True):
    __tablename__ = "messages"

    id: int | None = Field(default=None, primary_key=True)
    message_id: str = Field(default_factory=new_id, unique=True, max_length=64)
    session_id: str = Field(foreign_key="sessions.session_id", index=True, max_length=64)
    role: str = Field(max_length=16)
    content: str = Field(default="", sa_column=Column(Text, nullable=False))
    tool_call_id: str | None = Field(default=None, max_length=128)
    agent_name: str | None = Field(default=None, max_length=100)
    meta: dict[str, Any] = Field(default_factory=dict, sa_column=Column("metadata", JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))
    # the message this one follows: edits and regenerations are siblings under the same parent
    parent_id: str | None = Field(default=None, max_length=64, index=True)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


# A session as the API shows it.
class SessionPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    session_id: str
    agent_name: str
    status: str
    title: str
    kind: str
    metadata: dict[str, Any]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: SessionRecord) -> SessionPublic:
        """Return the public form of a session row."""
        return cls(
            session_id=row.session_id,
            agent_name=row.agent_name,
            status=row.status,
            title=row.title,
            kind=row.kind,
            metadata=dict(row.meta or {}),
            created_at=_aware(row.created_at),
            updated_at=_aware(row.updated_at),
        )


# A message as the API shows it (metadata included: it says how to render the message).
class MessagePublic(BaseModel):
    message_id: str
    session_id: str
    role: str
    content: str
    tool_call_id: str | None
    agent_name: str | None
    metadata: dict[str, Any]
    created_at: datetime
    parent_id: str | None = None
    # ids of this message and its siblings (edits of a user message, regenerations of an answer), oldest first
    alternatives: list[str] = []

    @classmethod
    def of(cls, row: MessageRecord) -> MessagePublic:
        """Return the public form of a message row."""
        return cls(
            message_id=row.message_id,
            session_id=row.session_id,
            role=row.role,
            content=row.content,
            tool_call_id=row.tool_call_id,
            agent_name=row.agent_name,
            metadata=dict(row.meta or {}),
            created_at=_aware(row.created_at),
            parent_id=row.parent_id,
        )
