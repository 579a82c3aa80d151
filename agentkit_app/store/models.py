"""Tables for sessions, messages, accounts and usage, and the public shapes the API returns."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from pydantic import Field as PydanticField
from sqlalchemy import JSON, Column, DateTime, Index, Text, UniqueConstraint
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
    # the client's free-form metadata: nothing the server decides on is read from here
    meta: dict[str, Any] = Field(default_factory=dict, sa_column=Column("metadata", JSON, nullable=False))
    # what the server keeps about the session (active_leaf, team_run, title_source, pinned): no client
    # input writes it
    server_state: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column("server_state", JSON, nullable=False, server_default="{}")
    )
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False, index=True)
    )
    # the user who owns it (None: created without user accounts, or by an API-key client); no foreign key,
    # so that a conversation outlives changes to accounts
    user_id: str | None = Field(default=None, max_length=64, index=True)


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
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
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
    # the client's own metadata, as given when the session was created
    metadata: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    user_id: str | None = None
    # read-only: what the server keeps (pinned, title_source, team_run, active_leaf)
    server_state: dict[str, Any] = PydanticField(default_factory=dict)

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
            user_id=row.user_id,
            server_state=dict(row.server_state or {}),
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


# A group of users that shares quotas.
class DepartmentRecord(SQLModel, table=True):
    __tablename__ = "departments"

    department_id: str = Field(default_factory=new_id, primary_key=True, max_length=64)
    name: str = Field(max_length=100, unique=True)
    # whether its regular users may run the (sandboxed) shell tool; admins always may
    shell_enabled: bool = False


# A person who signs in; ``password_hash`` is an Argon2id hash, or a legacy scrypt one (``store.passwords``).
class UserRecord(SQLModel, table=True):
    __tablename__ = "users"

    user_id: str = Field(default_factory=new_id, primary_key=True, max_length=64)
    username: str = Field(max_length=64, unique=True)
    password_hash: str = Field(max_length=255)
    role: str = Field(default="user", max_length=16)  # admin | user
    department_id: str | None = Field(default=None, foreign_key="departments.department_id", max_length=64)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    disabled: bool = False
    # signed into every token; raised when the password changes, which ends the tokens issued before
    token_version: int = 0


# One limit of a department: at most ``limit`` tokens or requests per day or month.
class QuotaRecord(SQLModel, table=True):
    __tablename__ = "quotas"
    __table_args__ = (
        UniqueConstraint("department_id", "quota_type", "period", name="uq_quotas_department_type_period"),
    )

    id: int | None = Field(default=None, primary_key=True)
    department_id: str = Field(foreign_key="departments.department_id", max_length=64)
    quota_type: str = Field(max_length=16)  # tokens | requests
    period: str = Field(max_length=16)  # day | month
    limit: int


# The model usage of one answered turn, board meeting or team run: the ledger quotas are counted from.
# No foreign keys: the ledger keeps its rows whatever happens to accounts and sessions.
class UsageRecord(SQLModel, table=True):
    __tablename__ = "usage_records"
    __table_args__ = (Index("ix_usage_records_department_created", "department_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: str | None = Field(default=None, max_length=64)
    department_id: str | None = Field(default=None, max_length=64)
    session_id: str = Field(max_length=64)
    model: str = Field(default="", max_length=200)
    tier: str | None = Field(default=None, max_length=16)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


# A user as the API shows it (never the password hash or the token version).
class UserPublic(BaseModel):
    user_id: str
    username: str
    role: str
    department_id: str | None
    created_at: datetime
    disabled: bool

    @classmethod
    def of(cls, row: UserRecord) -> UserPublic:
        """Return the public form of a user row."""
        return cls(
            user_id=row.user_id,
            username=row.username,
            role=row.role,
            department_id=row.department_id,
            created_at=_aware(row.created_at),
            disabled=row.disabled,
        )


# A department as the API shows it.
class DepartmentPublic(BaseModel):
    department_id: str
    name: str
    # whether its regular users may run the (sandboxed) shell tool; admins always may
    shell_enabled: bool = False

    @classmethod
    def of(cls, row: DepartmentRecord) -> DepartmentPublic:
        """Return the public form of a department row."""
        return cls(department_id=row.department_id, name=row.name, shell_enabled=row.shell_enabled)


# One quota of a department as the API reads and writes it.
class QuotaPublic(BaseModel):
    quota_type: Literal["tokens", "requests"]
    period: Literal["day", "month"]
    limit: int = PydanticField(ge=0, le=2**31 - 1)  # a 32-bit column on PostgreSQL


# A department's usage since some moment: requests are answered turns, board meetings and team runs.
class UsageTotals(BaseModel):
    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        """Return the tokens in and out together."""
        return self.prompt_tokens + self.completion_tokens
