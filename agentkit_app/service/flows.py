"""The board meeting and team runs as service flows: run the orchestrator, store its events."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agentkit_app.engine import events as ev
from agentkit_app.engine.board import (
    BoardCommandError,
    BoardOrchestrator,
    conclusion_markdown,
    parse_board_command,
)
from agentkit_app.engine.experts import UnknownExpertsError
from agentkit_app.engine.i18n import t
from agentkit_app.engine.llm.base import (
    TIERS,
    ChatModel,
    Chunk,
    LLMError,
    Message,
    TextDelta,
    Tier,
    UsageInfo,
)
from agentkit_app.engine.team import TeamOrchestrator
from agentkit_app.engine.team_plan import TeamCommandError, parse_team_command

if TYPE_CHECKING:
    from agentkit_app.service.chat import ChatService, TurnRequest
    from agentkit_app.service.runs import Run
    from agentkit_app.store.models import SessionPublic

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


@dataclass
class _CallFigures:
    first_token_s: float | None = None
    total_s: float = 0.0


class UsageCounter:
    """A chat model that passes another one through and adds up the usage of every call made through it.

    One counter wraps the model of one board meeting or team run, so the run's total covers the
    speeches, summaries, plans, phases and the conclusion or synthesis alike. The run's ``tier`` is
    the lowest tier that answered any of its calls, read from each reply's usage chunk: one speech
    from the recovery model makes the whole meeting a recovery answer.
    """

    def __init__(self, llm: ChatModel) -> None:
        self.llm = llm
        self.label = llm.label
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self.model = ""
        self.tier: Tier = "main"
        self.error_struct: dict[str, Any] | None = None
        self._calls: list[_CallFigures] = []

    async def stream(
        self,
        messages: list[Message],
        tools: list[dict[str, Any]] | None = None,
        model: str | None = None,
        purpose: str = "chat",
    ) -> AsyncGenerator[Chunk, None]:
        """Yield the wrapped model's chunks unchanged, counting the call, its tokens, its time and its tier."""
        figures = _CallFigures()
        self._calls.append(figures)
        started = time.monotonic()
        try:
            async with aclosing(self.llm.stream(messages, tools, model, purpose)) as chunks:
                async for chunk in chunks:
                    if isinstance(chunk, TextDelta) and figures.first_token_s is None:
                        figures.first_token_s = round(time.monotonic() - started, 3)
                    elif isinstance(chunk, UsageInfo):
                        self._count(chunk)
                    yield chunk
        finally:
            figures.total_s = time.monotonic() - started

    def _count(self, usage: UsageInfo) -> None:
        self.prompt_tokens += usage.prompt_tokens
        self.completion_tokens += usage.completion_tokens
        self.model = usage.model or self.model
        if TIERS.index(usage.tier) > TIERS.index(self.tier):
            self.tier = usage.tier
        self.error_struct = usage.error_struct or self.error_struct

    def metadata(self) -> dict[str, Any]:
        """Return the run's ``model``, ``tier`` and ``usage`` in the shape chat answers store them.

        ``total_s`` adds up the time of every call, so calls that ran side by side count each;
        ``error_struct`` is there only if an emergency apology stood in for one of them.
        """
        first_tokens = [c.first_token_s for c in self._calls if c.first_token_s is not None]
        meta: dict[str, Any] = {
            "model": self.model or self.label,
            "tier": self.tier,
            "fallback_status": self.tier,
            "usage": {
                "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens,
                "first_token_s": first_tokens[0] if first_tokens else None,
                "total_s": round(sum(c.total_s for c in self._calls), 3),
                "calls": len(self._calls),
            },
        }
        if self.error_struct:
            meta["error_struct"] = self.error_struct
        return meta


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


async def _store_event(
    service: ChatService, run: Run, event: ev.Event, agent_name: str, extra: dict[str, Any] | None = None
) -> None:
    stored = event_message(event)
    if stored is not None:
        content, meta = stored
        meta.update(extra or {})
        await service.persist(
            run.session_id, run=run, role="assistant", content=content, agent_name=agent_name, metadata=meta
        )


async def run_board(
    service: ChatService, run: Run, session: SessionPublic, request: TurnRequest, text: str, language: str
) -> None:
    """Hold a board meeting for ``@board ...``: store the topic, every speech, summary and the conclusion."""
    try:
        board = parse_board_command(text, service.config.board_max_rounds, service.catalog.experts.names())
        names = board.expert_names or service.catalog.experts.templates["board"]
        experts = [e for e in service.catalog.experts.resolve(names) if not e.is_moderator]
        moderator = service.catalog.experts.moderator()
        if not experts or moderator is None:
            raise BoardCommandError("board_needs_experts")
    except (BoardCommandError, UnknownExpertsError) as exc:
        await service.persist(
            session.session_id, role="user", content=text, metadata={"message_type": "board_request"}
        )
        await service.fail(run, exc.text(language), BOARD_AGENT, "invalid")
        return
    await service.persist(
        session.session_id,
        role="user",
        content=f"@board {board.topic}",
        metadata={"message_type": "board_request"},
    )
    await service.store.update_session(session.session_id, kind="board")
    counter = UsageCounter(service.llm)
    orchestrator = BoardOrchestrator(
        llm=counter,
        experts=experts,
        moderator=moderator,
        topic=board.topic,
        max_rounds=board.rounds,
        interaction=run.interaction,
        team_id=run.run_id,
        model=request.model,
        language=language,
    )
    concluded: ev.BoardConcluded | None = None
    try:
        async with aclosing(orchestrator.run()) as events:  # a cancel closes the meeting's own tasks at once
            async for event in events:
                if isinstance(event, ev.Error):
                    await service.fail(run, event.message, BOARD_AGENT, event.code or "llm")
                    return
                run.publish(event)
                # the conclusion is the meeting's last model call: its card keeps the meeting's total
                extra = counter.metadata() if isinstance(event, ev.BoardConcluded) else None
                await _store_event(service, run, event, BOARD_AGENT, extra)
                if isinstance(event, ev.BoardConcluded):
                    concluded = event
    except LLMError as exc:
        await service.fail(run, str(exc), BOARD_AGENT, "llm")
        return
    if concluded is not None:
        await _final_answer(
            service, run, BOARD_AGENT, "board_final", conclusion_markdown(concluded, language), counter
        )


