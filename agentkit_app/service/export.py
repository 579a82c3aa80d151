"""A session as a file: Markdown to read, JSON to process, with board and team structure kept.

Chat turns export as a list of messages; a board meeting as its topic, experts, rounds
(speeches and the moderator's summary) and conclusion; a team run as its plan, phases
(expert, status, result) and synthesis. Readers' votes (thumbs up or down, with their comments)
go with the messages they rate. Both formats come from :func:`session_document`.
"""

from __future__ import annotations

import json
import re
from typing import Any

from agentkit_app.engine import events as ev
from agentkit_app.store.models import FeedbackPublic, MessagePublic, Rating, SessionPublic
from agentkit_app.store.records import (
    RUN_ANSWERS,
    STORED_EVENTS,
    AnyRecord,
    BoardConclusion,
    BoardSpeech,
    BoardStart,
    BoardSummary,
    Intervention,
    MessageRole,
    MessageType,
    TeamFormedRecord,
    TeamPhase,
    TeamPlan,
    TeamSynthesisRecord,
)

FORMATS = {"md": "text/markdown; charset=utf-8", "json": "application/json"}
# what the board and team sections tell: the messages of a run are not repeated in the conversation
_IN_RUN_SECTIONS = STORED_EVENTS | RUN_ANSWERS

Stored = list[tuple[MessagePublic, AnyRecord]]
# each message's votes, by message id
Votes = dict[str, list[dict[str, Any]]]
_THUMBS = {Rating.UP: "👍", Rating.DOWN: "👎"}


def _votes(feedback: dict[str, list[FeedbackPublic]] | None) -> Votes:
    """Return the votes as exported: rating, comment and when it was last changed."""
    return {
        message_id: [
            {"rating": v.rating.value, "comment": v.comment, "updated_at": v.updated_at.isoformat()}
            for v in votes
        ]
        for message_id, votes in (feedback or {}).items()
    }


def _board(stored: Stored, votes: Votes) -> dict[str, Any] | None:
    start = next((r for _, r in stored if isinstance(r, BoardStart)), None)
    if start is None:
        return None
    started = start.event()
    rounds: dict[int, dict[str, Any]] = {}
    conclusion: dict[str, Any] | None = None
    conclusion_feedback: list[dict[str, Any]] = []
    interventions: list[str] = []
    for m, record in stored:
        if isinstance(record, BoardSpeech | BoardSummary):
            number = record.board_round or 0
            held = rounds.setdefault(
                number, {"round": number, "speeches": [], "summary": None, "summary_feedback": []}
            )
            if isinstance(record, BoardSummary):
                held["summary"], held["summary_feedback"] = m.content, votes.get(m.message_id, [])
            else:
                held["speeches"].append(
                    {"message_id": m.message_id, "expert": record.expert_name, "role": record.board_role,
                     "content": m.content, "feedback": votes.get(m.message_id, [])}
                )  # fmt: skip
        elif isinstance(record, BoardConclusion):
            concluded = record.event()
            conclusion = ev.to_wire(concluded)["data"] if concluded is not None else {}
            conclusion_feedback = votes.get(m.message_id, [])
        elif isinstance(record, Intervention):
            interventions.append(m.content)
    board = started if isinstance(started, ev.BoardStarted) else None
    return {
        "topic": board.topic if board else "",
        "experts": [
            {"name": e.get("name"), "role": e.get("role"), "is_moderator": e.get("is_moderator", False)}
            for e in (board.experts if board else [])
        ],  # fmt: skip
        "max_rounds": board.max_rounds if board else None,
        "rounds": [rounds[k] for k in sorted(rounds)],
        "interventions": interventions,
        "conclusion": conclusion,
        "conclusion_feedback": conclusion_feedback,
    }


def _planned_phase(plan: dict[str, Any]) -> dict[str, Any]:
    """Return a phase of the plan as exported, before anything ran."""
    return {"id": plan["id"], "name": plan.get("name"), "expert": plan.get("expert"),
            "depends_on": plan.get("depends_on", []), "status": "pending", "result": None, "duration_s": None}  # fmt: skip


def _team(stored: Stored, votes: Votes) -> dict[str, Any] | None:
    formed_record = next((r for _, r in stored if isinstance(r, TeamFormedRecord)), None)
    if formed_record is None:
        return None
    event = formed_record.event()
    formed = event if isinstance(event, ev.TeamFormed) else None
    phases = {p["id"]: _planned_phase(p) for p in (formed.plan_phases if formed else [])}
    synthesis = None
    synthesis_feedback: list[dict[str, Any]] = []
    for m, record in stored:
        event = record.event() if isinstance(record, TeamPlan | TeamPhase) else None
        if isinstance(event, ev.PlanUpdate):
            for p in event.plan_phases:
                phases.setdefault(p["id"], _planned_phase(p))
        elif (
            isinstance(event, ev.PhaseStarted | ev.PhaseCompleted | ev.PhaseFailed)
            and event.phase_id in phases
        ):
            phase = phases[event.phase_id]
            if isinstance(event, ev.PhaseStarted):
                phase["status"] = "running"
            elif isinstance(event, ev.PhaseCompleted):
                phase["status"], phase["result"], phase["duration_s"] = (
                    "completed",
                    event.result,
                    event.duration_s,
                )
            else:
                phase["status"], phase["result"] = "failed", event.error
        elif isinstance(record, TeamSynthesisRecord):
            synthesis, synthesis_feedback = m.content, votes.get(m.message_id, [])
    return {"lead": formed.lead_expert if formed else None,
            "experts": [e.get("name") for e in (formed.experts if formed else [])],
            "phases": list(phases.values()), "synthesis": synthesis,
            "synthesis_feedback": synthesis_feedback}  # fmt: skip


