"""The fallback chain: the main model, then a recovery model, then a fixed emergency answer.

The chain is a plain :class:`~agentkit_app.engine.llm.base.ChatModel`: which tier answered
travels on the reply itself, not on the model (one model serves many concurrent turns). Each
tier that fails before answering is announced with a :class:`TierFailed` chunk, and the reply's
closing :class:`UsageInfo` carries the answering tier::

    async for chunk in llm.stream(messages, tools, model, purpose):
        ...
    usage.tier           # "main" | "recovery" | "emergency"
    usage.error_struct   # None, or {"tier", "errors", "code": "llm_unavailable"} for emergency
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import replace
from typing import Any

from agentkit_app.engine.llm.base import (
    ChatModel,
    Chunk,
    LLMError,
    Message,
    TextDelta,
    Tier,
    TierFailed,
    ToolCalls,
    UsageInfo,
)

EMERGENCY_MODEL = "emergency"


def emergency_error(failures: list[TierFailed]) -> dict[str, Any]:
    """Return the structured error transports pass on when the emergency tier answered."""
    return {
        "tier": "emergency",
        "errors": [{"tier": f.tier, "message": f.message} for f in failures],
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

    async def stream(
        self,
        messages: list[Message],
        tools: list[dict[str, Any]] | None = None,
        model: str | None = None,
        purpose: str = "chat",
    ) -> AsyncGenerator[Chunk, None]:
        """Yield the reply of the first tier that answers; its closing usage chunk names the tier.

        Args:
            messages: The conversation in OpenAI message format.
            tools: Tool schemas, or None for a plain answer.
            model: The model the main tier is asked for; None for its default.
            purpose: What the engine asks for, passed on to each model.

        Raises:
            LLMError: A tier failed after it had already streamed answer text or tool calls.
        """
        tiers: list[tuple[Tier, ChatModel, str | None]] = [("main", self.main, model)]
        if self.recovery is not None:
            tiers.append(("recovery", self.recovery, None))
        failures: list[TierFailed] = []
        for tier, llm, tier_model in tiers:
            answered = usage_seen = False
            failure: TierFailed | None = None
            chunks = llm.stream(messages, tools, tier_model, purpose)
            try:
                async for chunk in chunks:
                    answered = answered or isinstance(chunk, TextDelta | ToolCalls)
                    if isinstance(chunk, UsageInfo):
                        usage_seen = True
                        # the main tier's figures pass as they are; a stand-in's are labelled with its tier
                        chunk = chunk if tier == "main" else replace(chunk, tier=tier)
                    yield chunk
            except LLMError as exc:
                if answered:
                    raise
                failure = TierFailed(tier, str(exc))
            finally:
                # Closes the tier's stream (and its HTTP response) at once when the caller stops early.
                await chunks.aclose()
            if failure is None:
                if not usage_seen and tier != "main":
                    yield UsageInfo(prompt_tokens=0, completion_tokens=0, model=llm.label, tier=tier)
                return
            failures.append(failure)
            # announced before the next tier is asked, so a caller that takes no stand-in can stop here
            yield failure
        yield TextDelta(self.emergency_text)
        yield UsageInfo(
            prompt_tokens=0,
            completion_tokens=0,
            model=EMERGENCY_MODEL,
            tier="emergency",
            error_struct=emergency_error(failures),
        )
