"""Tables for sessions, messages, feedback, accounts and usage, and the public shapes the API returns (share links too)."""

from __future__ import annotations

import uuid
import warnings
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, computed_field
from pydantic import Field as PydanticField
from sqlalchemy import JSON, Column, DateTime, ForeignKey, Index, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from agentkit_app.store.records import RUN_ANSWERS, AnyRecord, MessageRole, MessageType, read_record


def utcnow() -> datetime:
    """Return the current time, timezone-aware UTC."""
    return datetime.now(UTC)


def new_id() -> str:
    """Return a new random hex id."""
    return uuid.uuid4().hex


class SessionStatus(StrEnum):
    """Whether a session takes new messages (``closed``: archived, read only)."""

    ACTIVE = "active"
    CLOSED = "closed"


class SessionKind(StrEnum):
    """What a session holds: a chat, or (since its first run) a board meeting or a team run."""

    CHAT = "chat"
    BOARD = "board"
    TEAM = "team"


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


# a moment as the API shows it: SQLite hands back naive datetimes, which are UTC
AwareDatetime = Annotated[datetime, AfterValidator(_aware)]


# The fields a session shows as they are stored.
class SessionBase(SQLModel):
    agent_name: str = Field(max_length=100)
    status: SessionStatus = Field(default=SessionStatus.ACTIVE, max_length=16, sa_type=String(16))
    title: str = Field(default="", max_length=200)
    kind: SessionKind = Field(default=SessionKind.CHAT, max_length=16, sa_type=String(16))
    # the user who owns it (None: created without user accounts, or by an API-key client); no foreign key,
    # so that a conversation outlives changes to accounts
    user_id: str | None = Field(default=None, max_length=64, index=True)


# A conversation bound to one agent.
class SessionRecord(SessionBase, table=True):
    __tablename__ = "sessions"

    session_id: str = Field(default_factory=new_id, primary_key=True, max_length=64)
    # the client's free-form metadata: nothing the server decides on is read from here
    meta: dict[str, Any] = Field(default_factory=dict, sa_column=Column("metadata", JSON, nullable=False))
    # what the server keeps about the session (active_leaf, team_run, title_source, pinned): no client
    # input writes it
    server_state: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column("server_state", JSON, nullable=False, server_default="{}")
    )
    # whether its messages fork (an edit, a regeneration, a branch switched to): if not, the active branch
    # is every message in order; None for sessions from before this was kept, whose branches are followed
    branched: bool | None = Field(default=False)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False, index=True)
    )


# SQLModel keeps its table registry in the class attribute ``metadata``; the public shapes still call
# their metadata column by the name the API has always used, which pydantic would warn about
warnings.filterwarnings(
    "ignore", message='Field name "metadata" in "(Session|Message)Public" shadows', category=UserWarning
)


# A session as the API shows it.
class SessionPublic(SessionBase):
    session_id: str
    # the client's own metadata, as given when the session was created
    metadata: dict[str, Any]  # type: ignore[assignment,misc]
    created_at: AwareDatetime
    updated_at: AwareDatetime
    # read-only: what the server keeps (pinned, title_source, team_run, active_leaf)
    server_state: dict[str, Any] = Field(default_factory=dict)


class Rating(StrEnum):
    """A reader's verdict on a message: thumbs up or down."""

    UP = "up"
    DOWN = "down"


# what a reader may rate: an answer, a speech, a moderator's summary, a board's conclusion, a team's
# synthesis, and a run's answer (the message REST returns for a board or team)
RATED_KINDS = frozenset(
    {
        MessageType.CHAT,
        MessageType.BOARD_SPEECH,
        MessageType.BOARD_SUMMARY,
        MessageType.BOARD_CONCLUSION,
        MessageType.TEAM_SYNTHESIS,
        *RUN_ANSWERS,
    }
)
FEEDBACK_COMMENT_CHARS = 2000


def rateable(record: AnyRecord) -> bool:
    """Return whether a reader may rate the message of ``record``: an assistant's message of a rated kind."""
    return record.role == MessageRole.ASSISTANT and record.message_type in RATED_KINDS


