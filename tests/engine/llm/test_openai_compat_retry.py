from __future__ import annotations

import time

import pytest

from agentkit_app.engine.llm.base import Chunk, LLMError, TextDelta, UsageInfo, complete
from agentkit_app.engine.llm.openai_compat import OpenAICompatibleModel
from agentkit_app.engine.llm.retry import RetryPolicy
from tests.engine.llm.conftest import API_KEY, MODEL, ErrorReply, FakeOpenAI, SseReply, chunk, usage_chunk

MESSAGES = [{"role": "user", "content": "Say hello."}]
OVERLOADED = {"error": {"message": "The server is overloaded."}}
ANSWER = SseReply([chunk(content="Hel"), chunk(content="lo."), chunk(finish="stop"), usage_chunk(5, 2)])


def model_for(fake: FakeOpenAI, retry: RetryPolicy | None = None) -> OpenAICompatibleModel:
    return OpenAICompatibleModel(
        fake.base_url, API_KEY, MODEL, 5.0, retry=retry or RetryPolicy(backoff_s=0.01)
    )


async def test_a_503_then_a_429_are_retried_and_one_whole_answer_streams(fake_openai):
    fake_openai.push(
        ErrorReply(503, OVERLOADED),
        ErrorReply(429, {"error": {"message": "Rate limit reached."}}, headers={"Retry-After": "0"}),
        ANSWER,
    )

    chunks = [c async for c in model_for(fake_openai).stream(MESSAGES)]

    assert [c.content for c in chunks if isinstance(c, TextDelta)] == ["Hel", "lo."]
    assert chunks[-1] == UsageInfo(prompt_tokens=5, completion_tokens=2, model=MODEL)
    assert len(fake_openai.requests) == 3
    assert all(r.body == fake_openai.requests[0].body for r in fake_openai.requests)


async def test_retry_after_in_seconds_is_waited_for(fake_openai):
    fake_openai.push(ErrorReply(429, OVERLOADED, headers={"Retry-After": "1"}), ANSWER)
    started = time.monotonic()

    assert await complete(model_for(fake_openai), MESSAGES) == "Hello."
    assert 0.9 <= time.monotonic() - started < 3.0


async def test_a_retry_after_beyond_the_longest_wait_fails_at_once_for_the_next_tier(fake_openai):
    fake_openai.push(ErrorReply(429, OVERLOADED, headers={"Retry-After": "120"}), ANSWER)
    started = time.monotonic()

    with pytest.raises(LLMError, match="model endpoint error 429: The server is overloaded."):
        await complete(model_for(fake_openai), MESSAGES)

    assert time.monotonic() - started < 1.0
    assert len(fake_openai.requests) == 1


@pytest.mark.parametrize("status", [400, 401, 404])
async def test_a_client_error_is_not_retried(fake_openai, status):
    refusal = ErrorReply(status, {"error": {"message": "No."}})
    fake_openai.push(refusal, refusal, ANSWER)

    with pytest.raises(LLMError):
        await complete(model_for(fake_openai), MESSAGES)

    # a 400 is sent once more without ``stream_options``, in case those were what it refused
    assert len(fake_openai.requests) == (2 if status == 400 else 1)


async def test_an_error_after_the_first_token_is_not_retried(fake_openai):
    fake_openai.push(
        SseReply([chunk(content="Hel"), {"error": {"message": "upstream model crashed"}}]), ANSWER
    )
    seen: list[Chunk] = []

    with pytest.raises(LLMError, match="upstream model crashed"):
        async for c in model_for(fake_openai).stream(MESSAGES):
            seen.append(c)

    assert seen == [TextDelta("Hel")]
    assert len(fake_openai.requests) == 1


async def test_no_retries_when_the_policy_allows_none(fake_openai):
    fake_openai.push(ErrorReply(503, OVERLOADED), ANSWER)

    with pytest.raises(LLMError, match="503"):
        await complete(model_for(fake_openai, RetryPolicy(max_retries=0)), MESSAGES)

    assert len(fake_openai.requests) == 1
