from __future__ import annotations

import socket
from collections.abc import AsyncGenerator
from typing import Any

import pytest

from agentkit_app.engine.llm.base import (
    Chunk,
    LLMError,
    Message,
    ReasoningDelta,
    TextDelta,
    TierFailed,
    ToolCalls,
    UsageInfo,
    complete,
)
from agentkit_app.engine.llm.fallback import FallbackModel
from agentkit_app.engine.llm.openai_compat import OpenAICompatibleModel
from agentkit_app.engine.llm.scripted import Reply, ScriptedModel
from tests.engine.llm.conftest import API_KEY, FakeOpenAI, SseReply, chunk, usage_chunk

MESSAGES = [{"role": "user", "content": "What is six times seven?"}]
SORRY = "The model service is unavailable right now; please try again later."


class BreaksMidway:
    """A model that streams some chunks and then fails, as a dropped connection would."""

    label = "breaks-midway"

    def __init__(self, *before: Chunk) -> None:
        self.before = before
        self.closed = False

    async def stream(
        self,
        messages: list[Message],
        tools: list[dict[str, Any]] | None = None,
        model: str | None = None,
        purpose: str = "chat",
    ) -> AsyncGenerator[Chunk, None]:
        try:
            for item in self.before:
                yield item
            raise LLMError("model endpoint closed the stream early")
        finally:
            self.closed = True


async def run(llm: FallbackModel, model: str | None = None) -> tuple[str, list[Chunk], UsageInfo]:
    """Return the reply's text, its chunks and its closing usage chunk, which names the tier."""
    chunks = [c async for c in llm.stream(MESSAGES, None, model, "chat")]
    assert isinstance(chunks[-1], UsageInfo), "every reply ends with its usage"
    return "".join(c.content for c in chunks if isinstance(c, TextDelta)), chunks, chunks[-1]


def failures(chunks: list[Chunk]) -> list[TierFailed]:
    return [c for c in chunks if isinstance(c, TierFailed)]


async def test_the_main_model_answers_when_it_works():
    main, recovery = ScriptedModel(["It is 42."]), ScriptedModel(["unused"])

    text, chunks, usage = await run(FallbackModel(main, recovery, SORRY), model="big-model")

    assert text == "It is 42."
    assert usage.tier == "main" and failures(chunks) == [] and usage.error_struct is None
    assert main.calls[0].model == "big-model" and recovery.calls == []


async def test_the_recovery_model_answers_when_main_fails_before_answering():
    main = ScriptedModel([Reply(error="model endpoint timed out after 60s")])
    recovery = ScriptedModel([Reply("It is 42.", tool_calls=[("calculator", {"expression": "6*7"})])])

    text, chunks, usage = await run(FallbackModel(main, recovery, SORRY), model="big-model")

    assert text == "It is 42."
    assert any(isinstance(c, ToolCalls) for c in chunks)
    assert usage.tier == "recovery"
    assert failures(chunks) == [TierFailed("main", "model endpoint timed out after 60s")]
    assert chunks[0] == TierFailed("main", "model endpoint timed out after 60s"), "announced before recovery"
    assert usage.error_struct is None
    assert recovery.calls[0].model is None
    assert recovery.calls[0].messages == MESSAGES


async def test_the_emergency_tier_apologises_with_a_structured_error_when_both_fail():
    main = ScriptedModel([Reply(error="model endpoint unreachable: api.example.com (connection refused)")])
    recovery = ScriptedModel([Reply(error="model endpoint error 503: overloaded")])

    text, chunks, usage = await run(FallbackModel(main, recovery, SORRY))

    assert text == SORRY
    assert (usage.prompt_tokens, usage.completion_tokens, usage.model) == (0, 0, "emergency")
    assert usage.tier == "emergency"
    assert usage.error_struct == {
        "tier": "emergency",
        "errors": [
            {"tier": "main", "message": "model endpoint unreachable: api.example.com (connection refused)"},
            {"tier": "recovery", "message": "model endpoint error 503: overloaded"},
        ],
        "code": "llm_unavailable",
    }