def session_document(
    session: SessionPublic,
    messages: list[MessagePublic],
    feedback: dict[str, list[FeedbackPublic]] | None = None,
) -> dict[str, Any]:
    """Return the session as one JSON-able document: metadata, messages (with their votes) and any board/team structure."""
    stored = [(m, m.record) for m in messages]
    votes = _votes(feedback)
    return {
        "session": {
            "session_id": session.session_id,
            "title": session.title,
            "agent_name": session.agent_name,
            "kind": session.kind.value,
            "status": session.status.value,
            "created_at": session.created_at.isoformat(),
        },
        "messages": [
            {
                "message_id": m.message_id,
                "role": m.role.value,
                "agent_name": m.agent_name,
                "content": m.content,
                "message_type": record.message_type.value,
                "created_at": m.created_at.isoformat(),
                "feedback": votes.get(m.message_id, []),
            }
            for m, record in stored
        ],  # fmt: skip
        "board": _board(stored, votes),
        "team": _team(stored, votes),
    }


def _feedback_line(votes: list[dict[str, Any]]) -> list[str]:
    """Return the Markdown lines that tell a message's votes (none when nobody rated it)."""
    if not votes:
        return []
    told = [_THUMBS[Rating(v["rating"])] + (f" {v['comment']}" if v["comment"] else "") for v in votes]
    return ["*Feedback: " + " · ".join(told) + "*", ""]


def _quote(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in text.splitlines())


def to_markdown(doc: dict[str, Any]) -> str:
    """Render an exported session as Markdown."""
    session = doc["session"]
    lines = [f"# {session['title'] or session['agent_name']}", "",
             f"*{session['agent_name']} · {session['created_at'][:16].replace('T', ' ')} UTC*", ""]  # fmt: skip
    board, team = doc["board"], doc["team"]
    for m in doc["messages"]:
        kind = m["message_type"]
        if kind in _IN_RUN_SECTIONS:
            continue
        if m["role"] == MessageRole.USER:
            lines += [
                f"**User:** {m['content']}"
                if kind != MessageType.INTERVENTION
                else f"**User (stepped in):** {m['content']}",
                "",
            ]
        elif kind == MessageType.ERROR:
            lines += [f"**Error:** {m['content']}", ""]
        else:
            lines += [f"**{m['agent_name'] or 'assistant'}:**", "", m["content"], ""]
            lines += _feedback_line(m["feedback"])
    if board:
        lines += [f"## Board meeting: {board['topic']}", "",
                  "Experts: " + ", ".join(e["name"] for e in board["experts"] if e["name"]), ""]  # fmt: skip
        for r in board["rounds"]:
            lines += [f"### Round {r['round']}", ""]
            for s in r["speeches"]:
                lines += [f"**{s['expert']}** ({s['role']}):", "", _quote(s["content"]), ""]
                lines += _feedback_line(s["feedback"])
            if r["summary"]:
                lines += ["**Moderator's summary:**", "", _quote(r["summary"]), ""]
                lines += _feedback_line(r["summary_feedback"])
        if board["conclusion"]:
            c = board["conclusion"]
            lines += [
                "### Conclusion",
                "",
                c.get("summary", ""),
                "",
                "**Decision advice:** " + c.get("decision_advice", ""),
                "",
            ]
            lines += ["**Consensus:**", *[f"- {p}" for p in c.get("consensus_points", [])], ""]
            lines += ["**Dissent:**", *[f"- {p}" for p in c.get("dissent_points", [])], ""]
            lines += _feedback_line(board["conclusion_feedback"])
    if team:
        lines += [f"## Team run (lead: {team['lead']})", ""]
        for p in team["phases"]:
            after = f" (after {', '.join(p['depends_on'])})" if p["depends_on"] else ""
            lines += [f"### {p['id']}. {p['name']} · {p['expert']} · {p['status']}{after}", ""]
            if p["result"]:
                lines += [p["result"], ""]
        if team["synthesis"]:
            lines += ["### Synthesis", "", team["synthesis"], ""]
            lines += _feedback_line(team["synthesis_feedback"])
    return "\n".join(lines).rstrip() + "\n"


def export_session(
    session: SessionPublic,
    messages: list[MessagePublic],
    fmt: str,
    feedback: dict[str, list[FeedbackPublic]] | None = None,
) -> tuple[str, str, str]:
    """Return (body, media type, file name) of a session exported as ``md`` or ``json``, with ``feedback`` (votes by message id)."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    doc = session_document(session, messages, feedback)
    body = to_markdown(doc) if fmt == "md" else json.dumps(doc, ensure_ascii=False, indent=2)
    stem = (
        re.sub(r"[^\w-]+", "-", session.title or session.agent_name, flags=re.UNICODE).strip("-")[:60]
        or "session"
    )
    return body, FORMATS[fmt], f"{stem}-{session.session_id[:8]}.{fmt}"