async def run_team(
    service: ChatService, run: Run, session: SessionPublic, request: TurnRequest, text: str, language: str
) -> None:
    """Run a team for ``@team ...``: plan, phases, synthesis; store the timeline and the result."""
    try:
        team = parse_team_command(text, service.catalog.experts.names())
        names = team.expert_names or service.catalog.experts.templates["dev_team"]
        experts = service.catalog.experts.resolve(names)
    except (TeamCommandError, UnknownExpertsError) as exc:
        await service.persist(
            session.session_id, role="user", content=text, metadata={"message_type": "team_request"}
        )
        await service.fail(run, exc.text(language), TEAM_AGENT, "invalid")
        return
    await service.persist(
        session.session_id, role="user", content=text, metadata={"message_type": "team_request"}
    )
    await service.store.update_session(
        session.session_id,
        kind="team",
        server_state={"team_run": {"run_id": run.run_id, "status": "running"}},
    )
    counter = UsageCounter(service.llm)
    orchestrator = TeamOrchestrator(
        llm=counter,
        lead=experts[0],
        members=experts[1:],
        task=team.task,
        interaction=run.interaction,
        checkpoints=service.checkpoints,
        run_id=run.run_id,
        model=request.model,
        language=language,
    )
    await _drive_team(service, run, session, orchestrator, counter, resume=False, language=language)


async def resume_team(
    service: ChatService, run: Run, session: SessionPublic, team_run_id: str, state: dict[str, Any]
) -> None:
    """Continue team run ``team_run_id`` as ``run`` from its checkpoint ``state``: the phases left, the synthesis.

    The lead, the members, the task and the language come from the checkpoint; finished phases are not redone.
    """
    language = str(state.get("language") or "en")
    try:
        experts = service.catalog.experts.resolve([str(state["lead"]), *map(str, state.get("members") or [])])
    except (KeyError, UnknownExpertsError) as exc:
        await service.fail(run, f"the interrupted team cannot be formed again: {exc}", TEAM_AGENT, "invalid")
        run.publish(ev.TeamDissolved(team_id=team_run_id, status="failed"))
        team_run = {"run_id": team_run_id, "status": "failed"}
        await service.store.update_session(session.session_id, server_state={"team_run": team_run})
        return
    counter = UsageCounter(service.llm)
    orchestrator = TeamOrchestrator(
        llm=counter,
        lead=experts[0],
        members=experts[1:],
        task=str(state.get("task") or ""),
        interaction=run.interaction,
        checkpoints=service.checkpoints,
        run_id=team_run_id,
        model=state.get("model"),
        language=language,
    )
    await _drive_team(service, run, session, orchestrator, counter, resume=True, language=language)


async def _drive_team(
    service: ChatService,
    run: Run,
    session: SessionPublic,
    orchestrator: TeamOrchestrator,
    counter: UsageCounter,
    *,
    resume: bool,
    language: str,
) -> None:
    status = "failed"
    synthesis = ""
    team_id = orchestrator.run_id  # a resumed run keeps the id of the run it continues
    try:
        # closing the stream on the way out cancels the phases still running
        async with aclosing(orchestrator.run(resume=resume)) as events:
            async for event in events:
                run.publish(event)
                # the synthesis is the run's last model call: its card keeps the run's total
                extra = counter.metadata() if isinstance(event, ev.TeamSynthesis) else None
                await _store_event(service, run, event, TEAM_AGENT, extra)
                if isinstance(event, ev.TeamSynthesis):
                    synthesis = event.content
                elif isinstance(event, ev.TeamDissolved):
                    status = event.status
                elif isinstance(event, ev.Error):
                    await service.persist(
                        run.session_id, run=run, role="assistant", content=event.message, agent_name=TEAM_AGENT,
                        metadata={"message_type": "error"},
                    )  # fmt: skip
    except asyncio.CancelledError:
        status = "cancelled"
        run.publish(ev.TeamDissolved(team_id=team_id, status=status))
        raise
    finally:
        team_run = {"run_id": team_id, "status": status}
        await service.store.update_session(session.session_id, server_state={"team_run": team_run})
    if synthesis or status == "completed":
        await _final_answer(
            service, run, TEAM_AGENT, "team_final", synthesis or t("team_no_result", language), counter
        )


FLOWS = {"board": run_board, "team": run_team}


async def _final_answer(
    service: ChatService, run: Run, agent: str, message_type: str, answer: str, counter: UsageCounter
) -> None:
    """Store a board's or team's answer with the whole run's usage, and publish it as the final answer."""
    meta = {"message_type": message_type, "agent_name": agent, **counter.metadata()}
    stored = await service.persist(
        run.session_id, run=run, role="assistant", content=answer, agent_name=agent, metadata=meta
    )
    run.publish(
        ev.FinalAnswer(content=answer, metadata={**meta, "message_id": stored.message_id if stored else None})
    )
