"""The WebSocket protocol over a real running backend."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
import websockets

from tests.api.conftest import start_backend, stop_backend


async def receive(ws, timeout: float = 15.0) -> dict:
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def until(ws, kind: str, timeout: float = 20.0) -> tuple[dict, list[dict]]:
    """Read frames until one of type ``kind``; return it and everything before it."""
    seen: list[dict] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        frame = await receive(ws, max(0.1, deadline - loop.time()))
        if frame["type"] == kind:
            return frame, seen
        seen.append(frame)


async def test_a_turn_streams_tokens_before_the_final_answer(backend, session_id):
    async with websockets.connect(f"{backend.ws}/{session_id}") as ws:
        assert await receive(ws) == {
            "type": "connected",
            "session_id": session_id,
            "data": {"session_id": session_id},
        }
        await ws.send(json.dumps({"type": "message", "content": "tell me about yourself"}))
        final, before = await until(ws, "final_answer")
        tokens = [f for f in before if f["type"] == "token"]
        assert len(tokens) > 5
        assert "".join(t["data"]["content"] for t in tokens).strip() == final["data"]["content"]
        assert final["data"]["is_final"] is True


@pytest.mark.parametrize("approved", [True, False])
async def test_confirmation_approve_and_deny(backend, session_id, approved):
    async with websockets.connect(f"{backend.ws}/{session_id}") as ws:
        await receive(ws)
        await ws.send(json.dumps({"type": "message", "content": "please run `echo from-the-shell`"}))
        request, _ = await until(ws, "confirmation_request")
        assert request["data"]["command"] == "echo from-the-shell"
        reply = {
            "type": "confirmation_reply",
            "confirmation_id": request["data"]["confirmation_id"],
            "approved": approved,
        }
        await ws.send(json.dumps(reply))
        result, _ = await until(ws, "confirmation_result")
        assert result["data"]["approved"] is approved
        final, _ = await until(ws, "final_answer")
        if approved:
            assert "from-the-shell" in final["data"]["content"]
        else:
            assert "denied" in final["data"]["content"]


async def test_a_connection_opened_after_the_answer_is_not_sent_that_turn_again(backend, session_id):
    async with websockets.connect(f"{backend.ws}/{session_id}") as ws:
        await receive(ws)
        await ws.send(json.dumps({"type": "message", "content": "please run `echo one`"}))
        request, _ = await until(ws, "confirmation_request")
        reply = {
            "type": "confirmation_reply",
            "confirmation_id": request["data"]["confirmation_id"],
            "approved": False,
        }
        await ws.send(json.dumps(reply))
        await until(ws, "final_answer")
    async with websockets.connect(f"{backend.ws}/{session_id}") as again:  # while the run titles the session
        assert (await receive(again))["type"] == "connected"
        with pytest.raises(TimeoutError):  # no tokens, answer or stale confirmation of the finished turn
            await receive(again, 1.5)


async def test_cancel_stops_the_turn_and_keeps_the_partial_text(backend, client, session_id):
    async with websockets.connect(f"{backend.ws}/{session_id}") as ws:
        await receive(ws)
        await ws.send(json.dumps({"type": "message", "content": "write a long story"}))
        for _ in range(5):
            await until(ws, "token")
        loop = asyncio.get_running_loop()
        sent = loop.time()
        await ws.send(json.dumps({"type": "cancel"}))
        result, before = await until(ws, "result")
        assert loop.time() - sent < 1.0
        assert result["data"] == {"status": "cancelled"}
        assert not any(f["type"] == "final_answer" for f in before)
    messages = client.get(f"/api/v1/chat/sessions/{session_id}/messages").json()
    assert messages[-1]["metadata"]["cancelled"] is True
    assert messages[-1]["content"].startswith("Once upon a time")


async def test_a_second_message_while_an_answer_streams_is_refused_as_busy(backend, session_id):
    async with websockets.connect(f"{backend.ws}/{session_id}") as ws:
        await receive(ws)
        await ws.send(json.dumps({"type": "message", "content": "write a long story"}))
        await until(ws, "token")
        await ws.send(json.dumps({"type": "message", "content": "and another"}))
        error, _ = await until(ws, "error")
        assert "still running" in error["data"]["message"]
        await ws.send(json.dumps({"type": "cancel"}))
        await until(ws, "result")


async def test_malformed_json_is_ignored_and_unknown_types_get_an_error(backend, session_id):
    async with websockets.connect(f"{backend.ws}/{session_id}") as ws:
        await receive(ws)
        await ws.send("{not json")
        await ws.send(json.dumps({"type": "ping"}))
        assert (await receive(ws))["type"] == "pong"
        await ws.send(json.dumps({"type": "dance"}))
        error = await receive(ws)
        assert error["type"] == "error" and "dance" in error["data"]["message"]


async def test_unknown_or_closed_session_gets_an_error_then_close(backend, client):
    async with websockets.connect(f"{backend.ws}/nope") as ws:
        assert (await receive(ws))["type"] == "error"
        with pytest.raises(websockets.ConnectionClosed):
            await receive(ws)
    sid = client.post("/api/v1/chat/sessions", json={"agent_name": "assistant"}).json()["session_id"]
    client.delete(f"/api/v1/chat/sessions/{sid}")
    async with websockets.connect(f"{backend.ws}/{sid}") as ws:
        assert "closed" in (await receive(ws))["data"]["message"]


async def test_a_wrong_api_key_closes_with_4001(tmp_path):
    server = start_backend(tmp_path, AGENTKIT_API_KEY="s3cret")
    try:
        sid = httpx.post(
            f"{server.base}/api/v1/chat/sessions",
            json={"agent_name": "assistant"},
            headers={"X-API-Key": "s3cret"},
        ).json()["session_id"]
        async with websockets.connect(f"{server.ws}/{sid}?api_key=wrong") as ws:
            assert (await receive(ws))["type"] == "error"
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await receive(ws)
            assert closed.value.rcvd.code == 4001
        async with websockets.connect(f"{server.ws}/{sid}?api_key=s3cret") as ws:
            assert (await receive(ws))["type"] == "connected"
    finally:
        stop_backend(server)


async def test_ask_human_reply_resumes_the_turn(backend, session_id):
    async with websockets.connect(f"{backend.ws}/{session_id}") as ws:
        await receive(ws)
        await ws.send(json.dumps({"type": "message", "content": "ask me my name"}))
        question, _ = await until(ws, "ask_human")
        await ws.send(
            json.dumps({"type": "reply", "request_id": question["data"]["request_id"], "content": "Ada"})
        )
        final, _ = await until(ws, "final_answer")
        assert "Ada" in final["data"]["content"]


async def test_attachments_over_the_websocket_are_checked(backend, client, session_id):
    stored = client.post(
        f"{backend.base}/api/v1/chat/upload", files={"file": ("ws.txt", b"one\ntwo\nthree\n", "text/plain")}
    ).json()
    async with websockets.connect(f"{backend.ws}/{session_id}") as ws:
        await receive(ws)
        for bad in (5, "ws.txt", [{"stored_name": "f" * 32 + ".txt"}]):
            await ws.send(json.dumps({"type": "message", "content": "read it", "attachments": bad}))
            error, _ = await until(ws, "error")
            assert "attachment" in error["data"]["message"], bad
        await ws.send(
            json.dumps(
                {
                    "type": "message",
                    "content": "read it",
                    "attachments": [{"stored_name": stored["stored_name"]}],
                }
            )
        )
        final, _ = await until(ws, "final_answer")
        assert "The file has 3 lines" in final["data"]["content"]
