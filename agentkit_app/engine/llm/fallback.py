"""The fallback chain: the main model, then a recovery model, then a fixed emergency answer.

Which tier answered is reported per call, not kept on the model (one model serves many
concurrent turns): the caller hands :meth:`FallbackModel.stream` a :class:`FallbackOutcome`
and reads it once the stream is done::

    outcome = llm.new_outcome()
    async for chunk in llm.stream(messages, tools, model, purpose, outcome=outcome):
        ...
    outcome.tier           # "main" | "recovery" | "emergency"
    outcome.error_struct   # None, or {"tier", "errors", "code": "llm_unavailable"} for emergency
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Literal

from agentkit_app.engine.llm.base import (
    ChatModel,
    Chunk,
    LLMError,
    Message,
    TextDelta,
    ToolCalls,
    UsageInfo,
)

Tier = Literal["main", "recovery", "emergency"]
_RANK: dict[str, int] = {"main": 0, "recovery": 1, "emergency": 2}
EMERGENCY_MODEL = "emergency"


@dataclass
class TierError:
    """Why one tier of the chain failed."""

    tier: Tier
    message: str


@dataclass
class FallbackOutcome:
    """What happened in one call of the chain (or in several, if the caller reuses it).

    ``tier`` names the tier that answered. Reused across calls it keeps the worst tier seen,
    and ``errors`` collects the failures of every call, in order.
    """

    tier: Tier = "main"
    errors: list[TierError] = field(default_factory=list)

    def reached(self, tier: Tier) -> None:
        """Record that the chain has moved on to ``tier``."""
        if _RANK[tier] > _RANK[self.tier]:
            self.tier = tier

    @property
    def error_struct(self) -> dict[str, Any] | None:
        """Return the structured error for transports when the emergency tier answered, else None."""
        if self.tier != "emergency":
            return None
        return {
            "tier": self.tier,
            "errors": [{"tier": e.tier, "message": e.message} for e in self.errors],
            "code": "llm_unavailable",
        }


class FallbackModel:
    """A chat model that falls back from ``main`` to ``recovery`` to a fixed apology.

    A tier that fails before it has sent any answer text or tool calls hands over to the next
    one; reasoning it streamed stays with the caller. A tier that fails after sending answer
    text re-raises its :class:`LLMError`, because splicing two models' answers would garble the
    reply. The recovery model is asked with its own default model, not the one the caller
    named, since it exists to be a different model or simpler settings.
    """

    def __init__(self, main: ChatModel, recovery: ChatModel | None, emergency_text: str) -> None:
        """Create the chain.

        Args:
            main: The model that normally answers.
            recovery: The model tried when main fails, or None to go straight to the apology.
            emergency_text: The apology streamed when no model could answer.
        """
        self.main = main
        self.recovery = recovery
        self.emergency_text = emergency_text
        self.label = main.label

    def new_outcome(self) -> FallbackOutcome:
        """Return an empty outcome to pass to :meth:`stream`."""
        return FallbackOutcome()

    async def stream(
        self,
        messages: list[Message],
        tools: list[dict[str, Any]] | None = None,
        model: str | None = None,
        purpose: str = "chat",
        *,
        outcome: FallbackOutcome | None = None,
    ) -> AsyncIterator[Chunk]:
        """Yield the reply of the first tier that answers, recording the tier in ``outcome``.

        Args:
            messages: The conversation in OpenAI message format.
            tools: Tool schemas, or None for a plain answer.
            model: The model the main tier is asked for; None for its default.
            purpose: What the engine asks for, passed on to each model.
            outcome: Filled in with the answering tier and the failures; pass one to read them.

        Raises:
            LLMError: A tier failed after it had already streamed answer text or tool calls.
        """
        outcome = outcome if outcome is not None else FallbackOutcome()
        tiers: list[tuple[Tier, ChatModel, str | None]] = [("main", self.main, model)]
        if self.recovery is not None:
            tiers.append(("recovery", self.recovery, None))
        for tier, llm, tier_model in tiers:
            outcome.reached(tier)
            answered = False
            chunks = llm.stream(messages, tools, tier_model, purpose)
            try:
                async for chunk in chunks:
                    answered = answered or isinstance(chunk, TextDelta | ToolCalls)
                    yield chunk
                return
            except LLMError as exc:
                outcome.errors.append(TierError(tier, str(exc)))
                if answered:
                    raise
            finally:
                # Closes the tier's stream (and its HTTP response) at once when the caller stops early.
                close = getattr(chunks, "aclose", None)
                if close is not None:
                    await close()
        outcome.reached("emergency")
        yield TextDelta(self.emergency_text)
        yield UsageInfo(prompt_tokens=0, completion_tokens=0, model=EMERGENCY_MODEL)
