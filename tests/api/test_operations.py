"""What an operator watches on a real backend: JSON log lines with ids and no secrets, and /metrics."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.api.conftest import Backend, start_backend, stop_backend

CHAT = "/api/v1/chat"
API_KEY = "ops-api-key-5f1c2a9e7b"
ADMIN = {"username": "ops-admin", "password": "ops-admin-password-8d3b"}
JWT_SECRET = "ops-jwt-secret-0123456789-abcdefghijklmnop"
QUESTION = "please compute the zebra-marmalade figure: what is (3 + 4) * 12?"


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Backend]:
    """A backend with accounts, an admin, an API key, and JSON log lines at INFO."""
    backend = start_backend(
        tmp_path_factory.mktemp("ops"),
        AGENTKIT_AUTH_ENABLED="true",
        AGENTKIT_ADMIN_USERNAME=ADMIN["username"],
        AGENTKIT_ADMIN_PASSWORD=ADMIN["password"],
        AGENTKIT_JWT_SECRET=JWT_SECRET,
        AGENTKIT_API_KEY=API_KEY,
        AGENTKIT_LOG_FORMAT="json",
        AGENTKIT_LOG_LEVEL="info",
    )
    yield backend
    stop_backend(backend)


@pytest.fixture(scope="module")
def turn(server: Backend) -> dict[str, Any]:
    """One answered turn: signed in with the password, asked with the token; what it sent and got back."""
    with httpx.Client(base_url=server.base, timeout=60) as http:
        signed_in = http.post("/api/v1/auth/login", json=ADMIN)
        assert signed_in.status_code == 200, signed_in.text
        token = signed_in.json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        session_id = http.post(f"{CHAT}/sessions", json={"agent_name": "assistant"}, headers=headers).json()[
            "session_id"
        ]
        reply = http.post(
            f"{CHAT}/sessions/{session_id}/messages",
            json={"content": QUESTION},
            headers={**headers, "X-Request-ID": "ops-trace-42"},
        )
        assert reply.status_code == 200, reply.text
        # the API key as a query parameter, where an access log would show the whole URL
        listed = http.get(f"{CHAT}/sessions", params={"api_key": API_KEY})
        assert listed.status_code == 200
        # and a turn of an API-key client
        by_key = http.post(
            f"{CHAT}/sessions/{session_id}/messages",
            json={"content": QUESTION},
            headers={"X-API-Key": API_KEY},
        )
        assert by_key.status_code == 200, by_key.text
    return {"token": token, "session_id": session_id, "reply": reply, "answer": reply.json()["content"]}


def log_lines(server: Backend) -> list[dict[str, Any]]:
    """Return the server's log, each line parsed as the JSON object it must be."""
    time.sleep(0.3)  # the run's last line is written just after its answer went out
    text = (server.data / "server.log").read_text()
    lines = []
    for line in text.splitlines():
        if line.startswith("{"):
            lines.append(json.loads(line))
    return lines


def test_a_turn_logs_json_lines_that_carry_its_request_session_and_run(server: Backend, turn: dict[str, Any]):
    lines = log_lines(server)
    assert lines, "the server wrote no JSON log lines"
    assert all({"time", "level", "logger", "message"} <= line.keys() for line in lines)
    mine = [line for line in lines if line.get("request_id") == "ops-trace-42"]
    access = next(line for line in mine if line["logger"] == "agentkit_app.api.observability")
    assert access["route"] == f"{CHAT}/sessions/{{session_id}}/messages" and access["status"] == 200
    assert access["session_id"] == turn["session_id"]
    ended = next(line for line in mine if line["message"] == "run ended")
    assert ended["session_id"] == turn["session_id"] and ended["run_id"]
    assert ended["kind"] == "chat" and ended["outcome"] == "answered"
    assert ended["completion_tokens"] > 0 and ended["duration_s"] >= 0
    calls = [line for line in mine if line["message"] == "model call" and line["run_id"] == ended["run_id"]]
    assert calls, "no model call was logged with the run's ids"
    for call in calls:
        assert call["model"] and call["tier"] == "main"
        assert call["prompt_tokens"] >= 0 and call["completion_tokens"] >= 0 and call["total_s"] >= 0
    # the start-up wait's health probes are there only at DEBUG
    assert not [line for line in lines if line.get("route") == "/api/v1/health"]
    config = next(line for line in lines if line["message"] == "effective configuration")["config"]
    assert config["AGENTKIT_API_KEY"] == "***" and config["AGENTKIT_ADMIN_PASSWORD"] == "***"
    assert config["AGENTKIT_LOG_FORMAT"] == "json"


def test_no_secret_token_password_or_message_text_reaches_the_log(server: Backend, turn: dict[str, Any]):
    log_lines(server)
    text = (server.data / "server.log").read_text()
    for secret in (API_KEY, ADMIN["password"], JWT_SECRET, turn["token"], "zebra-marmalade"):
        assert secret not in text
    assert turn["answer"] and turn["answer"] not in text


def test_the_request_id_goes_back_to_the_client_and_a_hostile_one_is_replaced(
    server: Backend, turn: dict[str, Any]
):
    assert turn["reply"].headers["x-request-id"] == "ops-trace-42"
    hostile = httpx.get(f"{server.base}/api/v1/health", headers={"X-Request-ID": "a\tb{}" + "x" * 300})
    given = hostile.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", given)
    assert httpx.get(f"{server.base}/api/v1/health").headers["x-request-id"] != given


