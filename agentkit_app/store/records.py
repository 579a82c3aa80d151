"""The stored conversation, typed: one enum of message types, one model per stored kind, one adapter.

A message's ``metadata`` column holds its record: ``message_type`` names the kind (absent for a
plain chat question or answer, whose role tells them apart), and board and team events keep the
engine event they stored as ``event_type`` and ``payload`` (its :func:`engine.events.to_wire` data).
Every reader goes through :func:`read_record` and every writer through :func:`dump_record`, both
over the one :data:`RECORDS` adapter; the stored shape is the one older rows already have.

Records keep keys they do not know (a newer writer's, say), so nothing stored is ever dropped;
:func:`reject_unknown_keys` makes such keys an error instead, which the tests switch on.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    SerializerFunctionWrapHandler,
    Tag,
    TypeAdapter,
    ValidationError,
    model_serializer,
)

from agentkit_app.engine import events as ev

log = logging.getLogger(__name__)


class MessageRole(StrEnum):
    """Who a stored message is from."""

    USER = "user"
    ASSISTANT = "assistant"
    TOOL = "tool"
    SYSTEM = "system"


class MessageType(StrEnum):
    """Every kind of stored message; ``CHAT`` (a plain question or answer) is the one never written."""

    CHAT = "chat"
    ERROR = "error"
    INTERVENTION = "intervention"
    BOARD_REQUEST = "board_request"
    TEAM_REQUEST = "team_request"
    BOARD_STARTED = "board_started"
    BOARD_SPEECH = "board_speech"
    BOARD_SUMMARY = "board_summary"
    BOARD_CONCLUSION = "board_conclusion"
    BOARD_FINAL = "board_final"
    TEAM_FORMED = "team_formed"
    TEAM_PLAN = "team_plan"
    TEAM_PHASE = "team_phase"
    TEAM_RESULT = "team_result"
    TEAM_SYNTHESIS = "team_synthesis"
    TEAM_NOTICE = "team_notice"
    TEAM_FINAL = "team_final"


# the engine events a board meeting or a team run stores, and the kind each is stored as
STORED_EVENT_TYPES: dict[str, MessageType] = {
    "board_started": MessageType.BOARD_STARTED,
    "expert_speech": MessageType.BOARD_SPEECH,
    "round_summary": MessageType.BOARD_SUMMARY,
    "board_concluded": MessageType.BOARD_CONCLUSION,
    "team_formed": MessageType.TEAM_FORMED,
    "plan_update": MessageType.TEAM_PLAN,
    "phase_started": MessageType.TEAM_PHASE,
    "phase_completed": MessageType.TEAM_PHASE,
    "phase_failed": MessageType.TEAM_PHASE,
    "review_result": MessageType.TEAM_RESULT,
    "risk_flagged": MessageType.TEAM_RESULT,
    "team_synthesis": MessageType.TEAM_SYNTHESIS,
    "plan_step": MessageType.TEAM_NOTICE,
    "collaboration_notice": MessageType.TEAM_NOTICE,
}
# the kinds that hold an engine event of a board meeting or team run (a reload replays them)
STORED_EVENTS = frozenset(STORED_EVENT_TYPES.values())
# a board's or team's answer: the text of its conclusion or synthesis card, with the whole run's usage
RUN_ANSWERS = frozenset({MessageType.BOARD_FINAL, MessageType.TEAM_FINAL})
RunAnswerType = Literal[MessageType.BOARD_FINAL, MessageType.TEAM_FINAL]
# the answers that carry a turn's or run's usage for the ledger
BILLED = frozenset({MessageType.CHAT, *RUN_ANSWERS})
# kinds that are not part of the conversation the model reads
NOT_FOR_MODEL = frozenset({*STORED_EVENTS, MessageType.ERROR})
# a user's message that asks for no answer of its own (a board's or team's topic, a word to a running one)
RUN_INPUTS = frozenset({MessageType.BOARD_REQUEST, MessageType.TEAM_REQUEST, MessageType.INTERVENTION})


class _Strictness:
    """Whether keys a record does not declare are an error (tests) or kept (production)."""

    reject_unknown = False


def reject_unknown_keys(enabled: bool = True) -> None:
    """Make :func:`read_record` raise on keys no record declares (the tests), or keep them (the default)."""
    _Strictness.reject_unknown = enabled


class UnknownRecordKeys(ValueError):
    """A stored record has keys its kind does not declare (raised only with :func:`reject_unknown_keys`)."""


class _Stored(BaseModel):
    """A part of a record: keeps keys it does not declare, so that a read and a write lose nothing."""

    model_config = ConfigDict(extra="allow")


# The usage of a turn or a run: tokens, time and model calls.
class Usage(_Stored):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    first_token_s: float | None = None
    total_s: float = 0.0
    calls: int = 0


# Which model answered a turn or a run, at which tier, and what it used.
class UsageFields(_Stored):
    model: str | None = None
    tier: str | None = None
    fallback_status: str | None = None
    usage: Usage | None = None
    # the structured error of an emergency apology that stood in for an answer
    error_struct: dict[str, Any] | None = None


class _Record(_Stored):
    """One stored message's metadata: its kind, and (never stored) the role the kind belongs to."""

    message_type: MessageType
    role: MessageRole = Field(default=MessageRole.ASSISTANT, exclude=True)

    @model_serializer(mode="wrap")
    def _stored_shape(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # an unset key is absent, and a plain question or answer names no kind: the shape rows have always had
        data: dict[str, Any] = handler(self)
        return {
            k: v
            for k, v in data.items()
            if v is not None and not (k == "message_type" and v == MessageType.CHAT)
        }


# The user's chat message.
class UserTurn(_Record):
    message_type: Literal[MessageType.CHAT] = MessageType.CHAT
    role: Literal[MessageRole.USER] = Field(default=MessageRole.USER, exclude=True)
    # the uploaded files it refers to, as ``service.turns.checked_attachments`` gives them
    attachments: list[dict[str, Any]] | None = None
    model: str | None = None
    skill: str | None = None
    execution_mode: str | None = None


# A chat answer (or any other message of the conversation that is not the user's).
class ChatAnswer(UsageFields, _Record):
    message_type: Literal[MessageType.CHAT] = MessageType.CHAT
    agent_name: str | None = None
    model_label: str | None = None
    # the tool calls and results of the turn, each ``{"event_type", "step", **data}`` of an engine step
    steps: list[dict[str, Any]] | None = None
    skill: str | None = None
    execution_mode: str | None = None
    # plan-execute: the phases the answer went through
    phases: list[str] | None = None
    # stopped by the user: the text is what had streamed
    cancelled: bool | None = None
    # its server process stopped while it streamed: the text is what had streamed
    interrupted: bool | None = None


# ``@board ...`` or ``@team ...``: the topic or task of a run.
class RunRequest(_Record):
    message_type: Literal[MessageType.BOARD_REQUEST, MessageType.TEAM_REQUEST]
    role: Literal[MessageRole.USER] = Field(default=MessageRole.USER, exclude=True)


# A user's message to the board or team running in the session.
class Intervention(_Record):
    message_type: Literal[MessageType.INTERVENTION] = MessageType.INTERVENTION
    role: Literal[MessageRole.USER] = Field(default=MessageRole.USER, exclude=True)


# An error the user saw in place of an answer.
class ErrorRecord(_Record):
    message_type: Literal[MessageType.ERROR] = MessageType.ERROR
    role: Literal[MessageRole.ASSISTANT] = Field(default=MessageRole.ASSISTANT, exclude=True)


# A board's or team's answer: the conclusion or synthesis as text, with the whole run's usage.
class RunAnswer(UsageFields, _Record):
    message_type: RunAnswerType
    role: Literal[MessageRole.ASSISTANT] = Field(default=MessageRole.ASSISTANT, exclude=True)
    agent_name: str | None = None


class _EventRecord(_Record):
    """A stored board or team event: the engine event as ``event_type`` and its wire ``payload``."""

    role: Literal[MessageRole.ASSISTANT] = Field(default=MessageRole.ASSISTANT, exclude=True)
    event_type: str | None = None
    payload: dict[str, Any] = Field(default_factory=dict)

    def event(self) -> ev.Event | None:
        """Return the engine event this message stored; None if it holds none, or one the engine no longer knows."""
        if not self.payload:
            return None
        return ev.from_wire({"type": self.event_type, "data": self.payload})


# A board meeting began: its topic, experts and rounds.
class BoardStart(_EventRecord):
    message_type: Literal[MessageType.BOARD_STARTED] = MessageType.BOARD_STARTED


# What a speech and a moderator's summary keep beside their event: who spoke, in which round.
class _Speaker(_EventRecord):
    expert_name: str | None = None
    expert_avatar: str | None = None
    expert_color: str | None = None
    board_round: int | None = None
    board_role: str | None = None


# An expert's speech in a round.
class BoardSpeech(_Speaker):
    message_type: Literal[MessageType.BOARD_SPEECH] = MessageType.BOARD_SPEECH


# The moderator's summary of a round.
class BoardSummary(_Speaker):
    message_type: Literal[MessageType.BOARD_SUMMARY] = MessageType.BOARD_SUMMARY


# The meeting's structured conclusion; it carries the meeting's usage.
class BoardConclusion(UsageFields, _EventRecord):
    message_type: Literal[MessageType.BOARD_CONCLUSION] = MessageType.BOARD_CONCLUSION
    board_round: int | None = None


# A team was formed and its plan made.
class TeamFormedRecord(_EventRecord):
    message_type: Literal[MessageType.TEAM_FORMED] = MessageType.TEAM_FORMED


# The team's plan changed.
class TeamPlan(_EventRecord):
    message_type: Literal[MessageType.TEAM_PLAN] = MessageType.TEAM_PLAN


# A phase started, completed or failed.
class TeamPhase(_EventRecord):
    message_type: Literal[MessageType.TEAM_PHASE] = MessageType.TEAM_PHASE
    phase_id: str | None = None
    expert_name: str | None = None
    # the event type again: ``phase_started``, ``phase_completed`` or ``phase_failed``
    phase_status: str | None = None


# A reviewer's verdict or a flagged risk.
class TeamResult(_EventRecord):
    message_type: Literal[MessageType.TEAM_RESULT] = MessageType.TEAM_RESULT


# The lead's synthesis; it carries the run's usage.
class TeamSynthesisRecord(UsageFields, _EventRecord):
    message_type: Literal[MessageType.TEAM_SYNTHESIS] = MessageType.TEAM_SYNTHESIS


# A note of the lead while planning, or a notice to the team.
class TeamNotice(_EventRecord):
    message_type: Literal[MessageType.TEAM_NOTICE] = MessageType.TEAM_NOTICE


EventRecord = (
    BoardStart
    | BoardSpeech
    | BoardSummary
    | BoardConclusion
    | TeamFormedRecord
    | TeamPlan
    | TeamPhase
    | TeamResult
    | TeamSynthesisRecord
    | TeamNotice
)
AnyRecord = UserTurn | ChatAnswer | RunRequest | Intervention | ErrorRecord | RunAnswer | EventRecord

_USER_TURN, _CHAT_ANSWER = "chat:user", "chat:answer"


def _tag(value: Any) -> str:
    """Return the union tag of a record or its stored form: its kind, or for plain chat its role."""
    if isinstance(value, Mapping):
        kind, role = value.get("message_type"), value.get("role")
    else:
        kind, role = getattr(value, "message_type", None), getattr(value, "role", None)
    if kind in (None, "", MessageType.CHAT):
        return _USER_TURN if role == MessageRole.USER else _CHAT_ANSWER
    return str(kind)


Record = Annotated[
    Annotated[UserTurn, Tag(_USER_TURN)]
    | Annotated[ChatAnswer, Tag(_CHAT_ANSWER)]
    | Annotated[RunRequest, Tag(MessageType.BOARD_REQUEST)]
    | Annotated[RunRequest, Tag(MessageType.TEAM_REQUEST)]
    | Annotated[Intervention, Tag(MessageType.INTERVENTION)]
    | Annotated[ErrorRecord, Tag(MessageType.ERROR)]
    | Annotated[RunAnswer, Tag(MessageType.BOARD_FINAL)]
    | Annotated[RunAnswer, Tag(MessageType.TEAM_FINAL)]
    | Annotated[BoardStart, Tag(MessageType.BOARD_STARTED)]
    | Annotated[BoardSpeech, Tag(MessageType.BOARD_SPEECH)]
    | Annotated[BoardSummary, Tag(MessageType.BOARD_SUMMARY)]
    | Annotated[BoardConclusion, Tag(MessageType.BOARD_CONCLUSION)]
    | Annotated[TeamFormedRecord, Tag(MessageType.TEAM_FORMED)]
    | Annotated[TeamPlan, Tag(MessageType.TEAM_PLAN)]
    | Annotated[TeamPhase, Tag(MessageType.TEAM_PHASE)]
    | Annotated[TeamResult, Tag(MessageType.TEAM_RESULT)]
    | Annotated[TeamSynthesisRecord, Tag(MessageType.TEAM_SYNTHESIS)]
    | Annotated[TeamNotice, Tag(MessageType.TEAM_NOTICE)],
    Discriminator(_tag),
]
# the one way records are read from and written to a message's metadata
RECORDS: TypeAdapter[AnyRecord] = TypeAdapter(Record)


def read_record(role: str, metadata: Mapping[str, Any] | None) -> AnyRecord:
    """Return the typed record of a stored message from its role and metadata.

    A record that does not validate (written by a newer version, or damaged) reads as a plain
    chat message of its role, and the problem is logged; with :func:`reject_unknown_keys` it raises,
    as do keys no record declares.

    Raises:
        ValidationError: only with :func:`reject_unknown_keys`, for a record that does not validate.
        UnknownRecordKeys: only with :func:`reject_unknown_keys`, for keys the record does not declare.
    """
    try:
        record = RECORDS.validate_python({**(metadata or {}), "role": role})
    except ValidationError:
        if _Strictness.reject_unknown:
            raise
        log.warning("a stored %s message does not read as a record; shown as plain chat", role)
        return UserTurn() if role == MessageRole.USER else ChatAnswer(role=_role(role))
    if _Strictness.reject_unknown and (unknown := sorted(_unknown_keys(record))):
        raise UnknownRecordKeys(f"stored {record.message_type} record has unknown keys: {', '.join(unknown)}")
    return record


def dump_record(record: AnyRecord) -> dict[str, Any]:
    """Return the metadata a message stores for ``record`` (JSON-able, in the shape rows have always had)."""
    data: dict[str, Any] = RECORDS.dump_python(record, mode="json")
    return data


def _role(role: str) -> MessageRole:
    try:
        return MessageRole(role)
    except ValueError:
        return MessageRole.ASSISTANT


def _unknown_keys(model: BaseModel, prefix: str = "") -> set[str]:
    """Return the keys of ``model`` and the models in it that no field declares, as dotted paths.

    An event's payload counts too: its keys are the fields of the event it names, which must be
    an event stored as the record's kind.
    """
    unknown = {prefix + key for key in model.model_extra or {}}
    if isinstance(model, _EventRecord) and model.payload:
        event_class = ev.EVENT_TYPES.get(str(model.event_type))
        if event_class is None or STORED_EVENT_TYPES.get(str(model.event_type)) != model.message_type:
            unknown.add(f"event_type={model.event_type}")
        else:
            names = {f.name for f in dataclasses.fields(event_class)}
            unknown |= {f"payload.{key}" for key in model.payload if key not in names}
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, BaseModel):
            unknown |= _unknown_keys(value, f"{prefix}{name}.")
    return unknown