async def test_without_a_recovery_model_the_chain_goes_straight_to_the_apology():
    main = ScriptedModel([Reply(error="model endpoint rejected the API key")])

    text, _, usage = await run(FallbackModel(main, None, SORRY))

    assert text == SORRY
    assert usage.error_struct == {
        "tier": "emergency",
        "errors": [{"tier": "main", "message": "model endpoint rejected the API key"}],
        "code": "llm_unavailable",
    }


async def test_a_failure_after_answer_text_is_raised_not_spliced_with_another_answer():
    main = BreaksMidway(TextDelta("It is"))
    recovery = ScriptedModel(["A different answer."])
    llm = FallbackModel(main, recovery, SORRY)
    seen: list[Chunk] = []

    with pytest.raises(LLMError, match="closed the stream early"):
        async for c in llm.stream(MESSAGES):
            seen.append(c)

    assert seen == [TextDelta("It is")], "no tier change, no usage: the main model's reply just broke off"
    assert recovery.calls == []


async def test_reasoning_alone_does_not_stop_the_chain_from_falling_back():
    main = BreaksMidway(ReasoningDelta("Let me think."))
    llm = FallbackModel(main, ScriptedModel(["It is 42."]), SORRY)

    text, chunks, usage = await run(llm)

    assert chunks[0] == ReasoningDelta("Let me think.")
    assert text == "It is 42." and usage.tier == "recovery"


async def test_the_chain_is_a_plain_chat_model():
    llm = FallbackModel(ScriptedModel([Reply(error="down")]), None, SORRY)

    assert llm.label == "scripted"
    assert await complete(llm, MESSAGES) == SORRY


async def test_each_call_reports_its_own_tier():
    main = ScriptedModel([Reply(error="down"), "It is 42."])
    llm = FallbackModel(main, ScriptedModel(["Recovered."]), SORRY)

    first, first_chunks, first_usage = await run(llm)
    second, second_chunks, second_usage = await run(llm)

    assert (first, first_usage.tier, failures(first_chunks)) == (
        "Recovered.",
        "recovery",
        [TierFailed("main", "down")],
    )
    assert (second, second_usage.tier, failures(second_chunks)) == ("It is 42.", "main", [])


async def test_a_stand_in_that_reports_no_usage_still_names_its_tier():
    class Quiet:
        label = "quiet"

        async def stream(self, messages, tools=None, model=None, purpose="chat"):
            yield TextDelta("Recovered.")

    llm = FallbackModel(ScriptedModel([Reply(error="down")]), Quiet(), SORRY)

    text, _, usage = await run(llm)

    assert text == "Recovered."
    assert usage == UsageInfo(prompt_tokens=0, completion_tokens=0, model="quiet", tier="recovery")


async def test_closing_the_reply_at_the_tier_change_keeps_the_next_tier_from_being_asked():
    recovery = ScriptedModel(["Recovered."])
    stream = FallbackModel(ScriptedModel([Reply(error="down")]), recovery, SORRY).stream(MESSAGES)

    assert await anext(stream) == TierFailed("main", "down")
    await stream.aclose()

    assert recovery.calls == []


async def test_stopping_early_closes_the_answering_model_stream():
    main = BreaksMidway(TextDelta("one"), TextDelta("two"))
    stream = FallbackModel(main, None, SORRY).stream(MESSAGES)

    assert await anext(stream) == TextDelta("one")
    await stream.aclose()

    assert main.closed


async def test_over_the_wire_an_unreachable_main_endpoint_falls_back_to_the_recovery_endpoint(
    fake_openai: FakeOpenAI,
):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    fake_openai.push(SseReply([chunk(content="It is "), chunk(content="42."), usage_chunk(9, 4)]))
    main = OpenAICompatibleModel(f"http://127.0.0.1:{closed}/v1", API_KEY, "big-model", 2.0)
    recovery = OpenAICompatibleModel(fake_openai.base_url, API_KEY, "small-model", 2.0, label="recovery")

    text, chunks, usage = await run(FallbackModel(main, recovery, SORRY), model="big-model")

    assert text == "It is 42."
    assert fake_openai.requests[0].body["model"] == "small-model"
    assert usage.tier == "recovery" and (usage.prompt_tokens, usage.completion_tokens) == (9, 4)
    assert failures(chunks) == [
        TierFailed("main", "model endpoint unreachable: 127.0.0.1 (connection refused)")
    ]
