"""The REST API over a real running backend."""

from __future__ import annotations

import os

import httpx
import pytest

from tests.api.conftest import start_backend, stop_backend

API = "/api/v1/chat"


def test_agents_are_listed(client):
    names = [a["name"] for a in client.get(f"{API}/agents").json()]
    assert {"assistant", "coder"} <= set(names)


def test_session_lifecycle(client):
    created = client.post(f"{API}/sessions", json={"agent_name": "assistant", "metadata": {"k": "v"}})
    assert created.status_code == 201
    session = created.json()
    assert session["status"] == "active" and session["metadata"] == {"k": "v"}
    assert client.get(f"{API}/sessions/{session['session_id']}").json()["agent_name"] == "assistant"
    listed = client.get(f"{API}/sessions", params={"limit": 1}).json()
    assert listed[0]["session_id"] == session["session_id"]
    closed = client.delete(f"{API}/sessions/{session['session_id']}")
    assert closed.json() == {"status": "closed", "session_id": session["session_id"]}
    refused = client.post(f"{API}/sessions/{session['session_id']}/messages", json={"content": "hi"})
    assert refused.status_code == 400


def test_unknown_things_are_404(client):
    assert client.post(f"{API}/sessions", json={"agent_name": "nobody"}).status_code == 404
    assert client.get(f"{API}/sessions/nope").status_code == 404
    assert client.get(f"{API}/sessions/nope/messages").status_code == 404
    assert client.post(f"{API}/sessions/nope/messages", json={"content": "hi"}).status_code == 404


@pytest.mark.parametrize("content", ["", "   ", "x" * 40_000])
def test_empty_or_overlong_content_is_422(client, session_id, content):
    response = client.post(f"{API}/sessions/{session_id}/messages", json={"content": content})
    assert response.status_code == 422


def test_a_turn_returns_the_answer_and_stores_both_messages(client, session_id):
    reply = client.post(f"{API}/sessions/{session_id}/messages", json={"content": "what is (3 + 4) * 12?"})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert "84" in body["content"] and body["fallback_status"] == "main"
    messages = client.get(f"{API}/sessions/{session_id}/messages").json()
    assert [m["role"] for m in messages] == ["user", "assistant"]
    steps = messages[1]["metadata"]["steps"]
    assert steps[0]["tool"] == "calculator" and steps[1]["result"] == "84"
    assert messages[1]["metadata"]["usage"]["completion_tokens"] > 0
    page = client.get(f"{API}/sessions/{session_id}/messages", params={"limit": 1, "offset": 1}).json()
    assert [m["role"] for m in page] == ["assistant"]


def test_greeting_is_a_direct_chat(client, session_id):
    body = client.post(f"{API}/sessions/{session_id}/messages", json={"content": "hello"}).json()
    assert body["metadata"]["steps"] == []


def test_skill_prefix_is_stripped_before_storing(client, session_id):
    client.post(f"{API}/sessions/{session_id}/messages", json={"content": "@skill:math 2 + 2"})
    messages = client.get(f"{API}/sessions/{session_id}/messages").json()
    assert messages[0]["content"] == "2 + 2" and messages[0]["metadata"]["skill"] == "math"


def test_upload_and_download(client):
    files = {"file": ("../../etc/My Notes.txt", b"alpha\nbeta\n", "text/plain")}
    stored = client.post(f"{API}/upload", files=files)
    assert stored.status_code == 201, stored.text
    body = stored.json()
    assert body["filename"] == "My_Notes.txt" and body["size"] == 11
    assert body["stored_name"].endswith(".txt") and "/" not in body["stored_name"]
    assert client.get(body["download_url"]).content == b"alpha\nbeta\n"


def test_upload_past_the_limit_is_413_and_nothing_is_kept(client, backend):
    before = set(os.listdir(backend.data / "uploads")) if (backend.data / "uploads").exists() else set()
    big = b"x" * (10 * 1024 * 1024 + 1)
    response = client.post(f"{API}/upload", files={"file": ("big.bin", big, "application/octet-stream")})
    assert response.status_code == 413
    assert set(os.listdir(backend.data / "uploads")) == before
    exact = client.post(f"{API}/upload", files={"file": ("ok.bin", big[:-1], "application/octet-stream")})
    assert exact.status_code == 201


@pytest.mark.parametrize("name", ["../api.db", "..%2Fapi.db", "%2e%2e%2fapi.db", "....//api.db", ".hidden"])
def test_download_cannot_escape_the_upload_dir(client, name):
    assert client.get(f"{API}/uploads/{name}").status_code == 404


def test_malformed_upload_is_422(client):
    response = client.post(f"{API}/upload", content=b"garbage", headers={"content-type": "text/plain"})
    assert response.status_code == 422


def test_the_agent_reads_an_uploaded_file(client, session_id):
    stored = client.post(
        f"{API}/upload", files={"file": ("notes.txt", b"first line\nsecond line\n", "text/plain")}
    ).json()
    content = f"Please read this file [file: {stored['stored_name']}]"
    body = client.post(f"{API}/sessions/{session_id}/messages", json={"content": content}).json()
    assert "first line" in body["content"]


