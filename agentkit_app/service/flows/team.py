"""A team run as a flow: plan, phases, synthesis; the timeline and the result stored, the run resumable."""

from __future__ import annotations

import asyncio
from contextlib import aclosing
from typing import TYPE_CHECKING

from agentkit_app.engine import events as ev
from agentkit_app.engine.experts import UnknownExpertsError
from agentkit_app.engine.i18n import t
from agentkit_app.engine.team import TeamOrchestrator
from agentkit_app.engine.team_plan import TeamCommandError, parse_team_command
from agentkit_app.service.flows.records import TEAM_AGENT, final_answer, store_event
from agentkit_app.service.flows.usage import UsageCounter
from agentkit_app.store.models import SessionKind
from agentkit_app.store.records import ErrorRecord, MessageType, RunRequest

if TYPE_CHECKING:
    from agentkit_app.service.flows.context import RunContext


async def run(ctx: RunContext) -> None:
    """Run a team for ``@team ...``: plan, phases, synthesis; store the timeline and the result."""
    recorder = ctx.recorder
    try:
        team = parse_team_command(ctx.text, ctx.catalog.experts.names())
        names = team.expert_names or ctx.catalog.default_template("team")
        experts = ctx.catalog.experts.resolve(names)
    except (TeamCommandError, UnknownExpertsError) as exc:
        await recorder.persist_input(RunRequest(message_type=MessageType.TEAM_REQUEST), ctx.text)
        await recorder.fail(exc.text(ctx.language), TEAM_AGENT, "invalid")
        return
    await recorder.persist_input(RunRequest(message_type=MessageType.TEAM_REQUEST), ctx.text)
    await ctx.store.update_session(
        ctx.session.session_id,
        kind=SessionKind.TEAM,
        server_state={"team_run": {"run_id": ctx.run.run_id, "status": "running"}},
    )
    counter = UsageCounter(ctx.llm)
    orchestrator = TeamOrchestrator(
        llm=counter,
        lead=experts[0],
        members=experts[1:],
        task=team.task,
        interaction=ctx.run.interaction,
        checkpoints=ctx.checkpoints,
        run_id=ctx.run.run_id,
        model=ctx.request.model,
        language=ctx.language,
    )
    await _drive(ctx, orchestrator, counter, resume=False)


async def resume(ctx: RunContext) -> None:
    """Continue ``ctx.resumption``'s team run from its checkpoint: the phases left, the synthesis.

    The lead, the members, the task and the language come from the checkpoint (``ctx.language`` is
    its language); finished phases are not redone.
    """
    assert ctx.resumption is not None, "a resumed team run needs its checkpoint"
    team_run_id, state = ctx.resumption.team_run_id, ctx.resumption.state
    try:
        experts = ctx.catalog.experts.resolve([str(state["lead"]), *map(str, state.get("members") or [])])
    except (KeyError, UnknownExpertsError) as exc:
        await ctx.recorder.fail(f"the interrupted team cannot be formed again: {exc}", TEAM_AGENT, "invalid")
        ctx.recorder.publish(ev.TeamDissolved(team_id=team_run_id, status="failed"))
        team_run = {"run_id": team_run_id, "status": "failed"}
        await ctx.store.update_session(ctx.session.session_id, server_state={"team_run": team_run})
        return
    counter = UsageCounter(ctx.llm)
    orchestrator = TeamOrchestrator(
        llm=counter,
        lead=experts[0],
        members=experts[1:],
        task=str(state.get("task") or ""),
        interaction=ctx.run.interaction,
        checkpoints=ctx.checkpoints,
        run_id=team_run_id,
        model=state.get("model"),
        language=ctx.language,
    )
    await _drive(ctx, orchestrator, counter, resume=True)


async def _drive(
    ctx: RunContext, orchestrator: TeamOrchestrator, counter: UsageCounter, *, resume: bool
) -> None:
    recorder = ctx.recorder
    status = "failed"
    synthesis = ""
    team_id = orchestrator.run_id  # a resumed run keeps the id of the run it continues
    try:
        # closing the stream on the way out cancels the phases still running
        async with aclosing(orchestrator.run(resume=resume)) as events:
            async for event in events:
                recorder.publish(event)
                # the synthesis is the run's last model call: its card keeps the run's total
                figures = counter.figures() if isinstance(event, ev.TeamSynthesis) else None
                await store_event(recorder, event, TEAM_AGENT, figures)
                if isinstance(event, ev.TeamSynthesis):
                    synthesis = event.content
                elif isinstance(event, ev.TeamDissolved):
                    status = event.status
                elif isinstance(event, ev.Error):
                    await recorder.persist(ErrorRecord(), event.message, TEAM_AGENT)
    except asyncio.CancelledError:
        status = "cancelled"
        recorder.publish(ev.TeamDissolved(team_id=team_id, status=status))
        raise
    finally:
        if await recorder.owns():  # a run taken over leaves the team's state to the process that has it
            team_run = {"run_id": team_id, "status": status}
            await ctx.store.update_session(ctx.session.session_id, server_state={"team_run": team_run})
    if synthesis or status == "completed":
        answer = synthesis or t("team_no_result", ctx.language)
        await final_answer(recorder, TEAM_AGENT, MessageType.TEAM_FINAL, answer, counter)
