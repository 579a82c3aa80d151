"""The one chat-model interface every provider implements, and its chunk types."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Protocol

Message = dict[str, Any]


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
    """Token figures of this model reply."""

    prompt_tokens: int
    completion_tokens: int
    model: str


Chunk = TextDelta | ReasoningDelta | ToolCalls | UsageInfo


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
    ) -> AsyncIterator[Chunk]:
        """Yield the reply as chunks; raise :class:`LLMError` on failure."""
        ...


async def text_deltas(
    llm: ChatModel, messages: list[Message], model: str | None = None, purpose: str = "chat"
) -> AsyncIterator[str]:
    """Yield the text pieces of one model reply without tools."""
    async for chunk in llm.stream(messages, None, model, purpose):
        if isinstance(chunk, TextDelta) and chunk.content:
            yield chunk.content


async def complete(
    llm: ChatModel, messages: list[Message], model: str | None = None, purpose: str = "chat"
) -> str:
    """Return the whole text of one model reply without tools."""
    return "".join([piece async for piece in text_deltas(llm, messages, model, purpose)])