def test_attachments_reach_the_agent_and_unknown_ones_are_refused(client, session_id):
    stored = client.post(f"{API}/upload", files={"file": ("list.txt", b"one\ntwo\n", "text/plain")}).json()
    sent = {
        "content": "what is in it?",
        "attachments": [{"stored_name": stored["stored_name"], "filename": "x", "extra": 1}],
    }
    body = client.post(f"{API}/sessions/{session_id}/messages", json=sent).json()
    assert "The file has 2 lines" in body["content"]
    question = client.get(f"{API}/sessions/{session_id}/messages").json()[0]
    assert question["metadata"]["attachments"] == [
        {"filename": "list.txt", "stored_name": stored["stored_name"]}
    ]
    for bad in (
        [{"stored_name": "0" * 32 + ".txt"}],
        [{"stored_name": "../etc/passwd"}],
        ["not-an-object"],
        [{}],
    ):
        refused = client.post(
            f"{API}/sessions/{session_id}/messages", json={"content": "hi", "attachments": bad}
        )
        assert refused.status_code == 422, bad
    assert len(client.get(f"{API}/sessions/{session_id}/messages").json()) == 2, (
        "a refused message is not stored"
    )


def test_the_upload_records_stay_private(client):
    stored = client.post(f"{API}/upload", files={"file": ("a.txt", b"x", "text/plain")}).json()
    for name in (
        ".meta",
        f".meta/{stored['stored_name']}.json",
        f"..%2F.meta%2F{stored['stored_name']}.json",
    ):
        assert client.get(f"{API}/uploads/{name}").status_code == 404, name


def test_openapi_docs_are_served(client):
    assert client.get("/api/v1/openapi.json").json()["info"]["title"] == "AgentKit API"
    assert client.get("/api/v1/docs").status_code == 200


def test_api_key_is_required_when_configured(tmp_path):
    server = start_backend(tmp_path, AGENTKIT_API_KEY="s3cret")
    try:
        assert httpx.get(f"{server.base}{API}/sessions").status_code == 401
        assert httpx.get(f"{server.base}{API}/sessions", headers={"X-API-Key": "wrong"}).status_code == 401
        assert httpx.get(f"{server.base}{API}/sessions", headers={"X-API-Key": "s3cret"}).status_code == 200
        assert httpx.get(f"{server.base}{API}/sessions", params={"api_key": "s3cret"}).status_code == 200
    finally:
        stop_backend(server)


def test_a_model_endpoint_that_is_down_gives_a_short_error_and_keeps_the_message(tmp_path):
    server = start_backend(
        tmp_path,
        AGENTKIT_LLM_BASE_URL="http://127.0.0.1:9/v1",
        AGENTKIT_FALLBACK_ENABLED="false",
        AGENTKIT_LLM_TIMEOUT_S="3",
    )
    try:
        with httpx.Client(base_url=server.base, timeout=30) as http:
            sid = http.post(f"{API}/sessions", json={"agent_name": "assistant"}).json()["session_id"]
            reply = http.post(f"{API}/sessions/{sid}/messages", json={"content": "tell me something"})
            assert reply.status_code == 502
            assert "unreachable" in reply.json()["detail"] and len(reply.json()["detail"]) <= 200
            messages = http.get(f"{API}/sessions/{sid}/messages").json()
            assert messages[0]["content"] == "tell me something"
    finally:
        stop_backend(server)


def test_the_fallback_chain_answers_with_the_emergency_tier(tmp_path):
    server = start_backend(
        tmp_path, AGENTKIT_LLM_BASE_URL="http://127.0.0.1:9/v1", AGENTKIT_LLM_TIMEOUT_S="3"
    )
    try:
        with httpx.Client(base_url=server.base, timeout=30) as http:
            sid = http.post(f"{API}/sessions", json={"agent_name": "assistant"}).json()["session_id"]
            body = http.post(f"{API}/sessions/{sid}/messages", json={"content": "tell me something"}).json()
            assert body["fallback_status"] == "emergency"
            assert body["error_struct"]["code"] == "llm_unavailable"
            assert "unavailable" in body["content"]
    finally:
        stop_backend(server)


def test_a_nul_character_is_refused_before_anything_is_stored(client, session_id):
    for path, body in (
        (f"{API}/sessions/{session_id}/messages", {"content": "a\x00b"}),
        (f"{API}/sessions/{session_id}/messages", {"content": "hi", "model": "m\x00"}),
        (f"{API}/sessions/{session_id}/replies/some-id", {"content": "a\x00b"}),
    ):
        refused = client.post(path, json=body)
        assert refused.status_code == 422, (path, body, refused.text)
    assert client.get(f"{API}/sessions/{session_id}/messages").json() == []


def test_a_huge_offset_is_refused_not_a_server_error(client, session_id):
    for path in (f"{API}/sessions", f"{API}/sessions/{session_id}/messages"):
        assert client.get(path, params={"offset": 2**64}).status_code == 422, path
        assert client.get(path, params={"offset": 2**31 - 1}).json() == [], path
