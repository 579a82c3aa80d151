"""Typed records: every stored kind round-trips through the one adapter, and rows written before read back."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from agentkit_app.engine import events as ev
from agentkit_app.service.flows import event_message
from agentkit_app.store.records import (
    BILLED,
    NOT_FOR_MODEL,
    RUN_ANSWERS,
    STORED_EVENT_TYPES,
    STORED_EVENTS,
    BoardConclusion,
    BoardSpeech,
    BoardStart,
    BoardSummary,
    ChatAnswer,
    ErrorRecord,
    Intervention,
    MessageRole,
    MessageType,
    RunAnswer,
    RunRequest,
    TeamFormedRecord,
    TeamNotice,
    TeamPhase,
    TeamPlan,
    TeamResult,
    TeamSynthesisRecord,
    UnknownRecordKeys,
    UserTurn,
    dump_record,
    read_record,
    reject_unknown_keys,
)
from agentkit_app.store.sessions import SessionManager

USAGE = {"prompt_tokens": 120, "completion_tokens": 45, "first_token_s": None, "total_s": 3.5, "calls": 7}
RUN_USAGE = {"model": "offline-demo", "tier": "recovery", "fallback_status": "recovery", "usage": USAGE}
EXPERTS = [{"name": "Analyst", "avatar": "🔎", "color": "#0ea5e9", "role": "analysis", "is_moderator": False}]
PHASES = [{"id": "a", "name": "Build", "expert": "Analyst", "depends_on": [], "status": "pending"}]

# Metadata exactly as the code before typed records wrote it, one row per stored kind: (role, metadata, type).
ROWS_AS_WRITTEN: list[tuple[str, dict[str, Any], type]] = [
    ("user", {}, UserTurn),
    (
        "user",
        {
            "attachments": [{"filename": "a.txt", "stored_name": "0a.txt"}],
            "model": "m1",
            "skill": "translate",
            "execution_mode": "plan_exec",
        },
        UserTurn,
    ),
    (
        "assistant",
        {
            "agent_name": "assistant",
            "model": "m1",
            "model_label": "demo",
            "tier": "main",
            "fallback_status": "main",
            "usage": USAGE,
            "steps": [{"event_type": "tool_call", "step": 1, "tool": "calculator", "arguments": "{}"}],
            "skill": "translate",
            "execution_mode": "plan_exec",
            "phases": ["explore", "act"],
            "error_struct": {"code": "timeout"},
        },
        ChatAnswer,
    ),
    (
        "assistant",
        {
            "agent_name": "assistant",
            "model": "m1",
            "model_label": "demo",
            "tier": "main",
            "fallback_status": "main",
            "usage": USAGE,
            "steps": [],
            "cancelled": True,
        },
        ChatAnswer,
    ),
    ("user", {"message_type": "board_request"}, RunRequest),
    ("user", {"message_type": "team_request"}, RunRequest),
    ("user", {"message_type": "intervention"}, Intervention),
    ("assistant", {"message_type": "error"}, ErrorRecord),
    ("assistant", {"message_type": "board_final", "agent_name": "board_meeting", **RUN_USAGE}, RunAnswer),
    (
        "assistant",
        {
            "message_type": "team_final",
            "agent_name": "team_collab",
            **RUN_USAGE,
            "error_struct": {"code": "llm"},
        },
        RunAnswer,
    ),
    (
        "assistant",
        {
            "message_type": "board_started",
            "event_type": "board_started",
            "payload": {"team_id": "b1", "topic": "Which database?", "experts": EXPERTS, "max_rounds": 2},
        },
        BoardStart,
    ),
    (
        "assistant",
        {
            "message_type": "board_speech",
            "event_type": "expert_speech",
            "payload": {
                "content": "PostgreSQL",
                "expert_name": "Analyst",
                "expert_avatar": "🔎",
                "expert_color": "#0ea5e9",
                "round": 1,
                "role": "analysis",
            },
            "expert_name": "Analyst",
            "expert_avatar": "🔎",
            "expert_color": "#0ea5e9",
            "board_round": 1,
            "board_role": "analysis",
        },
        BoardSpeech,
    ),
    (
        "assistant",
        {
            "message_type": "board_summary",
            "event_type": "round_summary",
            "payload": {
                "content": "Agreed",
                "moderator_name": "Chair",
                "moderator_avatar": "⚖️",
                "moderator_color": "#6366f1",
                "round": 1,
                "consensus_reached": True,
            },
            "expert_name": "Chair",
            "expert_avatar": "⚖️",
            "expert_color": "#6366f1",
            "board_round": 1,
            "board_role": "moderator",
        },
        BoardSummary,
    ),
    (
        "assistant",
        {
            "message_type": "board_conclusion",
            "event_type": "board_concluded",
            "payload": {
                "summary": "Go",
                "decision_advice": "Ship it",
                "total_rounds": 1,
                "consensus_points": ["fast"],
                "dissent_points": [],
            },
            "board_round": 1,
            **RUN_USAGE,
        },
        BoardConclusion,
    ),
    (
        "assistant",
        {
            "message_type": "team_formed",
            "event_type": "team_formed",
            "payload": {
                "team_id": "t1",
                "status": "running",
                "experts": EXPERTS,
                "plan_phases": PHASES,
                "lead_expert": "Analyst",
            },
        },
        TeamFormedRecord,
    ),
    (
        "assistant",
        {"message_type": "team_plan", "event_type": "plan_update", "payload": {"plan_phases": PHASES}},
        TeamPlan,
    ),
    (
        "assistant",
        {
            "message_type": "team_phase",
            "event_type": "phase_completed",
            "payload": {
                "phase_id": "a",
                "name": "Build",
                "expert_name": "Analyst",
                "result": "done",
                "duration_s": 1.5,
            },
            "phase_id": "a",
            "expert_name": "Analyst",
            "phase_status": "phase_completed",
        },
        TeamPhase,
    ),
    (
        "assistant",
        {
            "message_type": "team_result",
            "event_type": "risk_flagged",
            "payload": {"phase_id": "a", "expert_name": "Analyst", "risk": "no tests"},
        },
        TeamResult,
    ),
    (
        "assistant",
        {
            "message_type": "team_synthesis",
            "event_type": "team_synthesis",
            "payload": {"content": "Shipped."},
            **RUN_USAGE,
        },
        TeamSynthesisRecord,
    ),
    (
        "assistant",
        {
            "message_type": "team_notice",
            "event_type": "collaboration_notice",
            "payload": {"content": "Resumed"},
        },
        TeamNotice,
    ),
]


def written(message_type: str) -> dict[str, Any]:
    """Return the metadata of the row of ``message_type`` as the earlier code wrote it."""
    return next(meta for _, meta, _ in ROWS_AS_WRITTEN if meta.get("message_type") == message_type)


def test_the_enum_names_every_kind_once_and_its_groups_derive_from_it():
    assert {t.value for t in MessageType} == {
        "chat",
        *(meta.get("message_type") or "chat" for _, meta, _ in ROWS_AS_WRITTEN),
    }
    assert STORED_EVENTS == set(STORED_EVENT_TYPES.values())
    assert NOT_FOR_MODEL == STORED_EVENTS | {MessageType.ERROR}
    assert BILLED == {MessageType.CHAT, *RUN_ANSWERS} and None not in BILLED
    assert "board_intervention" not in {t.value for t in MessageType}


@pytest.mark.parametrize(("role", "metadata", "kind"), ROWS_AS_WRITTEN)
def test_rows_as_written_read_back_typed_and_write_back_unchanged(
    role: str, metadata: dict[str, Any], kind: type
):
    record = read_record(role, metadata)
    assert type(record) is kind
    assert record.role == role
    assert dump_record(record) == metadata


@pytest.mark.parametrize(("role", "metadata", "kind"), ROWS_AS_WRITTEN)
def test_every_kind_round_trips_through_the_adapter(role: str, metadata: dict[str, Any], kind: type):
    record = read_record(role, metadata)
    assert read_record(record.role, dump_record(record)) == record


async def test_rows_stored_by_the_earlier_code_read_back_through_the_store(manager: SessionManager):
    sid = (await manager.create_session(agent_name="assistant")).session_id
    for role, metadata, _ in ROWS_AS_WRITTEN:
        await manager.append_message(session_id=sid, role=role, content="text", metadata=metadata)
    stored = await manager.get_messages(sid)
    assert [type(m.record) for m in stored] == [kind for _, _, kind in ROWS_AS_WRITTEN]
    assert [m.metadata for m in stored] == [meta for _, meta, _ in ROWS_AS_WRITTEN]


def test_a_stored_event_reads_back_as_the_engine_event():
    speech = ev.ExpertSpeech(content="PostgreSQL", expert_name="Analyst", expert_avatar="🔎",
                             expert_color="#0ea5e9", round=1, role="analysis")  # fmt: skip
    stored = event_message(speech)
    assert stored is not None
    content, metadata = stored
    record = read_record("assistant", metadata)
    assert content == "PostgreSQL" and isinstance(record, BoardSpeech) and record.event() == speech
    assert metadata == written("board_speech")
    assert BoardStart().event() is None  # an event kind stored without its payload holds no event


def test_writers_store_the_earlier_shape_for_every_stored_event():
    events: list[ev.Event] = [
        ev.BoardStarted(team_id="b1", topic="Which database?", experts=EXPERTS, max_rounds=2),
        ev.RoundSummary(content="Agreed", moderator_name="Chair", moderator_avatar="⚖️",
                        moderator_color="#6366f1", round=1, consensus_reached=True),
        ev.TeamFormed(team_id="t1", status="running", experts=EXPERTS, plan_phases=PHASES, lead_expert="Analyst"),
        ev.PlanUpdate(plan_phases=PHASES),
        ev.PhaseCompleted(phase_id="a", name="Build", expert_name="Analyst", result="done", duration_s=1.5),
        ev.RiskFlagged(phase_id="a", expert_name="Analyst", risk="no tests"),
        ev.CollaborationNotice(content="Resumed"),
    ]  # fmt: skip
    kinds = [
        "board_started",
        "board_summary",
        "team_formed",
        "team_plan",
        "team_phase",
        "team_result",
        "team_notice",
    ]
    expected = [written(kind) for kind in kinds]
    assert [event_message(e)[1] for e in events if event_message(e)] == expected  # type: ignore[index]
    assert event_message(ev.Token(content="x")) is None


def test_unknown_keys_are_kept_in_production_and_an_error_in_tests():
    metadata = {"message_type": "board_final", "agent_name": "board_meeting", "added_later": 1, **RUN_USAGE}
    with pytest.raises(UnknownRecordKeys, match="added_later"):
        read_record("assistant", metadata)
    with pytest.raises(UnknownRecordKeys, match=r"usage\.extra"):
        read_record("assistant", {"usage": {**USAGE, "extra": 1}})
    with pytest.raises(UnknownRecordKeys, match=r"payload\.mood"):
        read_record("assistant", {**written("team_notice"), "payload": {"content": "x", "mood": "good"}})
    with pytest.raises(ValidationError):
        read_record("assistant", {"message_type": "board_intervention"})
    reject_unknown_keys(False)
    try:
        record = read_record("assistant", metadata)
        assert isinstance(record, RunAnswer) and dump_record(record) == metadata
        unknown = read_record(MessageRole.ASSISTANT, {"message_type": "board_intervention"})
        assert isinstance(unknown, ChatAnswer)  # shown as a plain message rather than failing the page
    finally:
        reject_unknown_keys()
