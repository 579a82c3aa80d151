"""Typed engine events: one frozen class per event, a Literal ``type`` tag, one union alias.

Every transport encodes an event with :func:`to_wire` as ``{"type": T, "data": {...}}``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

_frozen = dataclass(frozen=True, slots=True, kw_only=True)


@_frozen
class Token:
    """A piece of the answer text as it streams."""

    content: str
    type: Literal["token"] = "token"


@_frozen
class Thinking:
    """Reasoning text, or text that turned out to precede a tool call."""

    content: str
    type: Literal["thinking"] = "thinking"


@_frozen
class Step:
    """An engine step: ``tool_call``, ``tool_result``, ``direct_chat`` and the like."""

    event_type: str
    step: int
    data: dict[str, Any] = field(default_factory=dict)
    type: Literal["step"] = "step"


@_frozen
class FinalAnswer:
    """The turn's answer; ``metadata`` says how it was produced (model, tier, usage)."""

    content: str
    is_final: bool = True
    metadata: dict[str, Any] = field(default_factory=dict)
    type: Literal["final_answer"] = "final_answer"


@_frozen
class Error:
    """A failure the user should see: short, no stack trace, no secrets.

    ``code`` sorts it for transports: ``invalid`` (bad input), ``llm`` (model endpoint), ``internal``.
    """

    message: str
    code: str | None = None
    error_struct: dict[str, Any] | None = None
    quota_info: dict[str, Any] | None = None
    type: Literal["error"] = "error"


@_frozen
class ConfirmationRequest:
    """A dangerous tool asks the user before it runs."""

    confirmation_id: str
    command: str
    reason: str
    timeout_s: float = 300.0
    type: Literal["confirmation_request"] = "confirmation_request"


@_frozen
class ConfirmationResult:
    """How a confirmation ended (a timeout or cancel counts as denied)."""

    confirmation_id: str
    approved: bool
    type: Literal["confirmation_result"] = "confirmation_result"


@_frozen
class AskHuman:
    """The agent asks the user a question and waits for a ``reply``."""

    question: str
    request_id: str
    type: Literal["ask_human"] = "ask_human"


@_frozen
class HumanReply:
    """The user's answer to an ``ask_human`` question reached the engine."""

    request_id: str
    content: str
    type: Literal["human_reply"] = "human_reply"


@_frozen
class Result:
    """How a run ended when it did not end with an answer (``cancelled``)."""

    status: str
    type: Literal["result"] = "result"


@_frozen
class SkillMatch:
    """A skill was selected for this message."""

    skill: str
    method: str
    confidence: float
    type: Literal["skill_match"] = "skill_match"


@_frozen
class Usage:
    """Token usage and timing of one model call."""

    model: str
    tier: str
    prompt_tokens: int
    completion_tokens: int
    first_token_s: float | None
    total_s: float
    type: Literal["usage"] = "usage"


@_frozen
class PhaseChanged:
    """Plan-execute moved from one phase to the next."""

    phase: str
    previous: str | None
    type: Literal["phase_changed"] = "phase_changed"


@_frozen
class PhaseViolation:
    """The model called a tool that its current phase forbids; the call was refused."""

    phase: str
    tool: str
    allowed: list[str]
    type: Literal["phase_violation"] = "phase_violation"


@_frozen
class BoardStarted:
    """A board meeting began."""

    team_id: str
    topic: str
    experts: list[dict[str, Any]]
    max_rounds: int
    type: Literal["board_started"] = "board_started"


@_frozen
class ExpertSpeechChunk:
    """Part of an expert's speech while it streams."""

    content: str
    expert_name: str
    round: int
    type: Literal["expert_speech_chunk"] = "expert_speech_chunk"


@_frozen
class ExpertSpeech:
    """An expert's whole speech in a round."""

    content: str
    expert_name: str
    expert_avatar: str
    expert_color: str
    round: int
    role: str
    type: Literal["expert_speech"] = "expert_speech"


@_frozen
class RoundSummary:
    """The moderator's summary that closes a round."""

    content: str
    moderator_name: str
    moderator_avatar: str
    moderator_color: str
    round: int
    consensus_reached: bool = False
    type: Literal["round_summary"] = "round_summary"


