"""Typed engine events: one frozen class per event, a Literal ``type`` tag, one union alias.

Every transport encodes an event with :func:`to_wire` as ``{"type": T, "data": {...}}``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(frozen=True, slots=True, kw_only=True)
class Token:
    """A piece of the answer text as it streams."""

    content: str
    type: Literal["token"] = "token"


@dataclass(frozen=True, slots=True, kw_only=True)
class Thinking:
    """Reasoning text, or text that turned out to precede a tool call."""

    content: str
    type: Literal["thinking"] = "thinking"


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    """An engine step: ``tool_call``, ``tool_result``, ``direct_chat`` and the like."""

    event_type: str
    step: int
    data: dict[str, Any] = field(default_factory=dict)
    type: Literal["step"] = "step"


@dataclass(frozen=True, slots=True, kw_only=True)
class FinalAnswer:
    """The turn's answer; ``metadata`` says how it was produced (model, tier, usage)."""

    content: str
    is_final: bool = True
    metadata: dict[str, Any] = field(default_factory=dict)
    type: Literal["final_answer"] = "final_answer"


@dataclass(frozen=True, slots=True, kw_only=True)
class Error:
    """A failure the user should see: short, no stack trace, no secrets.

    ``code`` sorts it for transports: ``invalid`` (bad input), ``llm`` (model endpoint), ``internal``.
    """

    message: str
    code: str | None = None
    error_struct: dict[str, Any] | None = None
    quota_info: dict[str, Any] | None = None
    type: Literal["error"] = "error"


@dataclass(frozen=True, slots=True, kw_only=True)
class ConfirmationRequest:
    """A dangerous tool asks the user before it runs."""

    confirmation_id: str
    command: str
    reason: str
    timeout_s: float = 300.0
    type: Literal["confirmation_request"] = "confirmation_request"


@dataclass(frozen=True, slots=True, kw_only=True)
class ConfirmationResult:
    """How a confirmation ended (a timeout or cancel counts as denied)."""

    confirmation_id: str
    approved: bool
    type: Literal["confirmation_result"] = "confirmation_result"


@dataclass(frozen=True, slots=True, kw_only=True)
class AskHuman:
    """The agent asks the user a question and waits for a ``reply``."""

    question: str
    request_id: str
    type: Literal["ask_human"] = "ask_human"


@dataclass(frozen=True, slots=True, kw_only=True)
class HumanReply:
    """The user's answer to an ``ask_human`` question reached the engine."""

    request_id: str
    content: str
    type: Literal["human_reply"] = "human_reply"


@dataclass(frozen=True, slots=True, kw_only=True)
class Result:
    """How a run ended when it did not end with an answer (``cancelled``)."""

    status: str
    type: Literal["result"] = "result"


@dataclass(frozen=True, slots=True, kw_only=True)
class SkillMatch:
    """A skill was selected for this message."""

    skill: str
    method: str
    confidence: float
    type: Literal["skill_match"] = "skill_match"


@dataclass(frozen=True, slots=True, kw_only=True)
class Usage:
    """Token usage and timing of one model call."""

    model: str
    tier: str
    prompt_tokens: int
    completion_tokens: int
    first_token_s: float | None
    total_s: float
    type: Literal["usage"] = "usage"


@dataclass(frozen=True, slots=True, kw_only=True)
class PhaseChanged:
    """Plan-execute moved from one phase to the next."""

    phase: str
    previous: str | None
    type: Literal["phase_changed"] = "phase_changed"


@dataclass(frozen=True, slots=True, kw_only=True)
class PhaseViolation:
    """The model called a tool that its current phase forbids; the call was refused."""

    phase: str
    tool: str
    allowed: list[str]
    type: Literal["phase_violation"] = "phase_violation"


@dataclass(frozen=True, slots=True, kw_only=True)
class BoardStarted:
    """A board meeting began."""

    team_id: str
    topic: str
    experts: list[dict[str, Any]]
    max_rounds: int
    type: Literal["board_started"] = "board_started"


@dataclass(frozen=True, slots=True, kw_only=True)
class ExpertSpeechChunk:
    """Part of an expert's speech while it streams."""

    content: str
    expert_name: str
    round: int
    type: Literal["expert_speech_chunk"] = "expert_speech_chunk"


@dataclass(frozen=True, slots=True, kw_only=True)
class ExpertSpeech:
    """An expert's whole speech in a round."""

    content: str
    expert_name: str
    expert_avatar: str
    expert_color: str
    round: int
    role: str
    type: Literal["expert_speech"] = "expert_speech"


@dataclass(frozen=True, slots=True, kw_only=True)
class RoundSummary:
    """The moderator's summary that closes a round."""

    content: str
    moderator_name: str
    moderator_avatar: str
    moderator_color: str
    round: int
    consensus_reached: bool = False
    type: Literal["round_summary"] = "round_summary"


@dataclass(frozen=True, slots=True, kw_only=True)
class UserIntervention:
    """A user message read by the board during a meeting."""

    content: str
    type: Literal["user_intervention"] = "user_intervention"


@dataclass(frozen=True, slots=True, kw_only=True)
class BoardConcluded:
    """The meeting's structured conclusion."""

    summary: str
    decision_advice: str
    total_rounds: int
    consensus_points: list[str]
    dissent_points: list[str]
    type: Literal["board_concluded"] = "board_concluded"


