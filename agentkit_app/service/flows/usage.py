"""Adding up the usage of every model call of a board meeting or a team run."""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any

from agentkit_app.engine.llm.base import (
    TIERS,
    ChatModel,
    Chunk,
    Message,
    TextDelta,
    Tier,
    UsageInfo,
    log_model_call,
)
from agentkit_app.store.records import Usage, UsageFields


@dataclass
class _CallFigures:
    first_token_s: float | None = None
    total_s: float = 0.0
    usage: UsageInfo | None = None


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
                        figures.usage = chunk
                        self._count(chunk)
                    yield chunk
        finally:
            figures.total_s = time.monotonic() - started
            log_model_call(
                purpose, figures.usage, model or self.label, figures.first_token_s, figures.total_s
            )

    def _count(self, usage: UsageInfo) -> None:
        self.prompt_tokens += usage.prompt_tokens
        self.completion_tokens += usage.completion_tokens
        self.model = usage.model or self.model
        if TIERS.index(usage.tier) > TIERS.index(self.tier):
            self.tier = usage.tier
        self.error_struct = usage.error_struct or self.error_struct

    def figures(self) -> UsageFields:
        """Return the run's ``model``, ``tier`` and ``usage`` as chat answers store them.

        ``total_s`` adds up the time of every call, so calls that ran side by side count each;
        ``error_struct`` is there only if an emergency apology stood in for one of them.
        """
        first_tokens = [c.first_token_s for c in self._calls if c.first_token_s is not None]
        return UsageFields(
            model=self.model or self.label,
            tier=self.tier,
            fallback_status=self.tier,
            usage=Usage(
                prompt_tokens=self.prompt_tokens,
                completion_tokens=self.completion_tokens,
                first_token_s=first_tokens[0] if first_tokens else None,
                total_s=round(sum(c.total_s for c in self._calls), 3),
                calls=len(self._calls),
            ),
            error_struct=self.error_struct or None,
        )
