"""A session as a file: Markdown to read, JSON to process, with board and team structure kept.

Chat turns export as a list of messages; a board meeting as its topic, experts, rounds
(speeches and the moderator's summary) and conclusion; a team run as its plan, phases
(expert, status, result) and synthesis. Both formats come from :func:`session_document`.
"""

from __future__ import annotations

import json
import re
from typing import Any

from agentkit_app.store.models import MessagePublic, SessionPublic

FORMATS = {"md": "text/markdown; charset=utf-8", "json": "application/json"}
_HIDDEN = {"board_final", "team_final", "board_started", "board_conclusion", "team_formed", "team_plan", "team_phase",
           "team_result", "team_synthesis", "team_notice", "board_speech", "board_summary"}  # fmt: skip


def _board(messages: list[MessagePublic]) -> dict[str, Any] | None:
    start = next((m for m in messages if m.metadata.get("message_type") == "board_started"), None)
    if start is None:
        return None
    payload = start.metadata.get("payload", {})
    rounds: dict[int, dict[str, Any]] = {}
    conclusion: dict[str, Any] | None = None
    interventions: list[str] = []
    for m in messages:
        kind = m.metadata.get("message_type")
        number = int(m.metadata.get("board_round") or 0)
        if kind in ("board_speech", "board_summary"):
            held = rounds.setdefault(number, {"round": number, "speeches": [], "summary": None})
            if kind == "board_summary":
                held["summary"] = m.content
            else:
                held["speeches"].append(
                    {
                        "expert": m.metadata.get("expert_name"),
                        "role": m.metadata.get("board_role"),
                        "content": m.content,
                    }
                )
        elif kind == "board_conclusion":
            conclusion = dict(m.metadata.get("payload", {}))
            conclusion.pop("type", None)
        elif kind == "intervention":
            interventions.append(m.content)
    return {
        "topic": payload.get("topic", ""),
        "experts": [
            {"name": e.get("name"), "role": e.get("role"), "is_moderator": e.get("is_moderator", False)}
            for e in payload.get("experts", [])
        ],  # fmt: skip
        "max_rounds": payload.get("max_rounds"),
        "rounds": [rounds[k] for k in sorted(rounds)],
        "interventions": interventions,
        "conclusion": conclusion,
    }


def _planned_phase(plan: dict[str, Any]) -> dict[str, Any]:
    """Return a phase of the plan as exported, before anything ran."""
    return {"id": plan["id"], "name": plan.get("name"), "expert": plan.get("expert"),
            "depends_on": plan.get("depends_on", []), "status": "pending", "result": None, "duration_s": None}  # fmt: skip


def _team(messages: list[MessagePublic]) -> dict[str, Any] | None:
    formed = next((m for m in messages if m.metadata.get("message_type") == "team_formed"), None)
    if formed is None:
        return None
    payload = formed.metadata.get("payload", {})
    phases = {p["id"]: _planned_phase(p) for p in payload.get("plan_phases", [])}
    synthesis = None
    for m in messages:
        kind, data = m.metadata.get("message_type"), m.metadata.get("payload", {})
        if kind == "team_plan":
            for p in data.get("plan_phases", []):
                phases.setdefault(p["id"], _planned_phase(p))
        elif kind == "team_phase" and data.get("phase_id") in phases:
            phase = phases[data["phase_id"]]
            event = str(m.metadata.get("event_type") or "")
            phase["status"] = {"phase_started": "running", "phase_completed": "completed"}.get(
                event, "failed"
            )
            if event == "phase_completed":
                phase["result"], phase["duration_s"] = data.get("result"), data.get("duration_s")
            elif event == "phase_failed":
                phase["result"] = data.get("error")
        elif kind == "team_synthesis":
            synthesis = m.content
    return {"lead": payload.get("lead_expert"), "experts": [e.get("name") for e in payload.get("experts", [])],
            "phases": list(phases.values()), "synthesis": synthesis}  # fmt: skip


def session_document(session: SessionPublic, messages: list[MessagePublic]) -> dict[str, Any]:
    """Return the session as one JSON-able document: metadata, messages and any board/team structure."""
    return {
        "session": {
            "session_id": session.session_id,
            "title": session.title,
            "agent_name": session.agent_name,
            "kind": session.kind,
            "status": session.status,
            "created_at": session.created_at.isoformat(),
        },
        "messages": [
            {
                "message_id": m.message_id,
                "role": m.role,
                "agent_name": m.agent_name,
                "content": m.content,
                "message_type": m.metadata.get("message_type", "chat"),
                "created_at": m.created_at.isoformat(),
            }
            for m in messages
        ],  # fmt: skip
        "board": _board(messages),
        "team": _team(messages),
    }


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
        if kind in _HIDDEN:
            continue
        if m["role"] == "user":
            lines += [
                f"**User:** {m['content']}"
                if kind != "intervention"
                else f"**User (stepped in):** {m['content']}",
                "",
            ]
        elif kind == "error":
            lines += [f"**Error:** {m['content']}", ""]
        else:
            lines += [f"**{m['agent_name'] or 'assistant'}:**", "", m["content"], ""]
    if board:
        lines += [f"## Board meeting: {board['topic']}", "",
                  "Experts: " + ", ".join(e["name"] for e in board["experts"] if e["name"]), ""]  # fmt: skip
        for r in board["rounds"]:
            lines += [f"### Round {r['round']}", ""]
            for s in r["speeches"]:
                lines += [f"**{s['expert']}** ({s['role']}):", "", _quote(s["content"]), ""]
            if r["summary"]:
                lines += ["**Moderator's summary:**", "", _quote(r["summary"]), ""]
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
    if team:
        lines += [f"## Team run (lead: {team['lead']})", ""]
        for p in team["phases"]:
            after = f" (after {', '.join(p['depends_on'])})" if p["depends_on"] else ""
            lines += [f"### {p['id']}. {p['name']} · {p['expert']} · {p['status']}{after}", ""]
            if p["result"]:
                lines += [p["result"], ""]
        if team["synthesis"]:
            lines += ["### Synthesis", "", team["synthesis"], ""]
    return "\n".join(lines).rstrip() + "\n"


def export_session(session: SessionPublic, messages: list[MessagePublic], fmt: str) -> tuple[str, str, str]:
    """Return (body, media type, file name) of a session exported as ``md`` or ``json``."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    doc = session_document(session, messages)
    body = to_markdown(doc) if fmt == "md" else json.dumps(doc, ensure_ascii=False, indent=2)
    stem = (
        re.sub(r"[^\w-]+", "-", session.title or session.agent_name, flags=re.UNICODE).strip("-")[:60]
        or "session"
    )
    return body, FORMATS[fmt], f"{stem}-{session.session_id[:8]}.{fmt}"
