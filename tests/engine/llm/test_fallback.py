from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest

from agentkit_app.engine.llm.base import (
    Chunk,
    LLMError,
    Message,
    ReasoningDelta,
    TextDelta,
    ToolCalls,
    UsageInfo,
    complete,
)
from agentkit_app.engine.llm.fallback import FallbackModel, FallbackOutcome, TierError
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
    ) -> AsyncIterator[Chunk]:
        try:
            for item in self.before:
                yield item
            raise LLMError("model endpoint closed the stream early")
        finally:
            self.closed = True


async def run(llm: FallbackModel, model: str | None = None) -> tuple[str, list[Chunk], FallbackOutcome]:
    outcome = llm.new_outcome()
    chunks = [c async for c in llm.stream(MESSAGES, None, model, "chat", outcome=outcome)]
    return "".join(c.content for c in chunks if isinstance(c, TextDelta)), chunks, outcome


async def test_the_main_model_answers_when_it_works():
    main, recovery = ScriptedModel(["It is 42."]), ScriptedModel(["unused"])

    text, _, outcome = await run(FallbackModel(main, recovery, SORRY), model="big-model")

    assert text == "It is 42."
    assert outcome.tier == "main" and outcome.errors == [] and outcome.error_struct is None
    assert main.calls[0].model == "big-model" and recovery.calls == []


async def test_the_recovery_model_answers_when_main_fails_before_answering():
    main = ScriptedModel([Reply(error="model endpoint timed out after 60s")])
    recovery = ScriptedModel([Reply("It is 42.", tool_calls=[("calculator", {"expression": "6*7"})])])

    text, chunks, outcome = await run(FallbackModel(main, recovery, SORRY), model="big-model")

    assert text == "It is 42."
    assert any(isinstance(c, ToolCalls) for c in chunks)
    assert outcome.tier == "recovery"
    assert outcome.errors == [TierError("main", "model endpoint timed out after 60s")]
    assert outcome.error_struct is None
    assert recovery.calls[0].model is None
    assert recovery.calls[0].messages == MESSAGES


async def test_the_emergency_tier_apologises_with_a_structured_error_when_both_fail():
    main = ScriptedModel([Reply(error="model endpoint unreachable: api.example.com (connection refused)")])
    recovery = ScriptedModel([Reply(error="model endpoint error 503: overloaded")])

    text, chunks, outcome = await run(FallbackModel(main, recovery, SORRY))

    assert text == SORRY
    assert chunks[-1] == UsageInfo(prompt_tokens=0, completion_tokens=0, model="emergency")
    assert outcome.tier == "emergency"
    assert outcome.error_struct == {
        "tier": "emergency",
        "errors": [
            {"tier": "main", "message": "model endpoint unreachable: api.example.com (connection refused)"},
            {"tier": "recovery", "message": "model endpoint error 503: overloaded"},
        ],
        "code": "llm_unavailable",
    }


async def test_without_a_recovery_model_the_chain_goes_straight_to_the_apology():
    main = ScriptedModel([Reply(error="model endpoint rejected the API key")])

    text, _, outcome = await run(FallbackModel(main, None, SORRY))

    assert text == SORRY
    assert outcome.error_struct == {
        "tier": "emergency",
        "errors": [{"tier": "main", "message": "model endpoint rejected the API key"}],
        "code": "llm_unavailable",
    }


async def test_a_failure_after_answer_text_is_raised_not_spliced_with_another_answer():
    main = BreaksMidway(TextDelta("It is"))
    recovery = ScriptedModel(["A different answer."])
    llm = FallbackModel(main, recovery, SORRY)
    outcome = llm.new_outcome()
    seen: list[Chunk] = []

    with pytest.raises(LLMError, match="closed the stream early"):
        async for c in llm.stream(MESSAGES, outcome=outcome):
            seen.append(c)

    assert seen == [TextDelta("It is")]
    assert recovery.calls == []
    assert outcome.tier == "main" and outcome.error_struct is None
    assert outcome.errors == [TierError("main", "model endpoint closed the stream early")]


async def test_reasoning_alone_does_not_stop_the_chain_from_falling_back():
    main = BreaksMidway(ReasoningDelta("Let me think."))
    llm = FallbackModel(main, ScriptedModel(["It is 42."]), SORRY)

    text, chunks, outcome = await run(llm)

    assert chunks[0] == ReasoningDelta("Let me think.")
    assert text == "It is 42." and outcome.tier == "recovery"


async def test_the_chain_is_a_plain_chat_model_without_an_outcome():
    llm = FallbackModel(ScriptedModel([Reply(error="down")]), None, SORRY)

    assert llm.label == "scripted"
    assert await complete(llm, MESSAGES) == SORRY


async def test_an_outcome_reused_across_calls_keeps_the_worst_tier():
    main = ScriptedModel([Reply(error="down"), "It is 42."])
    llm = FallbackModel(main, ScriptedModel(["Recovered."]), SORRY)
    outcome = llm.new_outcome()

    for _ in range(2):
        async for _chunk in llm.stream(MESSAGES, outcome=outcome):
            pass

    assert outcome.tier == "recovery"
    assert outcome.errors == [TierError("main", "down")]


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

    text, chunks, outcome = await run(FallbackModel(main, recovery, SORRY), model="big-model")

    assert text == "It is 42."
    assert fake_openai.requests[0].body["model"] == "small-model"
    assert outcome.tier == "recovery"
    assert outcome.errors == [TierError("main", "model endpoint unreachable: 127.0.0.1 (connection refused)")]