def metric(text: str, name: str, **labels: str) -> float:
    """Return the value of one sample of the Prometheus text ``text`` (0 when it is not there)."""
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        sample, _, value = line.rpartition(" ")
        if all(f'{key}="{wanted}"' in sample for key, wanted in labels.items()):
            return float(value)
    return 0.0


def test_metrics_need_the_api_key_or_an_admin(server: Backend, turn: dict[str, Any]):
    assert httpx.get(f"{server.base}/metrics").status_code == 401
    assert httpx.get(f"{server.base}/metrics", headers={"X-API-Key": "wrong"}).status_code == 401
    admin = httpx.get(f"{server.base}/metrics", headers={"Authorization": f"Bearer {turn['token']}"})
    assert admin.status_code == 200


def test_a_turn_moves_the_counters(server: Backend, turn: dict[str, Any]):
    reply = httpx.get(f"{server.base}/metrics", headers={"X-API-Key": API_KEY})
    assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/plain")
    text = reply.text
    assert metric(text, "agentkit_runs_total", kind="chat", outcome="answered") >= 1
    assert metric(text, "agentkit_runs_in_flight", kind="chat") == 0
    assert metric(text, "agentkit_tokens_total", direction="out", tier="main") > 0
    assert metric(text, "agentkit_answers_by_tier_total", kind="chat", tier="main") >= 1
    assert metric(text, "agentkit_run_duration_seconds_count", kind="chat", outcome="answered") >= 1
    assert metric(text, "agentkit_run_first_token_seconds_count", kind="chat") >= 1
    route = f"{CHAT}/sessions/{{session_id}}/messages"
    assert metric(text, "agentkit_http_requests_total", method="POST", route=route, status="200") >= 1
    assert metric(text, "agentkit_http_requests_total", route="/metrics", status="401") >= 1


def test_hostile_paths_and_ids_do_not_become_labels(server: Backend, turn: dict[str, Any]):
    headers = {"X-API-Key": API_KEY}
    for i in range(3):
        httpx.get(f"{server.base}/api/v1/chat/sessions/probe-id-{i}", headers=headers)
        httpx.get(f"{server.base}/api/v1/chat/probe-path-{i}/x", headers=headers)
        httpx.get(f"{server.base}/probe-page-{i}")
    text = httpx.get(f"{server.base}/metrics", headers=headers).text
    assert "probe-" not in text
    route = f"{CHAT}/sessions/{{session_id}}"
    assert metric(text, "agentkit_http_requests_total", method="GET", route=route, status="404") >= 3
    assert metric(text, "agentkit_http_requests_total", method="GET", route="other", status="404") >= 6


def test_an_open_websocket_is_counted_until_it_closes(server: Backend, turn: dict[str, Any]):
    import websockets.sync.client

    route = f"{CHAT}/ws/{{session_id}}"
    url = f"{server.ws}/{turn['session_id']}?api_key={API_KEY}"

    def open_sockets() -> float:
        text = httpx.get(f"{server.base}/metrics", headers={"X-API-Key": API_KEY}).text
        return metric(text, "agentkit_websocket_connections", route=route)

    with websockets.sync.client.connect(url) as socket:
        assert json.loads(socket.recv())["type"] == "connected"
        assert socket.response.headers["x-request-id"]
        assert open_sockets() == 1
    deadline = time.monotonic() + 5
    while open_sockets() != 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert open_sockets() == 0


def test_contradictory_settings_stop_the_server_at_start_naming_them(tmp_path):
    with pytest.raises(RuntimeError) as refused:
        start_backend(tmp_path, AGENTKIT_LLM_MODELS='["gpt-4o"]')
    assert "AGENTKIT_LLM_MODELS is set but AGENTKIT_LLM_BASE_URL is not" in str(refused.value)


def test_accounts_without_an_admin_or_its_password_stop_the_server_at_start(tmp_path):
    with pytest.raises(RuntimeError) as refused:
        start_backend(tmp_path, AGENTKIT_AUTH_ENABLED="true")
    assert "set AGENTKIT_ADMIN_PASSWORD" in str(refused.value)


def test_a_websocket_turn_logs_with_the_sockets_request_id_and_its_session_and_run(
    server: Backend, turn: dict[str, Any]
):
    import websockets.sync.client

    url = f"{server.ws}/{turn['session_id']}?api_key={API_KEY}"
    with websockets.sync.client.connect(url, additional_headers={"X-Request-ID": "ws-trace-7"}) as socket:
        assert socket.response.headers["x-request-id"] == "ws-trace-7"
        assert json.loads(socket.recv())["type"] == "connected"
        socket.send(json.dumps({"type": "message", "content": "what is 6 * 7?"}))
        while json.loads(socket.recv())["type"] != "final_answer":
            pass
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        mine = [line for line in log_lines(server) if line.get("request_id") == "ws-trace-7"]
        if any(line["message"] == "websocket closed" for line in mine):
            break
    messages = [line["message"] for line in mine]
    assert messages[0] == "websocket opened" and messages[-1] == "websocket closed"
    assert all(line["session_id"] == turn["session_id"] for line in mine)
    ended = next(line for line in mine if line["message"] == "run ended")
    assert ended["outcome"] == "answered" and ended["run_id"]
    assert any(line["message"] == "model call" and line["run_id"] == ended["run_id"] for line in mine)
    assert "6 * 7" not in (server.data / "server.log").read_text()