@_frozen
class UserIntervention:
    """A user message read by the board during a meeting."""

    content: str
    type: Literal["user_intervention"] = "user_intervention"


@_frozen
class BoardConcluded:
    """The meeting's structured conclusion."""

    summary: str
    decision_advice: str
    total_rounds: int
    consensus_points: list[str]
    dissent_points: list[str]
    type: Literal["board_concluded"] = "board_concluded"


@_frozen
class TeamFormed:
    """A team was formed and its plan made."""

    team_id: str
    status: str
    experts: list[dict[str, Any]]
    plan_phases: list[dict[str, Any]]
    lead_expert: str
    type: Literal["team_formed"] = "team_formed"


@_frozen
class PlanUpdate:
    """The plan's phases changed (planned, replanned, or a status moved)."""

    plan_phases: list[dict[str, Any]]
    type: Literal["plan_update"] = "plan_update"


@_frozen
class PlanStep:
    """A note from the lead while planning."""

    content: str
    type: Literal["plan_step"] = "plan_step"


@_frozen
class PhaseStarted:
    """A phase began."""

    phase_id: str
    name: str
    expert_name: str
    interventions: list[str] = field(default_factory=list)
    type: Literal["phase_started"] = "phase_started"


@_frozen
class PhaseCompleted:
    """A phase finished with a result."""

    phase_id: str
    name: str
    expert_name: str
    result: str
    duration_s: float
    type: Literal["phase_completed"] = "phase_completed"


@_frozen
class PhaseFailed:
    """A phase failed."""

    phase_id: str
    name: str
    expert_name: str
    error: str
    type: Literal["phase_failed"] = "phase_failed"


@_frozen
class Replanning:
    """The lead is replanning after a failed phase."""

    reason: str
    type: Literal["replanning"] = "replanning"


@_frozen
class ExpertStep:
    """A member expert's intermediate step."""

    expert_id: str
    expert_name: str
    expert_color: str
    content: str
    step: int
    type: Literal["expert_step"] = "expert_step"


@_frozen
class ExpertResultChunk:
    """Part of a member's phase result while it streams."""

    phase_id: str
    expert_name: str
    content: str
    type: Literal["expert_result_chunk"] = "expert_result_chunk"


@_frozen
class ExpertResultChunkReset:
    """Discard the streamed chunks of a phase (it is being retried)."""

    phase_id: str
    type: Literal["expert_result_chunk_reset"] = "expert_result_chunk_reset"


@_frozen
class ExpertResult:
    """A member's whole phase result."""

    phase_id: str
    expert_name: str
    content: str
    type: Literal["expert_result"] = "expert_result"


@_frozen
class CollaborationContractDefined:
    """The team agreed how the members hand work to each other."""

    content: str
    type: Literal["collaboration_contract_defined"] = "collaboration_contract_defined"


@_frozen
class CollaborationNotice:
    """A notice to the team (for example a resumed run)."""

    content: str
    type: Literal["collaboration_notice"] = "collaboration_notice"


@_frozen
class ReviewResult:
    """A reviewer's verdict on a phase."""

    phase_id: str
    expert_name: str
    verdict: str
    content: str
    type: Literal["review_result"] = "review_result"


@_frozen
class RiskFlagged:
    """A reviewer flagged a risk."""

    phase_id: str
    expert_name: str
    risk: str
    type: Literal["risk_flagged"] = "risk_flagged"


@_frozen
class TeamSynthesisChunk:
    """Part of the lead's synthesis while it streams."""

    content: str
    type: Literal["team_synthesis_chunk"] = "team_synthesis_chunk"


@_frozen
class TeamSynthesis:
    """The lead's whole synthesis (the team's final result)."""

    content: str
    type: Literal["team_synthesis"] = "team_synthesis"


@_frozen
class TeamInterventionAck:
    """A user message reached a running team and will be read by the next phase."""

    content: str
    type: Literal["team_intervention_ack"] = "team_intervention_ack"


@_frozen
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
