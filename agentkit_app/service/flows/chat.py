"""A chat turn as a flow: skill, greeting, plan-execute or ReAct; the question and answer stored,
the new conversation titled."""

from __future__ import annotations

import asyncio
from contextlib import aclosing
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from agentkit_app.engine import events as ev
from agentkit_app.engine.llm.base import LLMError, TextDelta, UsageInfo
from agentkit_app.engine.plan_exec import PhasePolicyError, parse_phase_policy, run_plan_exec
from agentkit_app.engine.react import TurnSetup, run_direct, run_react
from agentkit_app.engine.routing import UnknownSkillError, choose_skill, is_greeting
from agentkit_app.store.records import ChatAnswer, Usage, UserTurn, dump_record
from agentkit_app.store.sessions import CHAT_HISTORY_LIMIT, text_for_model

if TYPE_CHECKING:
    from agentkit_app.engine.routing import SkillChoice
    from agentkit_app.engine.tools import ToolRegistry
    from agentkit_app.service.flows.context import RunContext
    from agentkit_app.service.turns import TurnRequest


def _setup(ctx: RunContext, tools: ToolRegistry) -> TurnSetup:
    request = ctx.request
    context = ctx.config.tool_context.for_session(request.session_id)
    reader = request.principal.owner_filter if request.principal else None
    if reader is not None:  # a regular user's agent opens only that user's files
        context = replace(context, may_read=ctx.uploads.readable_by(reader))
    if request.principal is not None and not request.principal.shell_allowed:
        # no sandbox in the context either: the shell refuses even if a skill's tool list offers it
        context = replace(context, sandbox=None)
    return TurnSetup(
        llm=ctx.llm,
        tools=tools.usable(context),
        tool_context=context,
        interaction=ctx.run.interaction,
        model=request.model,
        language=ctx.language,
    )


async def run(ctx: RunContext) -> None:
    """Answer a chat message by skill, greeting, plan-execute or ReAct; store question and answer."""
    session, request, text, recorder = ctx.session, ctx.request, ctx.text, ctx.recorder
    agent = ctx.catalog.agent(session.agent_name) or next(iter(ctx.catalog.agents.values()))
    system_prompt, tools = agent.system_prompt, ctx.tools.only(agent.tools)
    try:
        skill = choose_skill(text, ctx.catalog.skills)
    except UnknownSkillError as exc:
        await recorder.persist_input(_user_turn(request), text)
        await recorder.fail(str(exc), agent.name, "invalid")
        return
    stored_text = skill.content if skill and skill.content else text
    setup = _setup(ctx, tools)
    if skill:
        recorder.publish(
            ev.SkillMatch(skill=skill.skill.name, method=skill.method, confidence=skill.confidence)
        )
        system_prompt = skill.skill.prompt
        setup.tools = ctx.tools.only(skill.skill.tools).usable(setup.tool_context)
        setup.model = request.model or skill.skill.model
    setup.model = setup.model or agent.model
    history = await _history(ctx, None if request.regenerate else _user_turn(request, skill), stored_text)
    messages = [{"role": "system", "content": system_prompt}, *history]
    direct = skill is None and is_greeting(stored_text)
    if direct:
        engine = run_direct(setup, messages)
    elif skill is None and request.execution_mode == "plan_exec" and ctx.config.plan_exec_enabled:
        try:
            policy = parse_phase_policy(ctx.config.plan_exec_policy, ctx.tools.names())
        except PhasePolicyError as exc:
            await recorder.fail(str(exc), agent.name, "invalid")
            return
        engine = run_plan_exec(setup, messages, policy)
    else:
        engine = run_react(setup, messages)
    partial: list[str] = []
    steps: list[dict[str, Any]] = []
    phases: list[str] = []
    try:
        async for event in engine:
            if isinstance(event, ev.PhaseChanged):
                phases.append(event.phase)
            elif isinstance(event, ev.Token):
                partial.append(event.content)
            elif isinstance(event, ev.Thinking) and partial:
                partial.clear()
            elif isinstance(event, ev.Step) and event.event_type in ("tool_call", "tool_result"):
                steps.append({"event_type": event.event_type, "step": event.step, **event.data})
            if isinstance(event, ev.FinalAnswer):
                answer = _answer(setup, agent.name, steps, skill.skill.name if skill else None, phases)
                stored = await recorder.persist(answer, event.content, agent.name)
                message_id = stored.message_id if stored else None
                event = replace(event, metadata={**dump_record(answer), "message_id": message_id})
            recorder.publish(event)
    except asyncio.CancelledError:
        text_so_far = "".join(partial).strip()
        cancelled = _answer(setup, agent.name, steps, None, phases).model_copy(update={"cancelled": True})
        await recorder.persist(cancelled, text_so_far, agent.name)
        raise
    except LLMError as exc:
        await recorder.fail(str(exc), agent.name, "llm")
        return
    if partial or steps:
        await name_session(ctx, stored_text, "".join(partial), setup.model)


