"""Typed engine events: one frozen class per event, tagged with its ``type``, and one union alias.

An event class names its tag once, in its header: ``class Token(TextEvent, tag="token")``.
Events that carry the same fields (a text; a phase and its expert) share them through a base.
Every transport encodes an event with :func:`to_wire` as ``{"type": T, "data": {...}}``; the events the
reference's clients read at the top level of a frame (:data:`TOP_LEVEL_TYPES`) carry their fields there too.
"""

from __future__ import annotations

import dataclasses
from dataclasses import field
from typing import Any, ClassVar, dataclass_transform, get_args


@dataclass_transform(frozen_default=True, kw_only_default=True, field_specifiers=(field,))
class EngineEvent:
    """Base of every event: each subclass is a frozen, keyword-only dataclass.

    A subclass given ``tag`` is an event whose ``type`` is that tag; one without is a base
    that gives its fields to the events derived from it.
    """

    type: ClassVar[str]

    def __init_subclass__(cls, *, tag: str | None = None) -> None:
        super().__init_subclass__()
        if tag is not None:
            cls.type = tag
        dataclasses.dataclass(frozen=True, kw_only=True)(cls)


class TextEvent(EngineEvent):
    """An event that carries one text: a streamed piece, a note, or a whole result."""

    content: str


class Token(TextEvent, tag="token"):
    """A piece of the answer text as it streams."""


class Thinking(TextEvent, tag="thinking"):
    """Reasoning text, or text that turned out to precede a tool call."""


class Step(EngineEvent, tag="step"):
    """An engine step: ``tool_call``, ``tool_result``, ``direct_chat`` and the like."""

    event_type: str
    step: int
    data: dict[str, Any] = field(default_factory=dict)


class FinalAnswer(EngineEvent, tag="final_answer"):
    """The turn's answer; ``metadata`` says how it was produced (model, tier, usage)."""

    content: str
    is_final: bool = True
    metadata: dict[str, Any] = field(default_factory=dict)


class Error(EngineEvent, tag="error"):
    """A failure the user should see: short, no stack trace, no secrets.

    ``code`` sorts it for transports: ``invalid`` (bad input), ``llm`` (model endpoint), ``internal``.
    """

    message: str
    code: str | None = None
    error_struct: dict[str, Any] | None = None
    quota_info: dict[str, Any] | None = None


class ConfirmationRequest(EngineEvent, tag="confirmation_request"):
    """A dangerous tool asks the user before it runs."""

    confirmation_id: str
    command: str
    reason: str
    timeout_s: float = 300.0


class ConfirmationResult(EngineEvent, tag="confirmation_result"):
    """How a confirmation ended (a timeout or cancel counts as denied)."""

    confirmation_id: str
    approved: bool


class AskHuman(EngineEvent, tag="ask_human"):
    """The agent asks the user a question and waits for a ``reply``."""

    question: str
    request_id: str


class HumanReply(EngineEvent, tag="human_reply"):
    """The user's answer to an ``ask_human`` question reached the engine."""

    request_id: str
    content: str


class Result(EngineEvent, tag="result"):
    """How a run ended when it did not end with an answer (``cancelled``)."""

    status: str


class SkillMatch(EngineEvent, tag="skill_match"):
    """A skill was selected for this message."""

    skill: str
    method: str
    confidence: float


class Usage(EngineEvent, tag="usage"):
    """Token usage and timing of one model call."""

    model: str
    tier: str
    prompt_tokens: int
    completion_tokens: int
    first_token_s: float | None
    total_s: float


class PhaseChanged(EngineEvent, tag="phase_changed"):
    """Plan-execute moved from one phase to the next."""

    phase: str
    previous: str | None


class PhaseViolation(EngineEvent, tag="phase_violation"):
    """The model called a tool that its current phase forbids; the call was refused."""

    phase: str
    tool: str
    allowed: list[str]


class BoardStarted(EngineEvent, tag="board_started"):
    """A board meeting began."""

    team_id: str
    topic: str
    experts: list[dict[str, Any]]
    max_rounds: int


class SpeechEvent(EngineEvent):
    """Words an expert says at a board meeting: the text and who says it."""

    content: str
    expert_name: str


class ExpertSpeechChunk(SpeechEvent, tag="expert_speech_chunk"):
    """Part of an expert's speech while it streams."""

    round: int


class ExpertSpeech(SpeechEvent, tag="expert_speech"):
    """An expert's whole speech in a round."""

    expert_avatar: str
    expert_color: str
    round: int
    role: str


class RoundSummary(EngineEvent, tag="round_summary"):
    """The moderator's summary that closes a round."""

    content: str
    moderator_name: str
    moderator_avatar: str
    moderator_color: str
    round: int
    consensus_reached: bool = False


class UserIntervention(TextEvent, tag="user_intervention"):
    """A user message read by the board during a meeting."""


class BoardConcluded(EngineEvent, tag="board_concluded"):
    """The meeting's structured conclusion."""

    summary: str
    decision_advice: str
    total_rounds: int
    consensus_points: list[str]
    dissent_points: list[str]


class TeamFormed(EngineEvent, tag="team_formed"):
    """A team was formed and its plan made."""

    team_id: str
    status: str
    experts: list[dict[str, Any]]
    plan_phases: list[dict[str, Any]]
    lead_expert: str


