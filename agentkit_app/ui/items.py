"""The conversation's render-ready items (shared fields, and a part per kind of card) and how their text is formatted."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from agentkit_app.store.records import MessageType, UsageFields

# moving between plan-execute phases shows in the answer's phase strip, not as a tool card
QUIET_TOOLS = {"advance_phase"}


@dataclass
class StepItem:
    """A step card inside an assistant turn: a tool call with its result, or thinking text."""

    kind: str = "tool"
    tool: str = ""
    arguments: str = ""
    result: str = ""
    duration: str = ""
    status: str = "running"


@dataclass
class PhaseItem:
    """One row of a team's phase timeline."""

    phase_id: str = ""
    name: str = ""
    expert: str = ""
    avatar: str = ""
    color: str = "#64748b"
    depends_on: str = ""
    status: str = "waiting"
    duration: str = ""
    result: str = ""
    interventions: list[str] = field(default_factory=list)
    activity: str = ""


@dataclass
class AnswerPart:
    """What an assistant answer shows beside its text: its steps, the skill it used, its plan-execute phases."""

    steps: list[StepItem] = field(default_factory=list)
    skill: str = ""
    # plan-execute: the phases this answer went through, and the one it is in
    mode_phases: list[str] = field(default_factory=list)
    mode_phase: str = ""


@dataclass
class VersionsPart:
    """Which of its versions (edits, regenerations) a message is: "2 / 3" and the ids left and right of it."""

    label: str = ""
    prev: str = ""
    next: str = ""


@dataclass
class SpeakerPart:
    """Who speaks in a board speech or round summary."""

    name: str = ""
    avatar: str = ""
    color: str = "#64748b"
    role: str = ""


@dataclass
class MeetingPart:
    """A board meeting's header: who takes part, and the round dividers and conclusion to jump to."""

    participants: list[dict[str, str]] = field(default_factory=list)
    anchors: list[str] = field(default_factory=list)
    conclusion: str = ""  # the conclusion's anchor, once the meeting has concluded


@dataclass
class VerdictPart:
    """A board meeting's conclusion beside its summary: the advice, what the experts agree and disagree on."""

    advice: str = ""
    consensus: list[str] = field(default_factory=list)
    dissent: list[str] = field(default_factory=list)
    anchor: str = ""  # where the meeting's jump list scrolls to (its card's id is the stored message's)


@dataclass
class TeamPart:
    """A team run's card: which run it is, its phase timeline and the notices of the run."""

    team_id: str = ""
    phases: list[PhaseItem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class ChatItem:
    """One thing shown in the conversation: a bubble, a speech card, a summary, a conclusion, a timeline.

    The fields every kind may show are on the item; what only some kinds show is in a part of its
    own, read by the components of those kinds only.
    """

    id: str = ""
    kind: str = "assistant"
    content: str = ""
    agent: str = ""
    time: str = ""
    streaming: bool = False
    cancelled: bool = False
    interrupted: bool = False  # an answer whose server stopped while it streamed: what had come is kept
    usage: str = ""  # under an answer, a conclusion or a synthesis
    copy_text: str = ""  # what ⧉ copies from a conclusion or synthesis card: the run's final answer
    round: int = 0  # a board item's round; the meeting's round count on its start and conclusion
    board: str = (
        ""  # a board item's meeting: the id of its header (what the meeting's jump list and filter name)
    )
    attachments: list[str] = field(default_factory=list)  # the files sent with a user message
    rateable: bool = False  # a stored answer, speech, summary, conclusion or synthesis: thumbs up or down
    versions: VersionsPart = field(default_factory=VersionsPart)
    answer: AnswerPart = field(default_factory=AnswerPart)
    speaker: SpeakerPart = field(default_factory=SpeakerPart)
    meeting: MeetingPart = field(default_factory=MeetingPart)
    verdict: VerdictPart = field(default_factory=VerdictPart)
    team: TeamPart = field(default_factory=TeamPart)


def clock(value: datetime | str | None = None) -> str:
    """Return the instant an item was written (now by default) in ISO 8601, UTC, or "" for a bad value.

    The page shows it in the reader's own time zone (see ``components.local_time``).
    """
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return ""
    moment = value or datetime.now(UTC)
    if moment.tzinfo is None:  # stored without a zone: written in UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def usage_line(figures: UsageFields) -> str:
    """Return the discreet usage figure shown under an answer."""
    usage = figures.usage
    if usage is None:
        return ""
    parts = [figures.model or ""]
    parts.append(f"{usage.prompt_tokens}↑ {usage.completion_tokens}↓")
    if usage.first_token_s is not None:
        parts.append(f"TTFT {usage.first_token_s:.2f}s")
    parts.append(f"{usage.total_s:.2f}s")
    if figures.tier and figures.tier != "main":
        parts.append(figures.tier)
    return " · ".join(p for p in parts if p)


def run_answer_card(kind: MessageType) -> str:
    """Return the kind of card whose text a board's or team's answer is: its conclusion or its synthesis."""
    return "conclusion" if kind == MessageType.BOARD_FINAL else "synthesis"


def pretty_arguments(arguments: Any) -> str:
    try:
        value = json.loads(arguments) if isinstance(arguments, str) else arguments
        return json.dumps(value, ensure_ascii=False)
    except ValueError:
        return str(arguments)
