"""The OpenAI-compatible door, used by the ``openai`` Python client against a running backend (demo model)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import openai
import pytest

from tests.api.conftest import Backend
from tests.api.test_auth import ADMIN, API_KEY, login, new_member

CHAT = "/api/v1/chat"
SESSION = "X-AgentKit-Session"


@pytest.fixture
def ai(backend: Backend) -> Iterator[openai.OpenAI]:
    """The ``openai`` client pointed at the backend (no API key configured: any key is taken)."""
    with openai.OpenAI(base_url=f"{backend.base}/v1", api_key="unused", max_retries=0, timeout=60) as client:
        yield client


def _stored(client: httpx.Client, session_id: str) -> list[dict]:
    return client.get(f"{CHAT}/sessions/{session_id}/messages").json()


def test_the_agents_and_skills_are_listed_as_models(ai):
    ids = [model.id for model in ai.models.list()]
    assert {"assistant", "coder", "skill:translate"} <= set(ids)
    assert ai.models.retrieve("coder").id == "coder"
    with pytest.raises(openai.NotFoundError):
        ai.models.retrieve("gpt-17")


def test_a_completion_answers_with_the_final_answer_stores_the_session_and_reports_usage(ai, client):
    raw = ai.chat.completions.with_raw_response.create(
        model="assistant", messages=[{"role": "user", "content": "what is 6 * 7?"}]
    )
    completion = raw.parse()
    session_id = raw.headers[SESSION]
    answer = completion.choices[0].message
    assert "42" in answer.content and completion.choices[0].finish_reason == "stop"
    assert "[tool] calculator" in answer.model_extra["reasoning_content"]  # the tool step, as reasoning
    assert (
        completion.usage.total_tokens
        == completion.usage.prompt_tokens + completion.usage.completion_tokens
        > 0
    )
    stored = _stored(client, session_id)
    assert [m["role"] for m in stored] == ["user", "assistant"]
    assert stored[-1]["content"] == answer.content
    session = client.get(f"{CHAT}/sessions/{session_id}").json()
    assert session["agent_name"] == "assistant"


def test_the_session_header_continues_a_conversation_and_without_it_a_new_one_starts(ai, client):
    first = ai.chat.completions.with_raw_response.create(
        model="assistant", messages=[{"role": "user", "content": "hello"}]
    )
    session_id = first.headers[SESSION]
    # the whole history is sent, as OpenAI clients do; only the last user message is run
    history = [
        {"role": "system", "content": "ignored: the agent has its own"},
        {"role": "user", "content": "hello"},
        {"role": "assistant", "content": first.parse().choices[0].message.content},
        {"role": "user", "content": [{"type": "text", "text": "what is 2 + 3?"}]},
    ]
    second = ai.chat.completions.with_raw_response.create(
        model="assistant", messages=history, extra_headers={SESSION: session_id}
    )
    assert second.headers[SESSION] == session_id
    assert [m["content"] for m in _stored(client, session_id) if m["role"] == "user"] == [
        "hello",
        "what is 2 + 3?",
    ]
    by_field = ai.chat.completions.with_raw_response.create(
        model="assistant",
        messages=[{"role": "user", "content": "and 1 + 1?"}],
        extra_body={"session_id": session_id},
    )
    assert by_field.headers[SESSION] == session_id
    fresh = ai.chat.completions.with_raw_response.create(
        model="assistant", messages=[{"role": "user", "content": "hello"}]
    )
    assert fresh.headers[SESSION] != session_id


def test_a_streamed_completion_sends_the_answer_in_chunks_and_the_usage_last(ai, client):
    stream = ai.chat.completions.create(
        model="assistant",
        messages=[{"role": "user", "content": "tell me about yourself"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    texts = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert len(texts) > 5
    assert chunks[0].choices[0].delta.role == "assistant"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage.total_tokens > 0
    assert len({c.id for c in chunks}) == 1
    sessions = client.get(f"{CHAT}/sessions").json()
    stored = next(
        m
        for s in sessions
        for m in _stored(client, s["session_id"])
        if m["content"].startswith("".join(texts)[:30])
    )
    assert stored["content"] == "".join(texts).strip()


def test_a_board_meeting_streams_its_speeches_as_reasoning_and_its_conclusion_as_the_answer(ai, client):
    raw = ai.chat.completions.with_raw_response.create(
        model="assistant",
        messages=[{"role": "user", "content": "@board:Strategist,Investor rounds=1 open a second shop"}],
        stream=True,
    )
    chunks = list(raw.parse())
    reasoning = "".join(c.choices[0].delta.model_extra.get("reasoning_content") or "" for c in chunks)
    answer = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert "[round 1] Strategist:" in reasoning and "[round 1] Investor:" in reasoning
    assert "Decision advice" in answer
    stored = _stored(client, raw.headers[SESSION])
    assert stored[-1]["content"] == answer
    assert {m["metadata"]["message_type"] for m in stored} >= {"board_speech", "board_conclusion"}


def test_a_board_meeting_answers_whole_too(ai):
    completion = ai.chat.completions.create(
        model="assistant",
        messages=[{"role": "user", "content": "@board:Strategist,Investor rounds=1 a new logo"}],
    )
    assert "Decision advice" in completion.choices[0].message.content
    assert "[round 1 summary]" in completion.choices[0].message.model_extra["reasoning_content"]
    assert completion.usage.total_tokens > 0


def test_a_skill_model_runs_the_skill(ai):
    completion = ai.chat.completions.create(
        model="skill:math", messages=[{"role": "user", "content": "what is 12 * 12?"}]
    )
    assert "144" in completion.choices[0].message.content


def test_bad_requests_get_openai_errors(ai, backend):
    with pytest.raises(openai.NotFoundError) as unknown:
        ai.chat.completions.create(model="gpt-17", messages=[{"role": "user", "content": "hi"}])
    assert unknown.value.code == "model_not_found"
    with pytest.raises(openai.BadRequestError) as no_user:
        ai.chat.completions.create(model="assistant", messages=[{"role": "system", "content": "be brief"}])
    assert no_user.value.code == "no_user_message"
    with pytest.raises(openai.BadRequestError) as huge:
        ai.chat.completions.create(model="assistant", messages=[{"role": "user", "content": "x" * 100_001}])
    assert "longer than" in huge.value.message
    with pytest.raises(openai.BadRequestError):
        ai.chat.completions.create(model="assistant", messages=[])
    with pytest.raises(openai.NotFoundError) as gone:
        ai.chat.completions.create(
            model="assistant", messages=[{"role": "user", "content": "hi"}], extra_headers={SESSION: "nope"}
        )
    assert gone.value.code == "session_not_found"
    malformed = httpx.post(
        f"{backend.base}/v1/chat/completions",
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert malformed.status_code == 400
    assert set(malformed.json()["error"]) >= {"message", "type", "code"}
    nul = httpx.post(
        f"{backend.base}/v1/chat/completions",
        json={"model": "assistant", "messages": [{"role": "user", "content": "a\x00b"}]},
    )
    assert nul.status_code == 400 and nul.json()["error"]["code"] == "invalid_content"
    # the REST routes keep FastAPI's own shape for invalid bodies
    assert "detail" in httpx.post(f"{backend.base}{CHAT}/sessions", json={}).json()


def test_a_model_that_is_not_the_sessions_agent_is_refused(ai):
    raw = ai.chat.completions.with_raw_response.create(
        model="assistant", messages=[{"role": "user", "content": "hi"}]
    )
    with pytest.raises(openai.BadRequestError) as mismatch:
        ai.chat.completions.create(
            model="coder",
            messages=[{"role": "user", "content": "hi"}],
            extra_headers={SESSION: raw.headers[SESSION]},
        )
    assert mismatch.value.code == "model_mismatch"


def test_a_client_that_leaves_mid_stream_does_not_stop_the_run(backend, client):
    body = {
        "model": "assistant",
        "stream": True,
        "messages": [{"role": "user", "content": "write a long story"}],
    }
    with httpx.stream("POST", f"{backend.base}/v1/chat/completions", json=body, timeout=30) as reply:
        session_id = reply.headers[SESSION]
        lines = reply.iter_lines()
        assert next(line for line in lines if '"content":"Once' in line)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        stored = _stored(client, session_id)
        if stored[-1]["role"] == "assistant":
            break
        time.sleep(0.2)
    assert stored[-1]["content"].startswith("Once upon a time") and not stored[-1]["metadata"].get(
        "cancelled"
    )


def test_credentials_are_those_of_rest_with_the_api_key_as_a_bearer_token(secured):
    def ai(key: str, **headers: str) -> openai.OpenAI:
        return openai.OpenAI(
            base_url=f"{secured.base}/v1", api_key=key, max_retries=0, default_headers=headers
        )

    with pytest.raises(openai.AuthenticationError) as wrong:
        ai("wrong").models.list()
    assert wrong.value.code == "invalid_api_key"
    assert "assistant" in [m.id for m in ai(API_KEY).models.list()]
    assert "assistant" in [m.id for m in ai("ignored", **{"X-API-Key": API_KEY}).models.list()]
    with httpx.Client(base_url=secured.base, timeout=30) as http:
        token = login(http, ADMIN["username"], ADMIN["password"])["Authorization"].removeprefix("Bearer ")
    answer = ai(token).chat.completions.create(
        model="assistant", messages=[{"role": "user", "content": "hello"}]
    )
    assert answer.choices[0].message.content


def test_a_user_past_a_quota_gets_429_and_sees_only_their_own_sessions(secured):
    with httpx.Client(base_url=secured.base, timeout=30) as http:
        admin = login(http, ADMIN["username"], ADMIN["password"])
        user, _ = new_member(http, admin, [{"quota_type": "requests", "period": "day", "limit": 1}])
        other, _ = new_member(http, admin)
        users_ai = openai.OpenAI(
            base_url=f"{secured.base}/v1",
            api_key=user["Authorization"].removeprefix("Bearer "),
            max_retries=0,
        )
        raw = users_ai.chat.completions.with_raw_response.create(
            model="assistant", messages=[{"role": "user", "content": "hello"}]
        )
        session_id = raw.headers[SESSION]
        assert [s["session_id"] for s in http.get(f"{CHAT}/sessions", headers=user).json()] == [session_id]
        with pytest.raises(openai.RateLimitError) as refused:
            users_ai.chat.completions.create(
                model="assistant", messages=[{"role": "user", "content": "again"}]
            )
        assert refused.value.code == "insufficient_quota"
        assert refused.value.body["quota_info"]["quota_type"] == "requests"
        # the refused request made no session
        assert len(http.get(f"{CHAT}/sessions", headers=user).json()) == 1
        others_ai = openai.OpenAI(
            base_url=f"{secured.base}/v1",
            api_key=other["Authorization"].removeprefix("Bearer "),
            max_retries=0,
        )
        with pytest.raises(openai.NotFoundError):
            others_ai.chat.completions.create(
                model="assistant",
                messages=[{"role": "user", "content": "hi"}],
                extra_headers={SESSION: session_id},
            )


def test_a_team_run_shows_its_phases_as_reasoning_and_its_synthesis_as_the_answer(ai, client):
    raw = ai.chat.completions.with_raw_response.create(
        model="assistant", messages=[{"role": "user", "content": "@team write a release note"}]
    )
    completion = raw.parse()
    message = completion.choices[0].message
    assert "[team] lead" in message.model_extra["reasoning_content"]
    assert "[phase done]" in message.model_extra["reasoning_content"]
    assert message.content and completion.usage.total_tokens > 0
    assert _stored(client, raw.headers[SESSION])[-1]["content"] == message.content
