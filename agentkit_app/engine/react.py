"""The ReAct turn: alternate model calls and tool calls until the model answers."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any, Protocol

from agentkit_app.engine import events as ev
from agentkit_app.engine.i18n import t
from agentkit_app.engine.interaction import Interaction
from agentkit_app.engine.llm.base import (
    ChatModel,
    LLMError,
    Message,
    ReasoningDelta,
    TextDelta,
    Tier,
    TierFailed,
    ToolCall,
    ToolCalls,
    UsageInfo,
    log_model_call,
)
from agentkit_app.engine.tools import Tool, ToolContext, ToolRegistry

MAX_RESULT_CHARS = 4_000


@dataclass
class TurnSetup:
    """Everything one turn needs: the model, its tools and where the user's answers come from.

    ``tier`` and ``error_struct`` are read from each model reply's usage chunk (the last reply's
    tier; the structured error of the last emergency answer). With ``fallback`` off the turn takes
    no stand-in answer: it fails with the main model's error where a fallback chain would move on.
    """

    llm: ChatModel
    tools: ToolRegistry
    tool_context: ToolContext
    interaction: Interaction
    model: str | None = None
    language: str = "en"
    max_steps: int = 8
    purpose: str = "chat"
    tier: Tier = "main"
    error_struct: dict[str, Any] | None = None
    fallback: bool = True
    usage: list[dict[str, Any]] = field(default_factory=list)


class StepGate(Protocol):
    """Shapes a ReAct turn step by step: what the model is offered and which calls run.

    Plan-execute uses one to keep each phase to its tools; plain ReAct runs without.
    """

    def offer(self, messages: list[Message]) -> list[dict[str, Any]] | None:
        """Return the tool schemas for the next model call (it may rewrite the system prompt first)."""
        ...

    def screen(self, call: ToolCall) -> tuple[list[ev.Event], str] | None:
        """Return the events and result that answer ``call`` in place of running it, or None to run it."""
        ...

    def carry_on(self, text: str) -> ToolCall | None:
        """Return a call to make for a reply without tool calls, or None to end the turn with it."""
        ...


async def _model_reply(
    setup: TurnSetup, messages: list[Message], tools: list[dict[str, Any]] | None
) -> AsyncIterator[ev.Event | tuple[str, tuple[ToolCall, ...]]]:
    """Stream one model call as events; the last item is ``(text, tool_calls)``."""
    parts: list[str] = []
    calls: tuple[ToolCall, ...] = ()
    usage: UsageInfo | None = None
    started = time.monotonic()
    first: float | None = None
    async with aclosing(setup.llm.stream(messages, tools, setup.model, setup.purpose)) as chunks:
        async for chunk in chunks:
            if isinstance(chunk, TextDelta):
                if first is None:
                    first = time.monotonic() - started
                parts.append(chunk.content)
                yield ev.Token(content=chunk.content)
            elif isinstance(chunk, ReasoningDelta):
                yield ev.Thinking(content=chunk.content)
            elif isinstance(chunk, ToolCalls):
                calls = chunk.calls
            elif isinstance(chunk, TierFailed) and not setup.fallback:
                raise LLMError(chunk.message)  # closing the stream keeps the next tier from being asked
            elif isinstance(chunk, UsageInfo):
                usage = chunk
    if usage is not None:
        setup.tier = usage.tier
        setup.error_struct = usage.error_struct or setup.error_struct
    figures = ev.Usage(
        model=usage.model if usage else (setup.model or setup.llm.label),
        tier=setup.tier,
        prompt_tokens=usage.prompt_tokens if usage else 0,
        completion_tokens=usage.completion_tokens if usage else 0,
        first_token_s=round(first, 3) if first is not None else None,
        total_s=round(time.monotonic() - started, 3),
    )
    log_model_call(setup.purpose, usage, figures.model, first, figures.total_s)
    setup.usage.append(
        {
            k: getattr(figures, k)
            for k in ("model", "tier", "prompt_tokens", "completion_tokens", "first_token_s", "total_s")
        }
    )
    yield figures
    yield ("".join(parts), calls)


async def _run_tool(
    setup: TurnSetup, tool: Tool | None, call: ToolCall, step: int
) -> AsyncIterator[ev.Event | str]:
    """Run one tool call with its confirmation or question; the last item is the result text."""
    try:
        args = json.loads(call.arguments or "{}")
        if not isinstance(args, dict):
            raise ValueError
    except ValueError:
        yield f"error: the arguments of {call.name} are not a JSON object"
        return
    if tool is None:
        yield f"error: there is no tool named {call.name!r}"
        return
    if tool.asks_human:
        request_id = uuid.uuid4().hex
        setup.interaction.expect(request_id)
        yield ev.AskHuman(question=str(args.get("question", "")), request_id=request_id)
        answer = await setup.interaction.ask(request_id)
        yield ev.HumanReply(request_id=request_id, content=answer or "")
        yield answer if answer else t("no_answer", setup.language)
        return
    if tool.dangerous:
        confirmation_id = uuid.uuid4().hex
        setup.interaction.expect(confirmation_id)
        yield ev.ConfirmationRequest(
            confirmation_id=confirmation_id,
            command=tool.describe(args),
            reason=str(args.get("reason") or t("confirm_reason", setup.language)),
            timeout_s=setup.interaction.confirmation_timeout_s,
        )
        approved = await setup.interaction.confirm(confirmation_id)
        yield ev.ConfirmationResult(confirmation_id=confirmation_id, approved=approved)
        if not approved:
            yield t("tool_denied", setup.language)
            return
    assert tool.handler is not None
    try:
        yield await tool.handler(args, setup.tool_context)
    except Exception as exc:  # a broken tool is reported to the model, not fatal to the turn
        yield f"error: {type(exc).__name__}: {str(exc)[:200]}"


async def run_react(
    setup: TurnSetup, messages: list[Message], gate: StepGate | None = None, max_steps: int | None = None
) -> AsyncIterator[ev.Event]:
    """Yield the events of one ReAct turn, ending with ``final_answer``.

    ``messages`` is the conversation in LLM format (system prompt first); it is extended
    in place with the assistant's tool calls and the tool results. A ``gate`` decides per
    step which tools are offered and may answer a call itself; ``max_steps`` overrides
    ``setup.max_steps``.
    """
    step = 0
    schemas = setup.tools.schemas()
    for _ in range(max_steps or setup.max_steps):
        if gate is not None:
            schemas = gate.offer(messages)
        text = ""
        calls: tuple[ToolCall, ...] = ()
        async for item in _model_reply(setup, messages, schemas):
            if isinstance(item, tuple):
                text, calls = item
            else:
                yield item
        if not calls and gate is not None and (implied := gate.carry_on(text)) is not None:
            calls = (implied,)
        if not calls:
            yield ev.FinalAnswer(content=text.strip() or t("empty_answer", setup.language))
            return
        if text.strip():
            yield ev.Thinking(content=text)
        messages.append(
            {
                "role": "assistant",
                "content": text or None,
                "tool_calls": [
                    {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
                    for c in calls
                ],
            }
        )
        for call in calls:
            step += 1
            yield ev.Step(
                event_type="tool_call",
                step=step,
                data={"tool": call.name, "arguments": call.arguments, "call_id": call.id},
            )
            started = time.monotonic()
            result = ""
            screened = gate.screen(call) if gate is not None else None
            if screened is not None:
                gate_events, result = screened
                for event in gate_events:
                    yield event
            else:
                async for out in _run_tool(setup, setup.tools.get(call.name), call, step):
                    if isinstance(out, str):
                        result = out
                    else:
                        yield out
            yield ev.Step(
                event_type="tool_result",
                step=step,
                data={
                    "tool": call.name,
                    "call_id": call.id,
                    "result": result[:MAX_RESULT_CHARS],
                    "duration_s": round(time.monotonic() - started, 3),
                },
            )
            messages.append({"role": "tool", "tool_call_id": call.id, "content": result})
    yield ev.FinalAnswer(content=t("step_limit", setup.language, n=step))


async def run_direct(setup: TurnSetup, messages: list[Message]) -> AsyncIterator[ev.Event]:
    """Yield the events of a direct chat: one model call, no tools."""
    yield ev.Step(event_type="direct_chat", step=0, data={})
    text = ""
    async for item in _model_reply(setup, messages, None):
        if isinstance(item, tuple):
            text = item[0]
        else:
            yield item
    yield ev.FinalAnswer(content=text.strip() or t("empty_answer", setup.language))
