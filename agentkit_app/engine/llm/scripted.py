"""A scripted model for tests: canned replies, tool calls, delays and failures, no network."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass, field
from typing import Any

from agentkit_app.engine.llm.base import (
    Chunk,
    LLMError,
    Message,
    TextDelta,
    ToolCall,
    ToolCalls,
    UsageInfo,
)


@dataclass
class Reply:
    """One canned model reply: text streamed word by word, then optional tool calls."""

    text: str = ""
    tool_calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    delay: float = 0.0
    error: str | None = None


@dataclass
class Call:
    """What the engine sent in one model call."""

    messages: list[Message]
    tools: list[dict[str, Any]] | None
    model: str | None
    purpose: str


Script = list[Reply | str] | Callable[[Call], Reply | str]


class ScriptedModel:
    """Answers from a queue of replies, or from a function of the call (for concurrent callers)."""

    label = "scripted"

    def __init__(self, script: Script) -> None:
        self._script = script
        self._queue = list(script) if isinstance(script, list) else None
        self._ids = itertools.count(1)
        self.calls: list[Call] = []

    def _next(self, call: Call) -> Reply:
        if self._queue is None:
            reply = self._script(call)  # type: ignore[operator]
        elif self._queue:
            reply = self._queue.pop(0)
        else:
            raise LLMError("scripted model has no reply left")
        return Reply(text=reply) if isinstance(reply, str) else reply

    async def stream(
        self,
        messages: list[Message],
        tools: list[dict[str, Any]] | None = None,
        model: str | None = None,
        purpose: str = "chat",
    ) -> AsyncGenerator[Chunk, None]:
        """Yield the next scripted reply as chunks."""
        call = Call([dict(m) for m in messages], tools, model, purpose)
        self.calls.append(call)
        reply = self._next(call)
        if reply.error:
            if reply.delay:
                await asyncio.sleep(reply.delay)
            raise LLMError(reply.error)
        words = reply.text.split(" ") if reply.text else []
        for i, word in enumerate(words):
            if reply.delay:
                await asyncio.sleep(reply.delay)
            yield TextDelta(word if i == 0 else " " + word)
        if reply.tool_calls:
            yield ToolCalls(
                tuple(
                    ToolCall(f"call_{next(self._ids)}", name, json.dumps(args))
                    for name, args in reply.tool_calls
                )
            )
        yield UsageInfo(
            prompt_tokens=sum(len(str(m.get("content") or "")) // 4 for m in messages),
            completion_tokens=len(words),
            model=model or "scripted",
        )