async def _history(ctx: RunContext, question: UserTurn | None, text: str) -> list[dict[str, str]]:
    """Return the chat the model reads, ending with the ``question`` asked (None: the stored one is answered again).

    The question is stored while the model is asked, not before it: turns that start together then
    reach the model sooner, and the answer is stored after it all the same (:meth:`Recorder.persist`).
    """
    try:
        history = ctx.history
        if history is None:
            history = await ctx.store.get_chat_messages(ctx.session.session_id)
    finally:  # kept even if the run is stopped meanwhile
        if question is not None:
            ctx.recorder.persist_input_soon(question, text)
    if question is None:
        return history
    return [*history, {"role": "user", "content": text_for_model(text, question)}][-CHAT_HISTORY_LIMIT:]


async def name_session(ctx: RunContext, question: str, answer: str, model: str | None) -> None:
    """Title a new conversation from its first exchange, once; a name the user gave is never replaced."""
    session_id = ctx.session.session_id
    session = await ctx.store.get_session(session_id)
    if session is None or session.server_state.get("title_source"):
        return
    prompt = [
        {"role": "system", "content": "Write a title of at most six words for this conversation, in its language. "
                                      "Reply with the title only, without quotes."},
        {"role": "user", "content": f"User: {question[:1000]}\nAssistant: {answer[:1000]}"},
    ]  # fmt: skip
    parts: list[str] = []
    try:
        async with aclosing(ctx.llm.stream(prompt, None, model, "title")) as chunks:
            async for chunk in chunks:
                if isinstance(chunk, TextDelta):
                    parts.append(chunk.content)
                elif isinstance(chunk, UsageInfo) and chunk.tier == "emergency":  # the apology is no title
                    return
    except LLMError:
        return
    lines = "".join(parts).strip().splitlines()
    title = lines[0].strip().strip("\"'“”「」*#").strip() if lines else ""
    if title:
        await ctx.store.update_session(session_id, title=title, server_state={"title_source": "model"})


def _user_turn(request: TurnRequest, skill: SkillChoice | None = None) -> UserTurn:
    return UserTurn(
        attachments=request.attachments or None,
        model=request.model or None,
        skill=skill.skill.name if skill is not None else None,
        execution_mode=request.execution_mode if request.execution_mode == "plan_exec" else None,
    )


def _answer(
    setup: TurnSetup,
    agent_name: str,
    steps: list[dict[str, Any]],
    skill: str | None,
    phases: list[str] | None = None,
) -> ChatAnswer:
    usage = setup.usage
    return ChatAnswer(
        agent_name=agent_name,
        model=usage[-1]["model"] if usage else (setup.model or setup.llm.label),
        model_label=setup.llm.label,
        tier=setup.tier,
        fallback_status=setup.tier,
        usage=Usage(
            prompt_tokens=sum(u["prompt_tokens"] for u in usage),
            completion_tokens=sum(u["completion_tokens"] for u in usage),
            first_token_s=next((u["first_token_s"] for u in usage if u["first_token_s"] is not None), None),
            total_s=round(sum(u["total_s"] for u in usage), 3),
            calls=len(usage),
        ),
        steps=steps,
        skill=skill or None,
        execution_mode="plan_exec" if phases else None,
        phases=list(phases) if phases else None,
        error_struct=setup.error_struct or None,
    )