@dataclass(frozen=True, slots=True, kw_only=True)
class TeamFormed:
    """A team was formed and its plan made."""

    team_id: str
    status: str
    experts: list[dict[str, Any]]
    plan_phases: list[dict[str, Any]]
    lead_expert: str
    type: Literal["team_formed"] = "team_formed"


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanUpdate:
    """The plan's phases changed (planned, replanned, or a status moved)."""

    plan_phases: list[dict[str, Any]]
    type: Literal["plan_update"] = "plan_update"


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanStep:
    """A note from the lead while planning."""

    content: str
    type: Literal["plan_step"] = "plan_step"


@dataclass(frozen=True, slots=True, kw_only=True)
class PhaseStarted:
    """A phase began."""

    phase_id: str
    name: str
    expert_name: str
    interventions: list[str] = field(default_factory=list)
    type: Literal["phase_started"] = "phase_started"


@dataclass(frozen=True, slots=True, kw_only=True)
class PhaseCompleted:
    """A phase finished with a result."""

    phase_id: str
    name: str
    expert_name: str
    result: str
    duration_s: float
    type: Literal["phase_completed"] = "phase_completed"


@dataclass(frozen=True, slots=True, kw_only=True)
class PhaseFailed:
    """A phase failed."""

    phase_id: str
    name: str
    expert_name: str
    error: str
    type: Literal["phase_failed"] = "phase_failed"


@dataclass(frozen=True, slots=True, kw_only=True)
class Replanning:
    """The lead is replanning after a failed phase."""

    reason: str
    type: Literal["replanning"] = "replanning"


@dataclass(frozen=True, slots=True, kw_only=True)
class ExpertStep:
    """A member expert's intermediate step."""

    expert_id: str
    expert_name: str
    expert_color: str
    content: str
    step: int
    type: Literal["expert_step"] = "expert_step"


@dataclass(frozen=True, slots=True, kw_only=True)
class ExpertResultChunk:
    """Part of a member's phase result while it streams."""

    phase_id: str
    expert_name: str
    content: str
    type: Literal["expert_result_chunk"] = "expert_result_chunk"


@dataclass(frozen=True, slots=True, kw_only=True)
class ExpertResultChunkReset:
    """Discard the streamed chunks of a phase (it is being retried)."""

    phase_id: str
    type: Literal["expert_result_chunk_reset"] = "expert_result_chunk_reset"


@dataclass(frozen=True, slots=True, kw_only=True)
class ExpertResult:
    """A member's whole phase result."""

    phase_id: str
    expert_name: str
    content: str
    type: Literal["expert_result"] = "expert_result"


@dataclass(frozen=True, slots=True, kw_only=True)
class CollaborationContractDefined:
    """The team agreed how the members hand work to each other."""

    content: str
    type: Literal["collaboration_contract_defined"] = "collaboration_contract_defined"


@dataclass(frozen=True, slots=True, kw_only=True)
class CollaborationNotice:
    """A notice to the team (for example a resumed run)."""

    content: str
    type: Literal["collaboration_notice"] = "collaboration_notice"


@dataclass(frozen=True, slots=True, kw_only=True)
class ReviewResult:
    """A reviewer's verdict on a phase."""

    phase_id: str
    expert_name: str
    verdict: str
    content: str
    type: Literal["review_result"] = "review_result"


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskFlagged:
    """A reviewer flagged a risk."""

    phase_id: str
    expert_name: str
    risk: str
    type: Literal["risk_flagged"] = "risk_flagged"


@dataclass(frozen=True, slots=True, kw_only=True)
class TeamSynthesisChunk:
    """Part of the lead's synthesis while it streams."""

    content: str
    type: Literal["team_synthesis_chunk"] = "team_synthesis_chunk"


@dataclass(frozen=True, slots=True, kw_only=True)
class TeamSynthesis:
    """The lead's whole synthesis (the team's final result)."""

    content: str
    type: Literal["team_synthesis"] = "team_synthesis"


@dataclass(frozen=True, slots=True, kw_only=True)
class TeamInterventionAck:
    """A user message reached a running team and will be read by the next phase."""

    content: str
    type: Literal["team_intervention_ack"] = "team_intervention_ack"


@dataclass(frozen=True, slots=True, kw_only=True)
class TeamDissolved:
    """The team ended (always sent, also after failure or cancel)."""

    team_id: str
    status: str = "completed"
    type: Literal["team_dissolved"] = "team_dissolved"


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

EVENT_TYPES: dict[str, type] = {cls.__dataclass_fields__["type"].default: cls for cls in Event.__args__}


def to_wire(event: Event) -> dict[str, Any]:
    """Return the transport form of an event: ``{"type": T, "data": {...}}``."""
    data = {f.name: getattr(event, f.name) for f in dataclasses.fields(event) if f.name != "type"}
    if isinstance(event, Error):
        data = {k: v for k, v in data.items() if v is not None}
    return {"type": event.type, "data": data}


def from_wire(frame: dict[str, Any]) -> Event | None:
    """Rebuild an event from its transport form; None for an unknown type."""
    cls = EVENT_TYPES.get(str(frame.get("type")))
    if cls is None:
        return None
    data = frame.get("data") or {}
    names = {f.name for f in dataclasses.fields(cls)} - {"type"}
    return cls(**{k: v for k, v in data.items() if k in names})
