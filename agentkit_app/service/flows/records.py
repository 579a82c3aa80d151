"""How board and team runs are stored: their agent names, their events as messages, their final answer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agentkit_app.engine import events as ev

if TYPE_CHECKING:
    from agentkit_app.service.flows.context import Recorder
    from agentkit_app.service.flows.usage import UsageCounter

BOARD_AGENT = "board_meeting"
TEAM_AGENT = "team_collab"

_BOARD_TYPES = {
    "board_started": "board_started",
    "expert_speech": "board_speech",
    "round_summary": "board_summary",
    "board_concluded": "board_conclusion",
}
_TEAM_TYPES = {
    "team_formed": "team_formed",
    "plan_update": "team_plan",
    "phase_started": "team_phase",
    "phase_completed": "team_phase",
    "phase_failed": "team_phase",
    "review_result": "team_result",
    "risk_flagged": "team_result",
    "team_synthesis": "team_synthesis",
    "plan_step": "team_notice",
    "collaboration_notice": "team_notice",
}


def event_message(event: ev.Event) -> tuple[str, dict[str, Any]] | None:
    """Return the stored form (content, metadata) of a board or team event, or None if not stored."""
    kind = _BOARD_TYPES.get(event.type) or _TEAM_TYPES.get(event.type)
    if kind is None:
        return None
    payload = ev.to_wire(event)["data"]
    meta: dict[str, Any] = {"message_type": kind, "event_type": event.type, "payload": payload}
    content = str(
        payload.get("content")
        or payload.get("summary")
        or payload.get("topic")
        or payload.get("result")
        or ""
    )
    if isinstance(event, ev.ExpertSpeech):
        meta.update(
            expert_name=event.expert_name,
            expert_avatar=event.expert_avatar,
            expert_color=event.expert_color,
            board_round=event.round,
            board_role=event.role,
        )
    elif isinstance(event, ev.RoundSummary):
        meta.update(
            expert_name=event.moderator_name,
            expert_avatar=event.moderator_avatar,
            expert_color=event.moderator_color,
            board_round=event.round,
            board_role="moderator",
        )
    elif isinstance(event, ev.BoardConcluded):
        meta["board_round"] = event.total_rounds
    elif isinstance(event, ev.PhaseStarted | ev.PhaseCompleted | ev.PhaseFailed):
        meta.update(phase_id=event.phase_id, expert_name=event.expert_name, phase_status=event.type)
        content = content or event.name
    elif isinstance(event, ev.TeamFormed):
        content = f"{event.lead_expert}: " + ", ".join(p.get("name", "") for p in event.plan_phases)
    return content, meta


async def store_event(
    recorder: Recorder, event: ev.Event, agent_name: str, extra: dict[str, Any] | None = None
) -> None:
    """Store a board or team event as the run's message, if it is one that is stored."""
    stored = event_message(event)
    if stored is not None:
        content, meta = stored
        meta.update(extra or {})
        await recorder.persist(role="assistant", content=content, agent_name=agent_name, metadata=meta)


async def final_answer(
    recorder: Recorder, agent: str, message_type: str, answer: str, counter: UsageCounter
) -> None:
    """Store a board's or team's answer with the whole run's usage, and publish it as the final answer."""
    meta = {"message_type": message_type, "agent_name": agent, **counter.metadata()}
    stored = await recorder.persist(role="assistant", content=answer, agent_name=agent, metadata=meta)
    recorder.publish(
        ev.FinalAnswer(content=answer, metadata={**meta, "message_id": stored.message_id if stored else None})
    )
