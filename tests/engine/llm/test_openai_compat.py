from __future__ import annotations

import json
import socket
import time

import pytest

from agentkit_app.engine.llm.base import (
    Chunk,
    LLMError,
    ReasoningDelta,
    TextDelta,
    ToolCalls,
    UsageInfo,
    complete,
)
from agentkit_app.engine.llm.openai_compat import OpenAICompatibleModel
from agentkit_app.engine.llm.retry import RetryPolicy
from tests.engine.llm.conftest import (
    API_KEY,
    MODEL,
    ErrorReply,
    FakeOpenAI,
    JsonReply,
    SseReply,
    chunk,
    tool_delta,
    usage_chunk,
)

MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Say hello."}]
CALCULATOR = {
    "type": "function",
    "function": {
        "name": "calculator",
        "description": "Evaluate arithmetic.",
        "parameters": {"type": "object", "properties": {"expression": {"type": "string"}}},
    },
}


QUICK_RETRY = RetryPolicy(max_retries=2, backoff_s=0.01)  # the default count, with short waits


def model_for(fake: FakeOpenAI, timeout_s: float = 5.0) -> OpenAICompatibleModel:
    return OpenAICompatibleModel(fake.base_url, API_KEY, MODEL, timeout_s, retry=QUICK_RETRY)


async def collect(llm: OpenAICompatibleModel, **kwargs) -> list[Chunk]:
    return [c async for c in llm.stream(MESSAGES, **kwargs)]


async def failure(llm: OpenAICompatibleModel, **kwargs) -> str:
    with pytest.raises(LLMError) as caught:
        await collect(llm, **kwargs)
    message = str(caught.value)
    assert len(message) < 200 and API_KEY not in message and "Traceback" not in message
    return message


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_text_streams_in_pieces_and_the_request_is_a_streamed_chat_completion(fake_openai):
    fake_openai.push(
        SseReply(
            [
                chunk(role="assistant", content=""),
                chunk(content="Hel"),
                chunk(content="lo"),
                chunk(content=" there."),
                chunk(finish="stop"),
                usage_chunk(12, 3),
            ]
        )
    )
    chunks = await collect(model_for(fake_openai), model="gpt-other")

    assert [c.content for c in chunks if isinstance(c, TextDelta)] == ["Hel", "lo", " there."]
    assert chunks[-1] == UsageInfo(prompt_tokens=12, completion_tokens=3, model=MODEL)
    request = fake_openai.requests[0]
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    assert request.body["model"] == "gpt-other"
    assert request.body["messages"] == MESSAGES
    assert request.body["stream"] is True
    assert request.body["stream_options"] == {"include_usage": True}
    assert "tools" not in request.body


async def test_the_default_model_is_asked_for_when_the_call_names_none(fake_openai):
    fake_openai.push(SseReply([chunk(content="hi"), chunk(finish="stop"), usage_chunk(1, 1)]))
    llm = model_for(fake_openai)

    assert await complete(llm, MESSAGES) == "hi"
    assert fake_openai.requests[0].body["model"] == MODEL
    assert llm.label == MODEL


async def test_two_parallel_tool_calls_are_assembled_from_their_deltas(fake_openai):
    fake_openai.push(
        SseReply(
            [
                chunk(role="assistant", content="Let me check."),
                chunk(tool_calls=[tool_delta(0, call_id="call_a", name="calculator", arguments="")]),
                chunk(tool_calls=[tool_delta(0, arguments='{"expre')]),
                chunk(tool_calls=[tool_delta(0, arguments='ssion": "6*7"}')]),
                chunk(tool_calls=[tool_delta(1, call_id="call_b", name="calculator", arguments="")]),
                chunk(tool_calls=[tool_delta(1, arguments='{"expression"')]),
                chunk(tool_calls=[tool_delta(1, arguments=': "1+1"}')]),
                chunk(finish="tool_calls"),
                usage_chunk(40, 25),
            ]
        )
    )
    chunks = await collect(model_for(fake_openai), tools=[CALCULATOR])

    assert chunks[0] == TextDelta("Let me check.")
    tool_chunks = [c for c in chunks if isinstance(c, ToolCalls)]
    assert len(tool_chunks) == 1
    calls = tool_chunks[0].calls
    assert [(c.id, c.name) for c in calls] == [("call_a", "calculator"), ("call_b", "calculator")]
    assert [json.loads(c.arguments) for c in calls] == [{"expression": "6*7"}, {"expression": "1+1"}]
    assert chunks[-1] == UsageInfo(prompt_tokens=40, completion_tokens=25, model=MODEL)
    assert fake_openai.requests[0].body["tools"] == [CALCULATOR]


async def test_reasoning_content_streams_as_reasoning_deltas(fake_openai):
    fake_openai.push(
        SseReply(
            [
                chunk(role="assistant", reasoning=""),
                chunk(reasoning="The user "),
                chunk(reasoning="wants a greeting."),
                chunk(content="Hello!"),
                chunk(finish="stop"),
                usage_chunk(10, 8),
            ]
        )
    )
    chunks = await collect(model_for(fake_openai))

    assert chunks == [
        ReasoningDelta("The user "),
        ReasoningDelta("wants a greeting."),
        TextDelta("Hello!"),
        UsageInfo(prompt_tokens=10, completion_tokens=8, model=MODEL),
    ]


