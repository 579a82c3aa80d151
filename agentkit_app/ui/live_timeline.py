"""The conversation's items as a live run changes them: one handler per engine event."""

from __future__ import annotations

from typing import Any

from agentkit_app.engine import events as ev
from agentkit_app.store.records import RUN_ANSWERS, MessageType, UsageFields
from agentkit_app.ui.items import (
    QUIET_TOOLS,
    ChatItem,
    MeetingPart,
    PhaseItem,
    SpeakerPart,
    StepItem,
    TeamPart,
    VerdictPart,
    clock,
    pretty_arguments,
    run_answer_card,
    usage_line,
)

# the engine's plan statuses, as the timeline names them
_PHASE_STATUS = {"pending": "waiting", "running": "running", "completed": "done", "failed": "failed"}


def _phase_rows(phases: list[dict[str, Any]], experts: dict[str, dict[str, Any]]) -> list[PhaseItem]:
    rows = []
    for phase in phases:
        expert = experts.get(str(phase.get("expert", "")), {})
        rows.append(
            PhaseItem(
                phase_id=str(phase.get("id", "")),
                name=str(phase.get("name", "")),
                expert=str(phase.get("expert", "")),
                avatar=str(expert.get("avatar", "👤")),
                color=str(expert.get("color", "#64748b")),
                depends_on=", ".join(phase.get("depends_on") or []),
                status=_PHASE_STATUS.get(str(phase.get("status") or ""), "waiting"),
                result=str(phase.get("result") or ""),
            )
        )
    return rows


def round_anchor(board: str, number: int) -> str:
    """Return the id of a board meeting's round divider: where its jump list scrolls to."""
    return f"{board}-round-{number}"


def conclusion_anchor(board: str) -> str:
    """Return the id of the mark at a board meeting's conclusion: where its jump list scrolls to."""
    return f"{board}-conclusion"


