"""Team collaboration: a lead expert plans phases, members carry them out along their dependencies.

:class:`TeamOrchestrator` asks the lead for a plan: phases, each with an id, a name, the member
who does it, the phases it depends on and its goal. What keeps a plan from running (see
``team_plan.check_plan``) goes back to the lead once to fix, and a plan that still cannot run
ends the team with an error.

Phases whose dependencies are all done run concurrently, each in its own task (a member's work on
one phase is ``team_phase.PhaseWorker``'s); their events are merged into the one stream as they come. A phase that fails lets the lead replan once;
phases that need a failed phase fail too, unless the replan replaced it. The user's
interventions go to the phases that start next. After every finished phase the state goes to
the :class:`CheckpointStore`, so a run whose process died resumes from there without redoing
a finished phase. The lead synthesises the result, and the stream always ends with
``team_dissolved``.
"""

from __future__ import annotations

import asyncio
import copy
import logging
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any

from agentkit_app.engine import events as ev
from agentkit_app.engine.experts import Expert
from agentkit_app.engine.interaction import Interaction
from agentkit_app.engine.llm.base import ChatModel, LLMError, Message, text_deltas
from agentkit_app.engine.parsing import json_object, lang_rule
from agentkit_app.engine.ports import CheckpointStore
from agentkit_app.engine.team_phase import PhaseWorker
from agentkit_app.engine.team_plan import MAX_PHASES, NO_PLAN, check_plan, fallback_plan

log = logging.getLogger(__name__)