async def test_a_rejected_stream_options_is_retried_without_it_and_usage_is_estimated(fake_openai):
    fake_openai.push(
        ErrorReply(400, {"error": {"message": "Unrecognized request argument supplied: stream_options"}}),
        SseReply([chunk(content="Hello there, "), chunk(content="how are you?"), chunk(finish="stop")]),
        SseReply([chunk(content="Again."), chunk(finish="stop")]),
    )
    llm = model_for(fake_openai)
    chunks = await collect(llm)

    assert "".join(c.content for c in chunks if isinstance(c, TextDelta)) == "Hello there, how are you?"
    usage = chunks[-1]
    assert isinstance(usage, UsageInfo) and usage.model == MODEL
    assert usage.prompt_tokens > 0 and usage.completion_tokens > 0
    assert await complete(llm, MESSAGES) == "Again."
    sent = [r.body for r in fake_openai.requests]
    assert "stream_options" in sent[0]
    assert "stream_options" not in sent[1] and "stream_options" not in sent[2]


async def test_a_bad_request_that_is_not_about_stream_options_fails_with_its_reason(fake_openai):
    reason = {"error": {"message": "This model's maximum context length is 8192 tokens."}}
    fake_openai.push(ErrorReply(400, reason), ErrorReply(400, reason))

    message = await failure(model_for(fake_openai))

    assert message == "model endpoint error 400: This model's maximum context length is 8192 tokens."


@pytest.mark.parametrize("status", [401, 403])
async def test_a_rejected_key_says_so_without_the_key(fake_openai, status):
    fake_openai.push(
        ErrorReply(
            status,
            {"error": {"message": f"Incorrect API key provided: {API_KEY}", "code": "invalid_api_key"}},
        )
    )

    assert await failure(model_for(fake_openai)) == "model endpoint rejected the API key"


async def test_a_server_error_reports_its_status_and_reason_once_the_retries_are_spent(fake_openai):
    overloaded = ErrorReply(500, {"error": {"message": "The server is overloaded.", "type": "server_error"}})
    fake_openai.push(overloaded, overloaded, overloaded)

    assert await failure(model_for(fake_openai)) == "model endpoint error 500: The server is overloaded."
    assert len(fake_openai.requests) == 3


async def test_an_html_error_page_reports_the_status_phrase_not_the_page(fake_openai):
    page = ErrorReply(502, "<html><body><h1>502 Bad Gateway</h1>" + "x" * 500 + "</body></html>")
    fake_openai.push(page, page, page)

    assert await failure(model_for(fake_openai)) == "model endpoint error 502: Bad Gateway"


@pytest.mark.parametrize(
    "reply",
    [
        SseReply([chunk(content="Hel"), "this is not json", chunk(content="lo")]),
        SseReply([chunk(content="Hel"), '{"id": "x", "choices": "not a list"}']),
        JsonReply({"id": "x", "object": "chat.completion", "choices": []}),
    ],
    ids=["non-json-data-line", "choices-not-a-list", "json-body-instead-of-a-stream"],
)
async def test_a_malformed_stream_is_an_error(fake_openai, reply):
    fake_openai.push(reply)

    assert await failure(model_for(fake_openai)) == "model endpoint sent a malformed stream"


async def test_an_error_sent_inside_the_stream_is_reported(fake_openai):
    fake_openai.push(SseReply([chunk(content="Hel"), {"error": {"message": "upstream model crashed"}}]))

    assert await failure(model_for(fake_openai)) == "model endpoint error: upstream model crashed"


async def test_a_slow_endpoint_times_out_within_the_budget(fake_openai):
    fake_openai.push(SseReply([chunk(content="too late")], wait_s=3.0))
    started = time.monotonic()

    message = await failure(model_for(fake_openai, timeout_s=0.5))

    assert message == "model endpoint timed out after 0.5s"
    assert time.monotonic() - started < 2.0


async def test_a_stream_that_stalls_midway_times_out_after_its_text(fake_openai):
    fake_openai.push(SseReply([chunk(content="Hel")], stall_s=3.0))
    seen: list[Chunk] = []
    started = time.monotonic()

    with pytest.raises(LLMError, match="timed out after 0.5s"):
        async for c in model_for(fake_openai, timeout_s=0.5).stream(MESSAGES):
            seen.append(c)

    assert seen == [TextDelta("Hel")]
    assert time.monotonic() - started < 2.0


async def test_a_closed_port_is_unreachable():
    llm = OpenAICompatibleModel(f"http://127.0.0.1:{free_port()}/v1", API_KEY, MODEL, 2.0, retry=QUICK_RETRY)

    message = await failure(llm)

    assert message == "model endpoint unreachable: 127.0.0.1 (connection refused)"


async def test_stopping_early_closes_the_stream_and_the_model_stays_usable(fake_openai):
    fake_openai.push(
        SseReply([chunk(content="one"), chunk(content="two")], stall_s=3.0),
        SseReply([chunk(content="next"), chunk(finish="stop"), usage_chunk(1, 1)]),
    )
    llm = model_for(fake_openai)
    stream = llm.stream(MESSAGES)
    started = time.monotonic()

    assert await anext(stream) == TextDelta("one")
    await stream.aclose()

    assert time.monotonic() - started < 1.0
    assert await complete(llm, MESSAGES) == "next"
    await llm.aclose()
