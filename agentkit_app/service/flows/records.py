"""How board and team runs are stored: their agent names, their events as messages, their final answer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agentkit_app.engine import events as ev
from agentkit_app.store.records import (
    STORED_EVENT_TYPES,
    BoardConclusion,
    BoardSpeech,
    BoardStart,
    BoardSummary,
    EventRecord,
    RunAnswer,
    RunAnswerType,
    TeamFormedRecord,
    TeamNotice,
    TeamPhase,
    TeamPlan,
    TeamResult,
    TeamSynthesisRecord,
    UsageFields,
    dump_record,
)

if TYPE_CHECKING:
    from agentkit_app.service.flows.context import Recorder
    from agentkit_app.service.flows.usage import UsageCounter

BOARD_AGENT = "board_meeting"
TEAM_AGENT = "team_collab"


def event_record(event: ev.Event, figures: UsageFields | None = None) -> tuple[str, EventRecord] | None:
    """Return the content and the record a board or team event is stored as, or None if not stored.

    ``figures`` is the usage of the whole run, kept by the event that closes it (conclusion, synthesis).
    """
    if event.type not in STORED_EVENT_TYPES:
        return None
    payload = ev.to_wire(event)["data"]
    stored = {"event_type": event.type, "payload": payload}
    usage = dict(figures or {})
    content = str(
        payload.get("content")
        or payload.get("summary")
        or payload.get("topic")
        or payload.get("result")
        or ""
    )
    record: EventRecord
    if isinstance(event, ev.BoardStarted):
        record = BoardStart(**stored)
    elif isinstance(event, ev.ExpertSpeech):
        record = BoardSpeech(
            **stored,
            expert_name=event.expert_name,
            expert_avatar=event.expert_avatar,
            expert_color=event.expert_color,
            board_round=event.round,
            board_role=event.role,
        )
    elif isinstance(event, ev.RoundSummary):
        record = BoardSummary(
            **stored,
            expert_name=event.moderator_name,
            expert_avatar=event.moderator_avatar,
            expert_color=event.moderator_color,
            board_round=event.round,
            board_role="moderator",
        )
    elif isinstance(event, ev.BoardConcluded):
        record = BoardConclusion(**stored, board_round=event.total_rounds, **usage)
    elif isinstance(event, ev.PhaseStarted | ev.PhaseCompleted | ev.PhaseFailed):
        record = TeamPhase(
            **stored, phase_id=event.phase_id, expert_name=event.expert_name, phase_status=event.type
        )
        content = content or event.name
    elif isinstance(event, ev.TeamFormed):
        record = TeamFormedRecord(**stored)
        content = f"{event.lead_expert}: " + ", ".join(p.get("name", "") for p in event.plan_phases)
    elif isinstance(event, ev.PlanUpdate):
        record = TeamPlan(**stored)
    elif isinstance(event, ev.ReviewResult | ev.RiskFlagged):
        record = TeamResult(**stored)
    elif isinstance(event, ev.TeamSynthesis):
        record = TeamSynthesisRecord(**stored, **usage)
    else:
        record = TeamNotice(**stored)
    return content, record


def event_message(event: ev.Event) -> tuple[str, dict[str, Any]] | None:
    """Return the stored form (content, metadata) of a board or team event, or None if not stored."""
    stored = event_record(event)
    return None if stored is None else (stored[0], dump_record(stored[1]))


async def store_event(
    recorder: Recorder, event: ev.Event, agent_name: str, figures: UsageFields | None = None
) -> None:
    """Store a board or team event as the run's message, if it is one that is stored."""
    stored = event_record(event, figures)
    if stored is not None:
        content, record = stored
        await recorder.persist(record, content, agent_name)


async def final_answer(
    recorder: Recorder, agent: str, kind: RunAnswerType, answer: str, counter: UsageCounter
) -> None:
    """Store a board's or team's answer with the whole run's usage, and publish it as the final answer."""
    record = RunAnswer(message_type=kind, agent_name=agent, **dict(counter.figures()))
    stored = await recorder.persist(record, answer, agent)
    message_id = stored.message_id if stored else None
    recorder.publish(
        ev.FinalAnswer(content=answer, metadata={**dump_record(record), "message_id": message_id})
    )