class Timeline:
    """Builds and updates the items of one conversation."""

    def __init__(self, items: list[ChatItem] | None = None) -> None:
        self.items: list[ChatItem] = items or []
        self._experts: dict[str, dict[str, Any]] = {}
        self._counter = 0
        self._boards = sum(1 for i in self.items if i.kind == "board_start")
        self._round = 0
        self._notes: list[str] = []  # team notes that came before their team card

    def _new(self, **fields: Any) -> ChatItem:
        self._counter += 1
        item = ChatItem(
            id=fields.pop("id", f"live-{self._counter}"), time=fields.pop("time", clock()), **fields
        )
        self.items.append(item)
        return item

    def last_of(self, kind: str) -> ChatItem | None:
        """Return the last item of ``kind``, or None."""
        return next((i for i in reversed(self.items) if i.kind == kind), None)

    def _open_answer(self, agent: str = "") -> ChatItem:
        last = self.items[-1] if self.items else None
        if last is not None and last.kind == "assistant" and last.streaming:
            return last
        return self._new(kind="assistant", streaming=True, agent=agent)

    def _team(self) -> ChatItem | None:
        return self.last_of("team")

    def _phase(self, phase_id: str) -> PhaseItem | None:
        team = self._team()
        return next((p for p in team.team.phases if p.phase_id == phase_id), None) if team else None

    def add_user(self, content: str, attachments: list[str] | None = None, item_id: str = "") -> None:
        """Show the user's message at once (before the server confirms it)."""
        self._new(
            kind="user",
            content=content,
            attachments=attachments or [],
            **({"id": item_id} if item_id else {}),
        )

    def apply(self, event: ev.Event, agent: str = "") -> None:
        """Update the items for one live event."""
        handler = getattr(self, f"_on_{event.type}", None)
        if handler is not None:
            handler(event, agent)

    def _on_token(self, event: ev.Token, agent: str) -> None:
        self._open_answer(agent).content += event.content

    def _on_thinking(self, event: ev.Thinking, agent: str) -> None:
        answer = self._open_answer(agent)
        if answer.content and answer.content.strip() == event.content.strip():
            answer.content = ""
        answer.answer.steps.append(StepItem(kind="thinking", result=event.content, status="done"))

    def _on_skill_match(self, event: ev.SkillMatch, agent: str) -> None:
        self._open_answer(agent).answer.skill = event.skill

    def _on_step(self, event: ev.Step, agent: str) -> None:
        if event.data.get("tool") in QUIET_TOOLS:
            return
        answer = self._open_answer(agent)
        if event.event_type == "tool_call":
            answer.answer.steps.append(
                StepItem(
                    tool=str(event.data.get("tool", "")),
                    arguments=pretty_arguments(event.data.get("arguments")),
                )
            )
        elif event.event_type == "tool_result":
            card = next((s for s in reversed(answer.answer.steps) if s.kind == "tool"), None)
            if card is not None:
                card.result = str(event.data.get("result", ""))
                card.duration = f"{float(event.data.get('duration_s') or 0):.2f}s"
                card.status = "done"

    def _on_phase_changed(self, event: ev.PhaseChanged, agent: str) -> None:
        part = self._open_answer(agent).answer
        if event.phase not in part.mode_phases:
            part.mode_phases.append(event.phase)
        part.mode_phase = event.phase

    def _on_phase_violation(self, event: ev.PhaseViolation, agent: str) -> None:
        allowed = ", ".join(event.allowed) or "-"
        self._open_answer(agent).answer.steps.append(
            StepItem(
                kind="tool",
                tool=event.tool,
                result=f"refused in phase {event.phase} (allowed: {allowed})",
                status="denied",
            )
        )

    def _on_confirmation_result(self, event: ev.ConfirmationResult, agent: str) -> None:
        answer = self._open_answer(agent)
        card = next((s for s in reversed(answer.answer.steps) if s.kind == "tool"), None)
        if card is not None:
            card.status = "approved" if event.approved else "denied"

    def _on_final_answer(self, event: ev.FinalAnswer, agent: str) -> None:
        figures = UsageFields.model_validate(event.metadata)
        final = MessageType(event.metadata.get("message_type") or MessageType.CHAT)
        if final in RUN_ANSWERS:
            # the answer itself is already on screen as the conclusion or synthesis; it brings the run's usage
            card = self.last_of(run_answer_card(final))
            if card is not None:
                card.usage = usage_line(figures)
                card.copy_text = event.content
            return
        answer = self._open_answer(str(event.metadata.get("agent_name") or agent))
        answer.content = event.content
        answer.streaming = False
        answer.usage = usage_line(figures)
        if event.metadata.get("message_id"):  # stored: it can be rated
            answer.id, answer.rateable = str(event.metadata["message_id"]), True

    def _on_error(self, event: ev.Error, agent: str) -> None:
        last = self.items[-1] if self.items else None
        if last is not None and last.kind == "assistant" and last.streaming and not last.content:
            self.items.pop()
        self._new(kind="error", content=event.message)

    def _on_result(self, event: ev.Result, agent: str) -> None:
        if event.status == "cancelled":
            for item in self.items:
                if item.streaming:
                    item.streaming = False
                    item.cancelled = True

    def _on_board_started(self, event: ev.BoardStarted, agent: str) -> None:
        self._experts = {e["name"]: e for e in event.experts}
        self._boards += 1
        self._round = 0
        self._new(
            kind="board_start",
            id=self._board(),
            board=self._board(),
            content=event.topic,
            round=event.max_rounds,
            meeting=MeetingPart(
                participants=[
                    {k: str(e.get(k, "")) for k in ("name", "avatar", "color", "role")} for e in event.experts
                ],
                anchors=[round_anchor(self._board(), n) for n in range(1, event.max_rounds + 1)],
            ),
        )

    def _board(self) -> str:
        """Return the id of the board meeting under way (its header's)."""
        return f"board-{self._boards}"

    def _enter_round(self, number: int) -> None:
        """Add a round divider (a jump target) when the discussion reaches a new round."""
        if number != self._round:
            self._round = number
            self._new(kind="round", round=number, id=round_anchor(self._board(), number), board=self._board())

    def _on_expert_speech_chunk(self, event: ev.ExpertSpeechChunk, agent: str) -> None:
        self._enter_round(event.round)
        last = self.last_of("speech")
        if last is None or not last.streaming or last.speaker.name != event.expert_name:
            expert = self._experts.get(event.expert_name, {})
            last = self._new(
                kind="speech",
                streaming=True,
                speaker=SpeakerPart(
                    name=event.expert_name,
                    avatar=str(expert.get("avatar", "👤")),
                    color=str(expert.get("color", "#64748b")),
                    role=str(expert.get("role", "")),
                ),
                round=event.round,
                board=self._board(),
            )
        last.content += event.content

    def _on_expert_speech(self, event: ev.ExpertSpeech, agent: str) -> None:
        self._enter_round(event.round)
        last = self.last_of("speech")
        if last is None or not last.streaming or last.speaker.name != event.expert_name:
            last = self._new(kind="speech", board=self._board())
        last.streaming = False
        last.content, last.round = event.content, event.round
        last.speaker = SpeakerPart(
            name=event.expert_name, avatar=event.expert_avatar, color=event.expert_color, role=event.role
        )

    def _on_round_summary(self, event: ev.RoundSummary, agent: str) -> None:
        self._new(
            kind="summary",
            content=event.content,
            speaker=SpeakerPart(
                name=event.moderator_name, avatar=event.moderator_avatar, color=event.moderator_color
            ),
            round=event.round,
            board=self._board(),
        )

    def _on_user_intervention(self, event: ev.UserIntervention, agent: str) -> None:
        # the message already shows where the user sent it; only one sent elsewhere gets a card
        if not any(i.kind == "intervention" and i.content == event.content for i in self.items):
            self._new(kind="intervention", content=event.content)

    def _on_board_concluded(self, event: ev.BoardConcluded, agent: str) -> None:
        anchor = conclusion_anchor(self._board())
        header = next((i for i in reversed(self.items) if i.id == self._board()), None)
        if header is not None:  # a meeting that ended early on consensus lists only the rounds it held
            header.meeting.conclusion = anchor
            header.meeting.anchors = [
                round_anchor(self._board(), n) for n in range(1, event.total_rounds + 1)
            ]
        self._new(
            kind="conclusion",
            content=event.summary,
            verdict=VerdictPart(
                advice=event.decision_advice,
                consensus=list(event.consensus_points),
                dissent=list(event.dissent_points),
                anchor=anchor,
            ),
            round=event.total_rounds,
            board=self._board(),
        )

    def _on_team_formed(self, event: ev.TeamFormed, agent: str) -> None:
        self._experts = {e["name"]: e for e in event.experts}
        same = next((i for i in self.items if i.kind == "team" and i.team.team_id == event.team_id), None)
        notes, self._notes = self._notes, []
        if same is not None:  # a resumed run: go on in the card the run started
            self._on_plan_update(ev.PlanUpdate(plan_phases=event.plan_phases), agent, same)
            same.team.notes.extend(notes)
            return
        self._new(
            kind="team",
            content=event.lead_expert,
            team=TeamPart(
                team_id=event.team_id, phases=_phase_rows(event.plan_phases, self._experts), notes=notes
            ),
        )

    def _current_team(self) -> ChatItem | None:
        """Return the team card of the run under way: the last one, unless the user has written since."""
        for item in reversed(self.items):
            if item.kind == "team":
                return item
            if item.kind == "user":
                return None
        return None

    def _note(self, content: str) -> None:
        team = self._current_team()
        if team is not None:
            team.team.notes.append(content)
        else:  # the lead plans before the team is formed: the note waits for its card
            self._notes.append(content)

    def _on_plan_step(self, event: ev.PlanStep, agent: str) -> None:
        self._note(event.content)

    def _on_collaboration_notice(self, event: ev.CollaborationNotice, agent: str) -> None:
        self._note(event.content)

    def _on_expert_step(self, event: ev.ExpertStep, agent: str) -> None:
        team = self._team()
        if team is None:
            return
        # ``step`` is the phase's place in the plan; the expert's running phase is the fallback
        phases = team.team.phases
        phase = phases[event.step - 1] if 0 < event.step <= len(phases) else None
        if phase is None or phase.expert != event.expert_name:
            running = [p for p in phases if p.status == "running" and p.expert == event.expert_name]
            phase = running[0] if running else None
        if phase is not None:
            phase.activity = event.content

    def _on_plan_update(self, event: ev.PlanUpdate, agent: str, team: ChatItem | None = None) -> None:
        team = team or self._team()
        if team is not None:
            old = {p.phase_id: p for p in team.team.phases}
            rows = _phase_rows(event.plan_phases, self._experts)
            for row in rows:
                previous = old.get(row.phase_id)
                if previous is not None:
                    row.interventions, row.duration = previous.interventions, previous.duration
                    row.activity = previous.activity
                    row.result = row.result or previous.result
                    if previous.status in ("running", "done", "failed") and row.status == "waiting":
                        row.status = previous.status
            team.team.phases = rows

    def _on_phase_started(self, event: ev.PhaseStarted, agent: str) -> None:
        phase = self._phase(event.phase_id)
        if phase is not None:
            phase.status = "running"
            phase.interventions = list(event.interventions)

    def _on_expert_result_chunk(self, event: ev.ExpertResultChunk, agent: str) -> None:
        phase = self._phase(event.phase_id)
        if phase is not None:
            phase.result += event.content

    def _on_expert_result_chunk_reset(self, event: ev.ExpertResultChunkReset, agent: str) -> None:
        phase = self._phase(event.phase_id)
        if phase is not None:
            phase.result = ""

    def _on_phase_completed(self, event: ev.PhaseCompleted, agent: str) -> None:
        phase = self._phase(event.phase_id)
        if phase is not None:
            phase.status, phase.result, phase.duration = "done", event.result, f"{event.duration_s:.1f}s"
            phase.activity = ""

    def _on_phase_failed(self, event: ev.PhaseFailed, agent: str) -> None:
        phase = self._phase(event.phase_id)
        if phase is not None:
            phase.status, phase.result, phase.activity = "failed", event.error, ""

    def _on_team_intervention_ack(self, event: ev.TeamInterventionAck, agent: str) -> None:
        if self._team() is not None:
            self._new(kind="intervention", content=event.content)

    def _on_team_synthesis_chunk(self, event: ev.TeamSynthesisChunk, agent: str) -> None:
        last = self.items[-1] if self.items else None
        if last is None or last.kind != "synthesis" or not last.streaming:
            last = self._new(kind="synthesis", streaming=True)
        last.content += event.content

    def _on_team_synthesis(self, event: ev.TeamSynthesis, agent: str) -> None:
        last = self.items[-1] if self.items else None
        if last is None or last.kind != "synthesis":
            last = self._new(kind="synthesis")
        last.content, last.streaming = event.content, False