class PlanUpdate(EngineEvent, tag="plan_update"):
    """The plan's phases changed (planned, replanned, or a status moved)."""

    plan_phases: list[dict[str, Any]]


class PlanStep(TextEvent, tag="plan_step"):
    """A note from the lead while planning."""


class PhaseEvent(EngineEvent):
    """An event in a phase's life: which phase, its name, and the expert who does it."""

    phase_id: str
    name: str
    expert_name: str


class PhaseStarted(PhaseEvent, tag="phase_started"):
    """A phase began."""

    interventions: list[str] = field(default_factory=list)


class PhaseCompleted(PhaseEvent, tag="phase_completed"):
    """A phase finished with a result."""

    result: str
    duration_s: float


class PhaseFailed(PhaseEvent, tag="phase_failed"):
    """A phase failed."""

    error: str


class Replanning(EngineEvent, tag="replanning"):
    """The lead is replanning after a failed phase."""

    reason: str


class ExpertStep(EngineEvent, tag="expert_step"):
    """A member expert's intermediate step."""

    expert_id: str
    expert_name: str
    expert_color: str
    content: str
    step: int


class PhaseWorkEvent(EngineEvent):
    """What a member's work on a phase gave: which phase, and the expert who did it."""

    phase_id: str
    expert_name: str


class PhaseText(PhaseWorkEvent):
    """A member's phase result text."""

    content: str


class ExpertResultChunk(PhaseText, tag="expert_result_chunk"):
    """Part of a member's phase result while it streams."""


class ExpertResultChunkReset(EngineEvent, tag="expert_result_chunk_reset"):
    """Discard the streamed chunks of a phase (it is being retried)."""

    phase_id: str


class ExpertResult(PhaseText, tag="expert_result"):
    """A member's whole phase result."""


class CollaborationContractDefined(TextEvent, tag="collaboration_contract_defined"):
    """The team agreed how the members hand work to each other."""


class CollaborationNotice(TextEvent, tag="collaboration_notice"):
    """A notice to the team (for example a resumed run)."""


class ReviewResult(PhaseWorkEvent, tag="review_result"):
    """A reviewer's verdict on a phase."""

    verdict: str
    content: str


class RiskFlagged(PhaseWorkEvent, tag="risk_flagged"):
    """A reviewer flagged a risk."""

    risk: str


class TeamSynthesisChunk(TextEvent, tag="team_synthesis_chunk"):
    """Part of the lead's synthesis while it streams."""


class TeamSynthesis(TextEvent, tag="team_synthesis"):
    """The lead's whole synthesis (the team's final result)."""


class TeamInterventionAck(TextEvent, tag="team_intervention_ack"):
    """A user message reached a running team and will be read by the next phase."""


class TeamDissolved(EngineEvent, tag="team_dissolved"):
    """The team ended (always sent, also after failure or cancel)."""

    team_id: str
    status: str = "completed"


Event = (
    Token
    | Thinking
    | Step
    | FinalAnswer
    | Error
    | ConfirmationRequest
    | ConfirmationResult
    | AskHuman
    | HumanReply
    | Result
    | SkillMatch
    | Usage
    | PhaseChanged
    | PhaseViolation
    | BoardStarted
    | ExpertSpeechChunk
    | ExpertSpeech
    | RoundSummary
    | UserIntervention
    | BoardConcluded
    | TeamFormed
    | PlanUpdate
    | PlanStep
    | PhaseStarted
    | PhaseCompleted
    | PhaseFailed
    | Replanning
    | ExpertStep
    | ExpertResultChunk
    | ExpertResultChunkReset
    | ExpertResult
    | CollaborationContractDefined
    | CollaborationNotice
    | ReviewResult
    | RiskFlagged
    | TeamSynthesisChunk
    | TeamSynthesis
    | TeamInterventionAck
    | TeamDissolved
)

EVENT_TYPES: dict[str, type[Event]] = {cls.type: cls for cls in get_args(Event)}
# the frames whose fields the reference's clients read at the top level (``connected`` is the transport's own)
TOP_LEVEL_TYPES = frozenset({"connected", Token.type, Thinking.type, AskHuman.type, FinalAnswer.type})


def to_wire(event: Event) -> dict[str, Any]:
    """Return the transport form of an event: ``{"type": T, "data": {...}}``.

    An event of :data:`TOP_LEVEL_TYPES` also has its fields at the top level, as the reference sent
    them: ``{"type": "token", "content": "Hi", "data": {"content": "Hi"}}``.
    """
    data = {f.name: getattr(event, f.name) for f in dataclasses.fields(event)}
    if isinstance(event, Error):
        data = {k: v for k, v in data.items() if v is not None}
    if event.type in TOP_LEVEL_TYPES:
        return {"type": event.type, **data, "data": data}
    return {"type": event.type, "data": data}


def from_wire(frame: dict[str, Any]) -> Event | None:
    """Rebuild an event from its transport form; None for an unknown type."""
    cls = EVENT_TYPES.get(str(frame.get("type")))
    if cls is None:
        return None
    data = frame.get("data") or {}
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in data.items() if k in names})
