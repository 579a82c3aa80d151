"""One member doing one phase of a team run: what it is told, its streamed result, its verdict and risks.

:class:`PhaseWorker` tells the member the task, its phase and goal, the results of the phases it
builds on and the user's instructions, streams its reply as events, and reads from the reply a
reviewer's ``VERDICT:`` line and any ``RISK:`` lines. The last event of a phase is always
``phase_completed`` or ``phase_failed``; what to do next is the orchestrator's.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from dataclasses import dataclass
from typing import Any

from agentkit_app.engine import events as ev
from agentkit_app.engine.experts import Expert
from agentkit_app.engine.llm.base import ChatModel, LLMError, Message, text_deltas
from agentkit_app.engine.parsing import lang_rule

_VERDICT = re.compile(r"^\s*VERDICT\s*[:：]\s*(\w+)\s*$", re.IGNORECASE | re.MULTILINE)
_RISK = re.compile(r"^\s*RISK\s*[:：]\s*(.+)$", re.IGNORECASE | re.MULTILINE)
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PhaseWorker:
    """Has the members of one team run do their phases; ``state`` is the run's checkpointed state."""

    llm: ChatModel
    lead: Expert
    run_id: str
    model: str | None
    language: str

    def prompt(
        self, state: dict[str, Any], phase: dict[str, Any], expert: Expert, interventions: list[str]
    ) -> list[Message]:
        """Return what ``expert`` is told to do ``phase``; ``interventions`` are the user's new messages."""
        results = state["results"]
        inputs = "\n\n".join(
            f"### {p['name']} ({p['expert']})\n{results[p['id']]}" for p in state["plan"] if p["id"] in phase["depends_on"] and p["id"] in results
        ) or "(no earlier results)"  # fmt: skip
        notes = "\n".join(f"- {text}" for text in state["interventions"]) or "(none)"
        review = (
            " Begin with a line 'VERDICT: approve' or 'VERDICT: changes'."
            if expert.role == "reviewer"
            else ""
        )
        system = (
            f"You are {expert.name}, {expert.persona} You are a member of a team led by {self.lead.name}. "
            f"Do your phase and report its result. If you see a serious risk, add a line 'RISK: ...'.{review} "
            f"{lang_rule(self.language)}"
        )
        user = (
            f"Task: {state['task']}\n\nYour phase: {phase['name']}\nGoal: {phase['goal']}\n\n"
            f"Results you build on:\n{inputs}\n\nThe user's instructions during the run:\n{notes}"
            + (f"\n\nNew since the last phase: {' / '.join(interventions)}" if interventions else "")
        )
        return [{"role": "system", "content": system}, {"role": "user", "content": user}]

    async def work(
        self,
        state: dict[str, Any],
        phase: dict[str, Any],
        expert: Expert,
        interventions: list[str],
        queue: asyncio.Queue[ev.Event],
    ) -> None:
        """Do one phase, putting its events on ``queue``; the last is PhaseCompleted or PhaseFailed."""
        step = state["plan"].index(phase) + 1
        doing = f"{phase['name']}: {phase['goal']}"
        queue.put_nowait(
            ev.ExpertStep(
                expert_id=expert.name,
                expert_name=expert.name,
                expert_color=expert.color,
                content=doing,
                step=step,
            )
        )
        started = time.monotonic()
        parts: list[str] = []
        try:
            messages = self.prompt(state, phase, expert, interventions)
            async for piece in text_deltas(self.llm, messages, self.model, "team.phase"):
                parts.append(piece)
                queue.put_nowait(
                    ev.ExpertResultChunk(phase_id=phase["id"], expert_name=expert.name, content=piece)
                )
        except Exception as exc:  # a failed phase is the lead's to replan, whatever broke it
            if not isinstance(exc, LLMError):
                log.exception("team phase %s of run %s failed", phase["id"], self.run_id)
            error = str(exc) if isinstance(exc, LLMError) else f"internal error: {type(exc).__name__}"
            if parts:
                queue.put_nowait(ev.ExpertResultChunkReset(phase_id=phase["id"]))
            queue.put_nowait(
                ev.PhaseFailed(phase_id=phase["id"], name=phase["name"], expert_name=expert.name, error=error)
            )
            return
        text = "".join(parts).strip()
        verdict = _VERDICT.search(text)
        risks = [r.strip() for r in _RISK.findall(text)]
        result = _RISK.sub("", _VERDICT.sub("", text)).strip()
        queue.put_nowait(ev.ExpertResult(phase_id=phase["id"], expert_name=expert.name, content=result))
        if expert.role == "reviewer" or verdict:
            verdict_word = verdict.group(1).lower() if verdict else "comment"
            queue.put_nowait(
                ev.ReviewResult(
                    phase_id=phase["id"], expert_name=expert.name, verdict=verdict_word, content=result
                )
            )
        for risk in risks:
            queue.put_nowait(ev.RiskFlagged(phase_id=phase["id"], expert_name=expert.name, risk=risk))
        duration_s = round(time.monotonic() - started, 3)
        queue.put_nowait(
            ev.PhaseCompleted(
                phase_id=phase["id"],
                name=phase["name"],
                expert_name=expert.name,
                result=result,
                duration_s=duration_s,
            )
        )