# One reader's vote on one message; a second vote of the same reader replaces it (unique pair).
# Who made the message (agent, expert) and its kind are copied in when the vote is cast, so that the
# admin's list filters without reading message records. The vote goes with its message.
class FeedbackRecord(SQLModel, table=True):
    __tablename__ = "message_feedback"
    __table_args__ = (
        UniqueConstraint("message_id", "voter", name="uq_message_feedback_message_voter"),
        Index("ix_message_feedback_updated", "updated_at"),
        # a reader's votes in one conversation, read beside each page of it
        Index("ix_message_feedback_session_voter", "session_id", "voter"),
    )

    id: int | None = Field(default=None, primary_key=True)
    message_id: str = Field(
        sa_column=Column(
            String(64), ForeignKey("messages.message_id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    session_id: str = Field(max_length=64)
    # the voter's user id; "" for a deployment without accounts (or an API-key client)
    voter: str = Field(default="", max_length=64)
    rating: Rating = Field(max_length=8, sa_type=String(8))
    comment: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    agent_name: str | None = Field(default=None, max_length=100, index=True)
    expert_name: str | None = Field(default=None, max_length=100, index=True)
    message_type: str = Field(default=MessageType.CHAT, max_length=32)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


# A vote as the one who cast it sees it.
class FeedbackPublic(BaseModel):
    message_id: str
    rating: Rating
    comment: str = ""
    created_at: AwareDatetime
    updated_at: AwareDatetime

    @classmethod
    def of(cls, row: FeedbackRecord) -> FeedbackPublic:
        """Return the public form of a feedback row."""
        return cls.model_validate(row, from_attributes=True)


# A vote in the admin's list: who rated what, made by which agent or expert, and the start of its text.
class FeedbackEntry(FeedbackPublic):
    session_id: str
    message_type: str
    agent_name: str | None = None
    expert_name: str | None = None
    user_id: str | None = None
    username: str | None = None
    excerpt: str = ""


# How many thumbs up and down the messages of one agent or expert have.
class FeedbackTally(BaseModel):
    name: str
    up: int = 0
    down: int = 0


# The thumbs of every agent and every expert that has votes, by name.
class FeedbackSummary(BaseModel):
    agents: list[FeedbackTally] = PydanticField(default_factory=list)
    experts: list[FeedbackTally] = PydanticField(default_factory=list)


# The fields a message shows as they are stored.
class MessageBase(SQLModel):
    session_id: str = Field(foreign_key="sessions.session_id", index=True, max_length=64)
    role: MessageRole = Field(max_length=16, sa_type=String(16))
    content: str = Field(default="", sa_column=Column(Text, nullable=False))
    tool_call_id: str | None = Field(default=None, max_length=128)
    agent_name: str | None = Field(default=None, max_length=100)
    # the message this one follows: edits and regenerations are siblings under the same parent
    parent_id: str | None = Field(default=None, max_length=64, index=True)


# One message; the autoincrement id is the conversation's order.
class MessageRecord(MessageBase, table=True):
    __tablename__ = "messages"

    id: int | None = Field(default=None, primary_key=True)
    message_id: str = Field(default_factory=new_id, unique=True, max_length=64)
    # the message's record (``store.records``): its kind and how to render it
    meta: dict[str, Any] = Field(default_factory=dict, sa_column=Column("metadata", JSON, nullable=False))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


# A message as the API shows it (metadata included: it says how to render the message).
class MessagePublic(MessageBase):
    message_id: str
    metadata: dict[str, Any]  # type: ignore[assignment,misc]
    created_at: AwareDatetime
    # ids of this message and its siblings (edits of a user message, regenerations of an answer), oldest first
    alternatives: list[str] = Field(default_factory=list)
    # the caller's own vote on it, where the reader asked for it (None: not rated, or not asked)
    feedback: FeedbackPublic | None = None

    @property
    def record(self) -> AnyRecord:
        """Return the message's typed record (its kind, and what it keeps beside the text)."""
        return read_record(self.role, self.metadata)


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


# A personal API token: only the SHA-256 of the secret is kept; ``token_id`` is its public part (``ak_<id>_...``).
class ApiTokenRecord(SQLModel, table=True):
    __tablename__ = "api_tokens"

    token_id: str = Field(primary_key=True, max_length=16)
    user_id: str = Field(
        sa_column=Column(
            String(64), ForeignKey("users.user_id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    name: str = Field(max_length=100)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    last_used_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    expires_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))


# A personal API token as its owner and the admins see it: never the secret, never its hash.
class ApiTokenPublic(BaseModel):
    token_id: str
    # how the token starts (``ak_<token_id>``), to tell it apart from the others
    prefix: str
    name: str
    user_id: str
    username: str = ""
    created_at: AwareDatetime
    last_used_at: AwareDatetime | None = None
    expires_at: AwareDatetime | None = None


# A user as the API shows it (never the password hash or the token version).
class UserPublic(BaseModel):
    user_id: str
    username: str
    role: str
    department_id: str | None
    created_at: AwareDatetime
    disabled: bool

    @classmethod
    def of(cls, row: UserRecord) -> UserPublic:
        """Return the public form of a user row."""
        return cls.model_validate(row, from_attributes=True)


# A department as the API shows it.
class DepartmentPublic(BaseModel):
    department_id: str
    name: str
    # whether its regular users may run the (sandboxed) shell tool; admins always may
    shell_enabled: bool = False

    @classmethod
    def of(cls, row: DepartmentRecord) -> DepartmentPublic:
        """Return the public form of a department row."""
        return cls.model_validate(row, from_attributes=True)


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


class ShareVisibility(StrEnum):
    """Who may open a link: anyone the deployment lets in (signed in), or anyone at all."""

    SIGNED_IN = "signed_in"
    PUBLIC = "public"


SHARE_ROUTE = "/share/"


# A live link as its session's owner and the admins see it, with its maker's name.
class SharePublic(BaseModel):
    share_id: str
    # the secret part of the link: whoever has it may read the conversation (``visibility`` permitting)
    token: str
    session_id: str
    created_by: str | None
    created_by_name: str = ""
    visibility: ShareVisibility
    created_at: AwareDatetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def path(self) -> str:
        """Return the web page of the link, relative to the app's address: ``/share/<token>``."""
        return f"{SHARE_ROUTE}{self.token}"