@dataclass
class _PlanOutcome:
    """What a planning round gave: the phases, and the problems left after the fix attempt."""

    phases: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


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
        self.worker = PhaseWorker(llm=llm, lead=lead, run_id=run_id, model=model, language=language)

    def _expert(self, name: str) -> Expert:
        return next((m for m in [*self.members, self.lead] if m.name == name), self.lead)

    def _roster(self) -> str:
        return "\n".join(f"- {m.name} ({m.role}): {m.persona}" for m in self.members)

    def _phase(self, phase_id: str) -> dict[str, Any]:
        return next(p for p in self.state["plan"] if p["id"] == phase_id)

    async def _ask(self, messages: list[Message], purpose: str) -> str:
        return "".join([p async for p in text_deltas(self.llm, messages, self.model, purpose)])

    async def _propose(
        self, purpose: str, note: str, finished: set[str], taken: set[str]
    ) -> tuple[list[dict[str, Any]], list[str], str]:
        """Ask the lead for phases; return them, their problems and the raw reply."""
        system = (
            f"You are {self.lead.name}, {self.lead.persona} You lead a team. Split the task into at most {MAX_PHASES} "
            'phases. Reply with one JSON object only: {"phases": [{"id": str, "name": str, "expert": str, '
            '"depends_on": [ids of the phases it needs], "goal": str}]}. Phases that do not depend on each other '
            f"run at the same time. Assign each phase to one of the members:\n{self._roster()}\n{lang_rule(self.language)}"
        )
        user = f"Task: {self.task}\n{note}".rstrip()
        reply = await self._ask(
            [{"role": "system", "content": system}, {"role": "user", "content": user}], purpose
        )
        names = [m.name for m in self.members]
        phases, problems = check_plan(json_object(reply), names, finished=finished, taken=taken)
        return phases, problems, reply

    async def _plan(
        self, purpose: str, note: str, outcome: _PlanOutcome, finished: set[str] | None = None
    ) -> AsyncGenerator[ev.Event, None]:
        """Get a plan from the lead, asking once (``team.plan_fix``) to fix one that cannot run.

        Fills ``outcome``: phases without problems run; phases with problems are a readable
        plan the lead could not fix; no phases means neither reply held a readable plan.
        Raises LLMError when the lead cannot be asked.
        """
        finished = finished or set()
        taken = {p["id"] for p in self.state.get("plan", [])}
        phases, problems, reply = await self._propose(purpose, note, finished, taken)
        if problems:
            yield ev.PlanStep(content=f"{self.lead.name} is fixing the plan: " + "; ".join(problems))
            fix_note = (
                f"{note}\n\nYour plan cannot run:\n" + "\n".join(f"- {p}" for p in problems)
                + f"\n\nYour reply was:\n{reply[:4000]}\n\nReply with the whole corrected plan."
            )  # fmt: skip
            fixed, fixed_problems, _ = await self._propose("team.plan_fix", fix_note.strip(), finished, taken)
            if fixed:  # an unreadable fix leaves the first answer standing
                phases, problems = fixed, fixed_problems
        outcome.phases, outcome.problems = phases, problems

    def _public_plan(self) -> list[dict[str, Any]]:
        return [dict(p) for p in self.state["plan"]]

    async def _save(self) -> None:
        """Checkpoint a snapshot of the run; a store failure costs only crash recovery, so the run goes on."""
        try:
            await self.checkpoints.save(self.run_id, copy.deepcopy(self.state))
        except Exception:
            log.warning("could not checkpoint team run %s", self.run_id, exc_info=True)

    def _fail_blocked(self) -> list[ev.Event]:
        """Fail every pending phase that needs a failed (or unknown) phase, transitively."""
        events: list[ev.Event] = []
        changed = True
        while changed:
            changed = False
            status = {p["id"]: p["status"] for p in self.state["plan"]}
            for phase in self.state["plan"]:
                if phase["status"] != "pending":
                    continue
                blocked = [d for d in phase["depends_on"] if status.get(d, "failed") == "failed"]
                if not blocked:
                    continue
                names = ", ".join(
                    f"'{self._phase(d)['name']}' ({d})" if d in status else f"'{d}'" for d in blocked
                )
                error = f"not run: it needs {names}, which failed"
                phase["status"] = "failed"
                self.state["failed"][phase["id"]] = error
                events.append(
                    ev.PhaseFailed(
                        phase_id=phase["id"], name=phase["name"], expert_name=phase["expert"], error=error
                    )
                )
                changed = True
        return events

    def _ready(self) -> list[dict[str, Any]]:
        done = {p["id"] for p in self.state["plan"] if p["status"] == "completed"}
        return [
            p
            for p in self.state["plan"]
            if p["status"] == "pending" and all(d in done for d in p["depends_on"])
        ]

    async def _execute(self) -> AsyncGenerator[ev.Event, None]:
        """Run the plan along its dependencies, concurrently where it can; yield the merged events."""
        queue: asyncio.Queue[ev.Event] = asyncio.Queue()
        running: dict[str, asyncio.Task[None]] = {}
        try:
            while True:
                blocked = self._fail_blocked()
                for event in blocked:
                    yield event
                if blocked:
                    await self._save()
                ready = self._ready()
                if ready:
                    # one batch of the user's messages goes to every phase that starts now
                    interventions = self.interaction.drain()
                    self.state["interventions"].extend(interventions)
                    for phase in ready:
                        phase["status"] = "running"
                        work = self.worker.work(
                            self.state, phase, self._expert(phase["expert"]), interventions, queue
                        )
                        running[phase["id"]] = asyncio.create_task(
                            work, name=f"team-{self.run_id}-{phase['id']}"
                        )
                    for phase in ready:
                        yield ev.PhaseStarted(
                            phase_id=phase["id"],
                            name=phase["name"],
                            expert_name=phase["expert"],
                            interventions=list(interventions),
                        )
                if not running:
                    return
                event = await queue.get()
                if not isinstance(event, ev.PhaseCompleted | ev.PhaseFailed):
                    yield event
                    continue
                await running.pop(event.phase_id)
                phase = self._phase(event.phase_id)
                if isinstance(event, ev.PhaseCompleted):
                    phase["status"] = "completed"
                    self.state["results"][phase["id"]] = event.result
                else:
                    phase["status"] = "failed"
                    self.state["failed"][phase["id"]] = event.error
                await self._save()
                yield event
                if isinstance(event, ev.PhaseFailed) and self.state["replans"] < 1:
                    async with aclosing(self._replan(phase)) as replan:
                        async for replan_event in replan:
                            yield replan_event
                    await self._save()
        finally:
            for task in running.values():
                task.cancel()
            await asyncio.gather(*running.values(), return_exceptions=True)

    async def _replan(self, phase: dict[str, Any]) -> AsyncGenerator[ev.Event, None]:
        """Ask the lead for phases that replace a failed one; the phases that needed it wait on them."""
        self.state["replans"] += 1
        error = self.state["failed"][phase["id"]]
        yield ev.Replanning(reason=f"{phase['name']}: {error}")
        finished = {p["id"] for p in self.state["plan"] if p["status"] == "completed"}
        done = (
            ", ".join(f"{p['id']} ({p['name']})" for p in self.state["plan"] if p["id"] in finished)
            or "nothing yet"
        )
        note = (
            f"Phase '{phase['id']}' ({phase['name']}) failed: {error}. Finished phases, which new phases may depend "
            f"on: {done}. Plan only the phases that replace the failed one, with new ids."
        )
        outcome = _PlanOutcome()
        try:
            async with aclosing(self._plan("team.replan", note, outcome, finished)) as planning:
                async for event in planning:
                    yield event
        except LLMError as exc:
            outcome.problems = [str(exc)]
        if outcome.problems or not outcome.phases:
            why = "; ".join(outcome.problems) or NO_PLAN
            yield ev.CollaborationNotice(
                content=f"the lead could not replan ({why}); phases that need '{phase['name']}' will not run"
            )
            return
        extra = outcome.phases
        needed = {d for p in extra for d in p["depends_on"]}
        last = [p["id"] for p in extra if p["id"] not in needed]
        for waiting in self.state["plan"]:
            if waiting["status"] == "pending" and phase["id"] in waiting["depends_on"]:
                waiting["depends_on"] = [
                    d for dep in waiting["depends_on"] for d in (last if dep == phase["id"] else [dep])
                ]
        at = self.state["plan"].index(phase) + 1
        self.state["plan"][at:at] = extra
        yield ev.PlanUpdate(plan_phases=self._public_plan())

    def _fallback_result(self) -> str:
        results = self.state["results"]
        return "\n\n".join(
            f"### {p['name']}\n{results[p['id']]}" for p in self.state["plan"] if p["id"] in results
        )

    async def _synthesise(self) -> AsyncGenerator[ev.Event, None]:
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

    async def run(self, resume: bool = False) -> AsyncGenerator[ev.Event, None]:
        """Plan (or reload the checkpoint), run the phases, synthesise; end with ``team_dissolved``.

        A plan that cannot run after the lead's one fix attempt yields an ``error`` and ends the
        team as failed. When neither the plan nor the fix holds a readable plan at all, each
        member takes one phase in turn instead. Cancelling the consumer (or closing this
        generator) cancels every running phase; the checkpoint then records ``cancelled``.
        """
        status = "failed"
        try:
            async with aclosing(self._run(resume)) as events:
                async for event in events:
                    yield event
            status = self.state.get("status", "failed")
            status = "failed" if status == "running" else status
        except (asyncio.CancelledError, GeneratorExit):
            status = "cancelled"
            raise
        finally:
            if self.state:
                self.state["status"] = status
                await self._save()
        yield ev.TeamDissolved(team_id=self.run_id, status=status)

    def _fresh_state(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "lead": self.lead.name,
            "members": [m.name for m in self.members],
            "language": self.language,
            "model": self.model,
            "plan": [],
            "results": {},
            "failed": {},
            "interventions": [],
            "replans": 0,
            "status": "running",
        }

    async def _run(self, resume: bool) -> AsyncGenerator[ev.Event, None]:
        experts = [self.lead, *[m for m in self.members if m is not self.lead]]
        if resume:
            saved = await self.checkpoints.load(self.run_id)
            if not saved or not saved.get("plan"):
                yield ev.Error(message="nothing to resume: this team run has no checkpoint", code="invalid")
                return
            self.state = {**self._fresh_state(), **saved, "status": "running"}
            self.task = self.state["task"]
            for phase in self.state["plan"]:
                if phase["status"] == "running":  # cut off by the crash: it starts again
                    phase["status"] = "pending"
            yield ev.CollaborationNotice(
                content=f"resuming after {len(self.state['results'])} finished phase(s)"
            )
        else:
            self.state = self._fresh_state()
            outcome = _PlanOutcome()
            try:
                async with aclosing(self._plan("team.plan", "", outcome)) as planning:
                    async for event in planning:
                        yield event
            except LLMError as exc:
                yield ev.Error(message=f"the lead could not plan the task: {exc}", code="llm")
                return
            if outcome.phases and outcome.problems:
                yield ev.Error(
                    message="the lead's plan cannot run: " + "; ".join(outcome.problems), code="invalid"
                )
                return
            if not outcome.phases:
                yield ev.CollaborationNotice(
                    content="the lead gave no readable plan; each member takes one part in turn"
                )
            self.state["plan"] = outcome.phases or fallback_plan(self.members, self.language)
            await self._save()
        yield ev.TeamFormed(
            team_id=self.run_id, status="running", experts=[e.public() for e in experts],
            plan_phases=self._public_plan(), lead_expert=self.lead.name,
        )  # fmt: skip
        async with aclosing(self._execute()) as execution:
            async for event in execution:
                yield event
        async for event in self._synthesise():
            yield event
        self.state["status"] = "completed" if self.state["results"] else "failed"
