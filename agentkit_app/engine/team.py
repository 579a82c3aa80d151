"""Team collaboration: a lead expert plans phases, members carry them out as a pipeline.

``parse_team_command`` reads ``@team[:Lead,Member,...] TASK``. :class:`TeamOrchestrator`
asks the lead for a plan (phases with an assigned member and the phases they depend on),
runs the phases in order, each reading the results it depends on and the user's
interventions, lets the lead replan once after a failed phase, and has the lead synthesise
the result. After every phase the state goes to the :class:`CheckpointStore`, so a run whose
process died resumes from the last finished phase without redoing it.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from agentkit_app.engine import events as ev
from agentkit_app.engine.experts import Expert, UnknownExpertsError
from agentkit_app.engine.interaction import Interaction
from agentkit_app.engine.llm.base import ChatModel, LLMError, Message, text_deltas
from agentkit_app.engine.parsing import json_object, lang_rule, take_names
from agentkit_app.engine.ports import CheckpointStore

_COMMAND = re.compile(r"^\s*@team(?=$|[\s:])", re.IGNORECASE)
_VERDICT = re.compile(r"^\s*VERDICT\s*[:：]\s*(\w+)\s*$", re.IGNORECASE | re.MULTILINE)
_RISK = re.compile(r"^\s*RISK\s*[:：]\s*(.+)$", re.IGNORECASE | re.MULTILINE)
MAX_PHASES = 8
log = logging.getLogger(__name__)


class TeamCommandError(ValueError):
    """The ``@team`` command cannot start a team (no task)."""


@dataclass(frozen=True, slots=True)
class TeamCommand:
    """What ``@team`` asked for: the task and the experts named (first = lead; empty = template)."""

    task: str
    expert_names: list[str] = field(default_factory=list)


def is_team_command(text: str) -> bool:
    """Return whether a message starts a team run."""
    return _COMMAND.match(text) is not None


def parse_team_command(text: str, known: list[str] | None = None) -> TeamCommand:
    """Parse ``@team[:Lead,Member] TASK``; unknown names raise UnknownExpertsError."""
    match = _COMMAND.match(text)
    if match is None:
        raise TeamCommandError("not a team command")
    body = text[match.end() :]
    names: list[str] = []
    if body.startswith(":"):
        names, body = take_names(body[1:], known or [])
    task = body.strip()
    if not task:
        raise TeamCommandError("a team task needs a description")
    if known is not None:
        unknown = [n for n in names if n.casefold() not in {k.casefold() for k in known}]
        if unknown:
            raise UnknownExpertsError(unknown)
    return TeamCommand(task=task, expert_names=names)


def _clean_plan(raw: object, members: list[Expert], taken: set[str]) -> list[dict[str, Any]]:
    """Turn the lead's JSON into valid phases: known experts, unique ids, dependencies on earlier phases."""
    items = raw.get("phases") if isinstance(raw, dict) else None
    if not isinstance(items, list):
        return []
    by_name = {m.name.casefold(): m.name for m in members}
    phases: list[dict[str, Any]] = []
    seen = set(taken)
    for index, item in enumerate(items[:MAX_PHASES]):
        if not isinstance(item, dict) or not str(item.get("name") or "").strip():
            continue
        phase_id = str(item.get("id") or f"p{index + 1}").strip()
        while phase_id in seen:
            phase_id += "'"
        expert = by_name.get(str(item.get("expert") or "").casefold()) or members[len(phases) % len(members)].name
        depends = item.get("depends_on") or []
        depends = [str(d) for d in depends if str(d) in seen] if isinstance(depends, list) else []
        phases.append(
            {
                "id": phase_id,
                "name": str(item["name"]).strip()[:120],
                "expert": expert,
                "depends_on": depends,
                "goal": str(item.get("goal") or item["name"]).strip()[:1000],
                "status": "pending",
            }
        )
        seen.add(phase_id)
    return phases


def _fallback_plan(members: list[Expert], language: str) -> list[dict[str, Any]]:
    """One phase per member, in order, each building on the previous: used when the plan is unreadable."""
    phases: list[dict[str, Any]] = []
    for index, member in enumerate(members):
        name = f"{member.name} 的工作" if language == "zh" else f"{member.name}'s part"
        depends = [phases[-1]["id"]] if phases else []
        phases.append({"id": f"p{index + 1}", "name": name, "expert": member.name, "depends_on": depends,
                       "goal": name, "status": "pending"})  # fmt: skip
    return phases


