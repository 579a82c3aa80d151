"""A client written from the reference's documented protocol works unchanged against a real backend.

The reference put the fields of ``connected``, ``token``, ``thinking``, ``ask_human`` and
``final_answer`` at the top level of a frame and every other event's under ``data``. This client
reads exactly that: it drops ``data`` from those five before looking at them, so it would see
nothing if the fields were only under ``data``.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import websockets

FLAT = {"connected", "token", "thinking", "ask_human", "final_answer"}


class ReferenceClient:
    """The reference's client: sends ``message``, ``reply`` and ``cancel``; reads frames as the reference sent them."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.text = ""

    async def frame(self, timeout: float = 30.0) -> dict[str, Any]:
        """Return the next frame, as much of it as the reference's client would read."""
        frame = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
        if frame["type"] in FLAT:
            frame.pop("data", None)
        if frame["type"] == "token":
            self.text += frame["content"]
        return frame

    async def until(self, kind: str, timeout: float = 60.0) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Read frames until one of type ``kind``; return it and the frames before it."""
        seen: list[dict[str, Any]] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while (frame := await self.frame(max(0.1, deadline - loop.time())))["type"] != kind:
            seen.append(frame)
        return frame, seen

    async def send(self, kind: str, **fields: Any) -> None:
        """Send one client frame."""
        await self.ws.send(json.dumps({"type": kind, **fields}))


async def _connect(backend: Any, session_id: str) -> tuple[Any, ReferenceClient]:
    ws = await websockets.connect(f"{backend.ws}/{session_id}")
    client = ReferenceClient(ws)
    connected = await client.frame()
    assert connected == {"type": "connected", "session_id": session_id}
    return ws, client


async def test_a_turn_reads_tokens_and_the_answer_at_the_top_level(backend, session_id):
    ws, client = await _connect(backend, session_id)
    async with ws:
        await client.send("message", content="tell me about yourself")
        final, _ = await client.until("final_answer")
        assert final["content"] and client.text.strip() == final["content"]


async def test_an_ask_human_exchange_reads_the_question_and_its_id_at_the_top_level(backend, session_id):
    ws, client = await _connect(backend, session_id)
    async with ws:
        await client.send("message", content="ask me my name")
        question, _ = await client.until("ask_human")
        assert question["question"]
        await client.send("reply", request_id=question["request_id"], content="Grace")
        final, _ = await client.until("final_answer")
        assert "Grace" in final["content"]


async def test_a_cancel_ends_the_turn_with_a_result_under_data(backend, session_id):
    ws, client = await _connect(backend, session_id)
    async with ws:
        await client.send("message", content="write a long story")
        await client.until("token")
        await client.send("cancel")
        result, before = await client.until("result")
        assert result["data"]["status"] == "cancelled"
        assert client.text and "Once upon a time".startswith(client.text.strip()[:16])
        assert "final_answer" not in [f["type"] for f in before]


async def test_a_board_meeting_reads_speeches_under_data_and_the_conclusion_at_the_top_level(
    backend, session_id
):
    ws, client = await _connect(backend, session_id)
    async with ws:
        await client.send("message", content="@board:Strategist,Investor rounds=1 open a second shop")
        final, before = await client.until("final_answer", timeout=120)
        speeches = [f["data"] for f in before if f["type"] == "expert_speech"]
        assert {s["expert_name"] for s in speeches} == {"Strategist", "Investor"}
        assert any(f["type"] == "board_concluded" for f in before)
        assert final["content"]


async def test_a_team_run_reads_phases_under_data_and_the_synthesis_at_the_top_level(backend, session_id):
    ws, client = await _connect(backend, session_id)
    async with ws:
        await client.send("message", content="@team write a release note")
        final, before = await client.until("final_answer", timeout=120)
        kinds = [f["type"] for f in before]
        assert "team_formed" in kinds and "phase_completed" in kinds
        assert all(f["data"]["name"] for f in before if f["type"] == "phase_completed")
        assert final["content"]
