"""The one chat-model interface every provider implements, and its chunk types.

Every reply that ends normally ends with one :class:`UsageInfo`, and that chunk says which tier
of a fallback chain answered: a plain model is its own main tier, so it reports ``"main"``; a
:class:`~agentkit_app.engine.llm.fallback.FallbackModel` reports ``"recovery"`` or
``"emergency"`` (with a structured error) when it had to stand in. A chain that moves on from a
failed tier says so first with a :class:`TierFailed` chunk, so a caller that takes no stand-in
answer can stop the reply there.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any, Literal, Protocol

Message = dict[str, Any]
Tier = Literal["main", "recovery", "emergency"]
TIERS: tuple[Tier, ...] = ("main", "recovery", "emergency")  # in the order a fallback chain moves down

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A complete tool call requested by the model; ``arguments`` is a JSON string."""

    id: str
    name: str
    arguments: str


@dataclass(frozen=True, slots=True)
class TextDelta:
    """A piece of answer text."""

    content: str


@dataclass(frozen=True, slots=True)
class ReasoningDelta:
    """A piece of reasoning text (models that stream it separately)."""

    content: str


@dataclass(frozen=True, slots=True)
class ToolCalls:
    """The tool calls of this model reply, assembled from their deltas."""

    calls: tuple[ToolCall, ...]


@dataclass(frozen=True, slots=True)
class UsageInfo:
    """Token figures of this model reply, and the tier that gave it; the last chunk of a reply.

    ``error_struct`` is set only when the emergency tier answered: ``{"tier", "errors", "code"}``
    with the failure of every tier before it, for transports to pass on.
    """

    prompt_tokens: int
    completion_tokens: int
    model: str
    tier: Tier = "main"
    error_struct: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class TierFailed:
    """A tier of a fallback chain failed before answering, and the chain moves on to the next tier."""

    tier: Tier
    message: str


Chunk = TextDelta | ReasoningDelta | ToolCalls | TierFailed | UsageInfo


class LLMError(Exception):
    """A model call failed; the message is short and safe to show to a user."""


class ChatModel(Protocol):
    """Anything that streams a chat completion.

    ``purpose`` names what the engine asks for (``chat``, ``board.speech``, ``team.plan`` ...);
    real endpoints ignore it, the offline demo and scripted models use it to answer in kind.
    """

    label: str

    def stream(
        self,
        messages: list[Message],
        tools: list[dict[str, Any]] | None = None,
        model: str | None = None,
        purpose: str = "chat",
    ) -> AsyncGenerator[Chunk, None]:
        """Yield the reply as chunks, ending with :class:`UsageInfo`; raise :class:`LLMError` on failure.

        A caller that stops early closes the generator, which closes the provider's connection.
        """
        ...


async def text_deltas(
    llm: ChatModel, messages: list[Message], model: str | None = None, purpose: str = "chat"
) -> AsyncIterator[str]:
    """Yield the text pieces of one model reply without tools."""
    async with aclosing(llm.stream(messages, None, model, purpose)) as chunks:
        async for chunk in chunks:
            if isinstance(chunk, TextDelta) and chunk.content:
                yield chunk.content


async def complete(
    llm: ChatModel, messages: list[Message], model: str | None = None, purpose: str = "chat"
) -> str:
    """Return the whole text of one model reply without tools."""
    return "".join([piece async for piece in text_deltas(llm, messages, model, purpose)])


def log_model_call(
    purpose: str, usage: UsageInfo | None, model: str, first_token_s: float | None, total_s: float
) -> None:
    """Log one model call at INFO: what it was for, model, tier, tokens in and out, time to first token and total.

    No prompt or answer text: the ids of the request and run come from the logging context.
    """
    log.info(
        "model call",
        extra={
            "purpose": purpose,
            "model": usage.model if usage is not None else model,
            "tier": usage.tier if usage is not None else "main",
            "prompt_tokens": usage.prompt_tokens if usage is not None else 0,
            "completion_tokens": usage.completion_tokens if usage is not None else 0,
            "first_token_s": None if first_token_s is None else round(first_token_s, 3),
            "total_s": round(total_s, 3),
        },
    )
