"""Plan-execute over the REST API and the WebSocket of a real backend (offline demo model)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import websockets

from tests.api.conftest import start_backend, stop_backend

API = "/api/v1/chat"
DEFAULT_PHASES = ["plan", "execute", "verify", "answer"]


@contextmanager
def backend_client(tmp_path, **env: str) -> Iterator[httpx.Client]:
    """Start a backend with these settings and yield an HTTP client for it."""
    server = start_backend(tmp_path, **env)
    try:
        with httpx.Client(base_url=server.base, timeout=30) as http:
            yield http
    finally:
        stop_backend(server)


def new_session(http: httpx.Client) -> str:
    return http.post(f"{API}/sessions", json={"agent_name": "assistant"}).json()["session_id"]


def ask(http: httpx.Client, session_id: str, content: str, mode: str | None = "plan_exec") -> httpx.Response:
    return http.post(
        f"{API}/sessions/{session_id}/messages", json={"content": content, "execution_mode": mode}
    )


def test_plan_exec_answers_and_lists_its_phases(client, session_id):
    reply = ask(client, session_id, "what is (3 + 4) * 12?")
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert "84" in body["content"]
    assert body["metadata"]["phases"] == DEFAULT_PHASES
    assert body["metadata"]["execution_mode"] == "plan_exec"
    messages = client.get(f"{API}/sessions/{session_id}/messages").json()
    assert [m["role"] for m in messages] == ["user", "assistant"]
    stored = messages[1]["metadata"]
    assert stored["phases"] == DEFAULT_PHASES
    tools = [s["tool"] for s in stored["steps"] if s["event_type"] == "tool_call"]
    assert tools == ["advance_phase", "calculator", "advance_phase", "advance_phase"]


def test_react_mode_and_no_mode_run_without_phases(client, session_id):
    for mode in ("react", None):
        body = ask(client, session_id, "what is 6 * 7?", mode).json()
        assert "42" in body["content"] and "phases" not in body["metadata"]


def test_an_unknown_execution_mode_is_422_and_stores_nothing(client, session_id):
    reply = ask(client, session_id, "what is 6 * 7?", "bogus")
    assert reply.status_code == 422
    assert reply.json()["detail"] == "execution_mode must be react or plan_exec"
    assert client.get(f"{API}/sessions/{session_id}/messages").json() == []


async def test_the_websocket_streams_phase_changes(backend, session_id):
    async with websockets.connect(f"{backend.ws}/{session_id}") as ws:
        await asyncio.wait_for(ws.recv(), 15)
        frame = {"type": "message", "content": "what is 2 + 2?", "execution_mode": "plan_exec"}
        await ws.send(json.dumps(frame))
        seen: list[dict] = []
        while not seen or seen[-1]["type"] not in ("final_answer", "error"):
            seen.append(json.loads(await asyncio.wait_for(ws.recv(), 20)))
    changes = [f["data"] for f in seen if f["type"] == "phase_changed"]
    assert changes == [
        {"phase": "plan", "previous": None},
        {"phase": "execute", "previous": "plan"},
        {"phase": "verify", "previous": "execute"},
        {"phase": "answer", "previous": "verify"},
    ]
    assert seen[-1]["type"] == "final_answer" and "4" in seen[-1]["data"]["content"]


def test_a_custom_policy_from_the_settings(tmp_path):
    policy = [{"name": "work", "tools": ["*"]}, {"name": "reply", "tools": []}]
    with backend_client(tmp_path, AGENTKIT_PLAN_EXEC_POLICY=json.dumps(policy)) as http:
        body = ask(http, new_session(http), "what is (3 + 4) * 12?").json()
    assert body["metadata"]["phases"] == ["work", "reply"]
    assert "84" in body["content"]


def test_a_bad_policy_fails_the_turn_and_keeps_the_message(tmp_path):
    policy = [{"name": "plan", "tools": ["teleport"]}, {"name": "answer", "tools": []}]
    with backend_client(tmp_path, AGENTKIT_PLAN_EXEC_POLICY=json.dumps(policy)) as http:
        session_id = new_session(http)
        reply = ask(http, session_id, "what is 6 * 7?")
        assert reply.status_code == 422
        assert reply.json()["detail"] == "phase policy error: unknown tool 'teleport' in phase 'plan'"
        messages = http.get(f"{API}/sessions/{session_id}/messages").json()
        assert messages[0]["role"] == "user" and messages[0]["content"] == "what is 6 * 7?"
        assert messages[1]["metadata"]["message_type"] == "error"
        assert "42" in ask(http, session_id, "what is 6 * 7?", "react").json()["content"]


def test_plan_exec_disabled_falls_back_to_react(tmp_path):
    with backend_client(tmp_path, AGENTKIT_PLAN_EXEC_ENABLED="false", AGENTKIT_PLAN_EXEC_POLICY="[]") as http:
        body = ask(http, new_session(http), "what is (3 + 4) * 12?").json()
    assert "84" in body["content"]
    assert "phases" not in body["metadata"]
    assert [s["tool"] for s in body["metadata"]["steps"]] == ["calculator", "calculator"]


def test_plan_exec_bypasses_the_fallback_chain(tmp_path):
    env = {"AGENTKIT_LLM_BASE_URL": "http://127.0.0.1:9/v1", "AGENTKIT_LLM_TIMEOUT_S": "3"}
    with backend_client(tmp_path, **env) as http:
        session_id = new_session(http)
        assert ask(http, session_id, "tell me something", "react").json()["fallback_status"] == "emergency"
        reply = ask(http, session_id, "tell me something")
        assert reply.status_code == 502, "no emergency apology in place of a phase"
        assert len(reply.json()["detail"]) <= 200


def test_regenerate_and_edit_keep_plan_exec(client, session_id):
    first = client.post(
        f"/api/v1/chat/sessions/{session_id}/messages",
        json={"content": "what is 6 * 7?", "execution_mode": "plan_exec"},
        timeout=60,
    )
    assert first.status_code == 200 and first.json()["metadata"].get("phases")
    again = client.post(f"/api/v1/chat/sessions/{session_id}/regenerate", timeout=60).json()
    assert again["metadata"].get("phases") == first.json()["metadata"]["phases"]
    question = client.get(f"/api/v1/chat/sessions/{session_id}/messages").json()[0]
    edited = client.post(
        f"/api/v1/chat/sessions/{session_id}/messages/{question['message_id']}/edit",
        json={"content": "what is 7 * 7?"},
        timeout=60,
    ).json()
    assert edited["metadata"].get("phases") and "49" in edited["content"]