class TeamOrchestrator:
    """Runs one team task and yields its events; always ends with ``team_dissolved``."""

    def __init__(
        self,
        *,
        llm: ChatModel,
        lead: Expert,
        members: list[Expert],
        task: str,
        interaction: Interaction,
        checkpoints: CheckpointStore,
        run_id: str,
        model: str | None = None,
        language: str = "en",
    ) -> None:
        self.llm = llm
        self.lead = lead
        self.members = members or [lead]
        self.task = task
        self.interaction = interaction
        self.checkpoints = checkpoints
        self.run_id = run_id
        self.model = model
        self.language = language
        self.state: dict[str, Any] = {}

    def _expert(self, name: str) -> Expert:
        return next((m for m in [*self.members, self.lead] if m.name == name), self.lead)

    def _roster(self) -> str:
        return "\n".join(f"- {m.name} ({m.role}): {m.persona}" for m in self.members)

    async def _ask(self, messages: list[Message], purpose: str) -> str:
        return "".join([p async for p in text_deltas(self.llm, messages, self.model, purpose)])

    async def _plan(self, purpose: str, note: str) -> list[dict[str, Any]]:
        system = (
            f"You are {self.lead.name}, {self.lead.persona} You lead a team. Split the task into at most {MAX_PHASES} "
            'phases. Reply with one JSON object only: {"phases": [{"id": str, "name": str, "expert": str, '
            '"depends_on": [ids of earlier phases], "goal": str}]}. Assign each phase to one of the members:\n'
            f"{self._roster()}\n{lang_rule(self.language)}"
        )
        raw = await self._ask([{"role": "system", "content": system}, {"role": "user", "content": f"Task: {self.task}\n{note}"}], purpose)
        return _clean_plan(json_object(raw), self.members, {p["id"] for p in self.state.get("plan", [])})

    def _public_plan(self) -> list[dict[str, Any]]:
        return [dict(p) for p in self.state["plan"]]

    async def _save(self) -> None:
        """Checkpoint the run; a store failure costs only crash recovery, so the run goes on."""
        try:
            await self.checkpoints.save(self.run_id, self.state)
        except Exception:
            log.warning("could not checkpoint team run %s", self.run_id, exc_info=True)

    def _phase_prompt(self, phase: dict[str, Any], expert: Expert, interventions: list[str]) -> list[Message]:
        results = self.state["results"]
        inputs = "\n\n".join(
            f"### {p['name']} ({p['expert']})\n{results[p['id']]}" for p in self.state["plan"] if p["id"] in phase["depends_on"] and p["id"] in results
        ) or "(no earlier results)"  # fmt: skip
        notes = "\n".join(f"- {text}" for text in self.state["interventions"]) or "(none)"
        review = " Begin with a line 'VERDICT: approve' or 'VERDICT: changes'." if expert.role == "reviewer" else ""
        system = (
            f"You are {expert.name}, {expert.persona} You are a member of a team led by {self.lead.name}. "
            f"Do your phase and report its result. If you see a serious risk, add a line 'RISK: ...'.{review} "
            f"{lang_rule(self.language)}"
        )
        user = (
            f"Task: {self.task}\n\nYour phase: {phase['name']}\nGoal: {phase['goal']}\n\n"
            f"Results you build on:\n{inputs}\n\nThe user's instructions during the run:\n{notes}"
            + (f"\n\nNew since the last phase: {' / '.join(interventions)}" if interventions else "")
        )
        return [{"role": "system", "content": system}, {"role": "user", "content": user}]

    async def _run_phase(self, phase: dict[str, Any]) -> AsyncIterator[ev.Event]:
        expert = self._expert(phase["expert"])
        interventions = self.interaction.drain()
        self.state["interventions"].extend(interventions)
        phase["status"] = "running"
        yield ev.PhaseStarted(phase_id=phase["id"], name=phase["name"], expert_name=expert.name, interventions=interventions)
        failed_deps = [d for d in phase["depends_on"] if d in self.state["failed"]]
        if failed_deps:
            error = "depends on a failed phase: " + ", ".join(failed_deps)
            phase["status"] = "failed"
            self.state["failed"][phase["id"]] = error
            yield ev.PhaseFailed(phase_id=phase["id"], name=phase["name"], expert_name=expert.name, error=error)
            return
        started = time.monotonic()
        parts: list[str] = []
        try:
            async for piece in text_deltas(self.llm, self._phase_prompt(phase, expert, interventions), self.model, "team.phase"):
                parts.append(piece)
                yield ev.ExpertResultChunk(phase_id=phase["id"], expert_name=expert.name, content=piece)
        except LLMError as exc:
            if parts:
                yield ev.ExpertResultChunkReset(phase_id=phase["id"])
            phase["status"] = "failed"
            self.state["failed"][phase["id"]] = str(exc)
            yield ev.PhaseFailed(phase_id=phase["id"], name=phase["name"], expert_name=expert.name, error=str(exc))
            return
        text = "".join(parts).strip()
        verdict = _VERDICT.search(text)
        risks = [r.strip() for r in _RISK.findall(text)]
        result = _RISK.sub("", _VERDICT.sub("", text)).strip()
        yield ev.ExpertResult(phase_id=phase["id"], expert_name=expert.name, content=result)
        if expert.role == "reviewer" or verdict:
            yield ev.ReviewResult(
                phase_id=phase["id"], expert_name=expert.name, verdict=(verdict.group(1).lower() if verdict else "comment"), content=result
            )  # fmt: skip
        for risk in risks:
            yield ev.RiskFlagged(phase_id=phase["id"], expert_name=expert.name, risk=risk)
        phase["status"] = "completed"
        self.state["results"][phase["id"]] = result
        yield ev.PhaseCompleted(
            phase_id=phase["id"], name=phase["name"], expert_name=expert.name, result=result,
            duration_s=round(time.monotonic() - started, 3),
        )  # fmt: skip

    async def _replan(self, phase: dict[str, Any]) -> AsyncIterator[ev.Event]:
        self.state["replans"] += 1
        reason = f"{phase['name']}: {self.state['failed'][phase['id']]}"
        yield ev.Replanning(reason=reason)
        done = ", ".join(p["name"] for p in self.state["plan"] if p["status"] == "completed") or "nothing yet"
        try:
            extra = await self._plan("team.replan", f"Phase '{phase['name']}' failed ({reason}). Done so far: {done}. Plan the remaining work.")
        except LLMError:
            extra = []
        if extra:
            # phases that waited on the failed one now wait on the replacement's last phase instead
            for waiting in self.state["plan"]:
                if waiting["status"] == "pending" and phase["id"] in waiting["depends_on"]:
                    waiting["depends_on"] = [extra[-1]["id"] if d == phase["id"] else d for d in waiting["depends_on"]]
            at = self.state["plan"].index(phase) + 1
            self.state["plan"][at:at] = extra
            yield ev.PlanUpdate(plan_phases=self._public_plan())

    def _fallback_result(self) -> str:
        results = self.state["results"]
        return "\n\n".join(f"### {p['name']}\n{results[p['id']]}" for p in self.state["plan"] if p["id"] in results)

    async def _synthesise(self) -> AsyncIterator[ev.Event]:
        system = (
            f"You are {self.lead.name}, {self.lead.persona} Your team has finished. Write the final result for the "
            f"user from the phase results, in markdown. {lang_rule(self.language)}"
        )
        user = f"Task: {self.task}\n\n{self._fallback_result() or '(no phase produced a result)'}"
        parts: list[str] = []
        try:
            async for piece in text_deltas(self.llm, [{"role": "system", "content": system}, {"role": "user", "content": user}], self.model, "team.synthesis"):  # fmt: skip
                parts.append(piece)
                yield ev.TeamSynthesisChunk(content=piece)
        except LLMError as exc:
            yield ev.CollaborationNotice(content=f"synthesis failed ({exc}); showing the phase results")
            parts = []
        yield ev.TeamSynthesis(content="".join(parts).strip() or self._fallback_result())

    async def run(self, resume: bool = False) -> AsyncIterator[ev.Event]:
        """Plan (or reload the checkpoint), run the pipeline, synthesise; end with ``team_dissolved``."""
        status = "failed"
        try:
            async for event in self._run(resume):
                yield event
            status = self.state.get("status", "failed")
            status = "failed" if status == "running" else status
        finally:
            if self.state:
                self.state["status"] = status
                await self._save()
        yield ev.TeamDissolved(team_id=self.run_id, status=status)

    async def _run(self, resume: bool) -> AsyncIterator[ev.Event]:
        experts = [self.lead, *[m for m in self.members if m is not self.lead]]
        if resume:
            saved = await self.checkpoints.load(self.run_id)
            if not saved or not saved.get("plan"):
                yield ev.Error(message="nothing to resume: this team run has no checkpoint", code="invalid")
                return
            self.state = saved
            self.state["status"] = "running"
            yield ev.CollaborationNotice(content=f"resuming after {len(saved['results'])} finished phase(s)")
        else:
            self.state = {"task": self.task, "plan": [], "results": {}, "failed": {}, "interventions": [], "replans": 0, "status": "running"}
            try:
                plan = await self._plan("team.plan", "")
            except LLMError as exc:
                yield ev.Error(message=f"the lead could not plan the task: {exc}", code="llm")
                return
            self.state["plan"] = plan or _fallback_plan(self.members, self.language)
            await self._save()
        yield ev.TeamFormed(
            team_id=self.run_id, status="running", experts=[e.public() for e in experts],
            plan_phases=self._public_plan(), lead_expert=self.lead.name,
        )  # fmt: skip
        index = 0
        while index < len(self.state["plan"]):
            phase = self.state["plan"][index]
            index += 1
            if phase["status"] in ("completed", "failed"):
                continue
            async for event in self._run_phase(phase):
                yield event
            if phase["status"] == "failed" and self.state["replans"] < 1:
                if not any(d in self.state["failed"] for d in phase["depends_on"]):
                    async for event in self._replan(phase):
                        yield event
            await self._save()
        async for event in self._synthesise():
            yield event
        self.state["status"] = "completed" if self.state["results"] else "failed"
