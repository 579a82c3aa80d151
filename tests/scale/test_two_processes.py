"""Two backend processes against one PostgreSQL and one Redis: any process serves any session.

Both run the bare API (uvicorn) on the offline demo model, whose "long story" streams for about
ten seconds; runs live on Redis under a key prefix of this test, with a lease of two seconds.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
from collections.abc import Iterator

import httpx
import pytest
import websockets

from tests.api.conftest import Backend, start_backend, stop_backend
from tests.api.test_sse import Sse, assert_in_order_once, collect, text, tokens
from tests.api.test_ws import receive, until

pytestmark = pytest.mark.postgres

API = "/api/v1/chat"
STORY = "write a long story"


@pytest.fixture(scope="module")
def pair(
    scale_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Backend, Backend]]:
    """Start processes A and B with the shared settings."""
    a = start_backend(tmp_path_factory.mktemp("a"), **scale_env)
    try:
        b = start_backend(tmp_path_factory.mktemp("b"), **scale_env)
    except BaseException:
        stop_backend(a)
        raise
    try:
        yield a, b
    finally:
        stop_backend(b)
        stop_backend(a)


def _session(backend: Backend) -> str:
    reply = httpx.post(f"{backend.base}{API}/sessions", json={"agent_name": "assistant"}, timeout=30)
    return str(reply.json()["session_id"])


async def _started(backend: Backend, session_id: str, text: str, first: str):
    """Open a socket on ``backend``, send ``text`` and wait for a frame of type ``first``; return the socket."""
    ws = await websockets.connect(f"{backend.ws}/{session_id}")
    await receive(ws)
    await ws.send(json.dumps({"type": "message", "content": text}))
    frame, _ = await until(ws, first)
    return ws, frame


def test_a_session_made_through_one_process_is_listed_by_the_other(pair):
    a, b = pair
    session_id = _session(a)
    listed = httpx.get(f"{b.base}{API}/sessions", timeout=30).json()
    assert session_id in {s["session_id"] for s in listed}


async def test_a_turn_on_one_process_streams_to_the_other_which_refuses_a_second_and_stops_it(pair):
    a, b = pair
    session_id = _session(a)
    on_a, _ = await _started(a, session_id, STORY, "token")
    async with websockets.connect(f"{b.ws}/{session_id}") as on_b, httpx.AsyncClient(base_url=b.base) as http:
        await receive(on_b)
        first, _ = await until(on_b, "token")
        assert first["data"]["content"].startswith("Once"), first  # replayed from the start, then live
        await until(on_b, "token")
        second = await http.post(f"{API}/sessions/{session_id}/messages", json={"content": "hello"})
        assert second.status_code == 409 and "still running" in second.json()["detail"]
        stopped = await http.post(f"{API}/sessions/{session_id}/cancel")
        assert stopped.json() == {"cancelled": 1}
        result, _ = await until(on_a, "result", 5)
        assert result["data"] == {"status": "cancelled"}
        assert (await until(on_b, "result", 5))[0]["data"] == {"status": "cancelled"}
        messages = (await http.get(f"{API}/sessions/{session_id}/messages")).json()
        assert messages[-1]["metadata"]["cancelled"] is True
    await on_a.close()


async def test_approvals_and_replies_sent_through_one_process_reach_the_run_on_the_other(pair):
    a, b = pair
    session_id = _session(a)
    async with httpx.AsyncClient(base_url=b.base, timeout=30) as http:
        on_a, asked = await _started(a, session_id, "ask me my name", "ask_human")
        request_id = asked["data"]["request_id"]
        wrong = await http.post(f"{API}/sessions/{session_id}/replies/nobody-asked", json={"content": "x"})
        assert wrong.status_code == 404
        reply = await http.post(f"{API}/sessions/{session_id}/replies/{request_id}", json={"content": "Ada"})
        assert reply.status_code == 200, reply.text
        answer, _ = await until(on_a, "final_answer")
        assert "Ada" in answer["data"]["content"]
        await on_a.close()
        on_a, confirm = await _started(a, session_id, "please run `echo from-b`", "confirmation_request")
        confirmation_id = confirm["data"]["confirmation_id"]
        approved = await http.post(
            f"{API}/sessions/{session_id}/confirmations/{confirmation_id}", json={"approved": True}
        )
        assert approved.status_code == 200, approved.text
        result, _ = await until(on_a, "confirmation_result")
        assert result["data"]["approved"] is True
        await until(on_a, "final_answer")
        await on_a.close()


async def test_a_message_through_one_process_joins_the_team_running_on_the_other(pair):
    a, b = pair
    session_id = _session(a)
    on_a, _ = await _started(a, session_id, "@team write a changelog", "phase_started")
    async with httpx.AsyncClient(base_url=b.base, timeout=30) as http:
        joined = await http.post(
            f"{API}/sessions/{session_id}/messages", json={"content": "mention the tests"}
        )
        assert joined.status_code == 200, joined.text
        assert joined.json()["role"] == "user" and joined.json()["content"] == "mention the tests"
        assert (await http.post(f"{API}/sessions/{session_id}/cancel")).json() == {"cancelled": 1}
    await until(on_a, "team_dissolved")
    await on_a.close()


async def test_a_turn_streamed_over_http_by_one_process_is_followed_and_resumed_on_the_other(pair):
    a, b = pair
    url = f"{API}/sessions/{_session(a)}"
    async with (
        httpx.AsyncClient(base_url=a.base, timeout=30) as on_a,
        httpx.AsyncClient(base_url=b.base, timeout=30) as on_b,
    ):
        async with on_a.stream("POST", f"{url}/messages", json={"content": STORY, "stream": True}) as reply:
            first = await collect(reply, tokens(15))
        # the stream to A dropped; the run goes on, and B follows it from the start or from the last id

        async def follow(headers: dict[str, str]) -> list[Sse]:
            async with on_b.stream("GET", f"{url}/stream", headers=headers) as late:
                assert late.status_code == 200
                return await collect(late)

        whole, rest = await asyncio.gather(follow({}), follow({"Last-Event-ID": first[-1].id}))
        final = rest[-1].frame
        assert final["type"] == "final_answer" and "replay" not in final
        assert_in_order_once(first + rest)
        assert text(first + rest).strip() == final["content"]
        marked = [e for e in whole if e.frame.get("replay")]
        assert marked and whole[: len(marked)] == marked, "what came before B was asked, first and marked"
        # the replay is what had reached Redis when B was asked: a process gathers its runs' writes for
        # up to 50 ms, so it may end a few tokens before or after what A's client had got
        assert text(first).startswith(text(marked)) or text(marked).startswith(text(first))
        assert_in_order_once(whole)
        assert text(whole) == text(first + rest) and whole[-1].frame["content"] == final["content"]
        await asyncio.sleep(0.5)  # the run has ended: its stream stays in Redis a while
        async with on_b.stream("GET", f"{url}/stream", params={"after": first[-1].id}) as again:
            replayed = await collect(again)
        assert (
            text(replayed) == text(rest) and replayed[-1].id == rest[-1].id
        )  # tokens ready together: joined
        assert all(e.frame["replay"] for e in replayed)
        done = await on_b.get(f"{url}/stream", headers={"Last-Event-ID": rest[-1].id})
        assert done.status_code == 204


async def test_when_a_process_dies_mid_answer_the_other_shows_it_interrupted_with_what_had_streamed(pair):
    a, b = pair
    session_id = _session(b)
    on_a, _ = await _started(a, session_id, STORY, "token")
    async with websockets.connect(f"{b.ws}/{session_id}") as on_b:
        await receive(on_b)
        streamed = ""
        while len(streamed) < 60:  # some sentences in
            streamed += (await until(on_b, "token"))[0]["data"]["content"]
        os.kill(a.process.pid, signal.SIGKILL)
        error, before = await until(on_b, "error", 15)
        assert error["data"]["code"] == "interrupted"
    streamed += "".join(f["data"]["content"] for f in before if f["type"] == "token")
    async with httpx.AsyncClient(base_url=b.base, timeout=30) as http:
        messages = (await http.get(f"{API}/sessions/{session_id}/messages")).json()
        busy = await http.post(f"{API}/sessions/{session_id}/messages", json={"content": "hello again"})
    last = [m for m in messages if m["role"] == "assistant"][-1]
    assert last["metadata"]["interrupted"] is True
    assert last["content"] == streamed.strip() and last["content"].startswith("Once upon a time")
    assert busy.status_code == 200, "the session is free again"


async def test_when_a_process_dies_its_board_keeps_its_speeches_and_its_team_resumes_once_elsewhere(
    pair, scale_env, tmp_path
):
    _, b = pair
    victim = start_backend(tmp_path, **scale_env)  # one more process like A, to be killed
    board, team = _session(b), _session(b)
    on_victim, _ = await _started(victim, board, "@board should we ship on Friday?", "expert_speech")
    on_team, _ = await _started(victim, team, "@team write a changelog", "phase_completed")
    async with (
        websockets.connect(f"{b.ws}/{board}") as on_board,
        websockets.connect(f"{b.ws}/{team}") as on_b,
    ):
        await receive(on_board)
        await receive(on_b)
        spoken, _ = await until(on_board, "expert_speech")
        os.kill(victim.process.pid, signal.SIGKILL)
        assert (await until(on_board, "error", 15))[0]["data"]["code"] == "interrupted"
        assert (await until(on_b, "error", 15))[0]["data"]["code"] == "interrupted"
    async with httpx.AsyncClient(base_url=b.base, timeout=60) as http:
        stored = (await http.get(f"{API}/sessions/{board}/messages")).json()
        assert spoken["data"]["content"] in [m["content"] for m in stored]
        resumed = await asyncio.gather(
            http.post(f"{API}/sessions/{team}/team/resume"), http.post(f"{API}/sessions/{team}/team/resume")
        )
        assert sorted(r.status_code for r in resumed) == [200, 404], [r.text for r in resumed]
        stored = (await http.get(f"{API}/sessions/{team}/messages")).json()
        done = [
            m["metadata"]["phase_id"] for m in stored if m["metadata"].get("event_type") == "phase_completed"
        ]
        assert done and len(done) == len(set(done)), "no finished phase ran again"
        session = (await http.get(f"{API}/sessions/{team}")).json()
        assert session["server_state"]["team_run"]["status"] == "completed"
