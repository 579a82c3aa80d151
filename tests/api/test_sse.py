"""Turns streamed as Server-Sent Events, and viewers that connect mid-run, over a real running backend.

The offline demo model's "long story" streams for about ten seconds, long enough to drop a
connection and come back while the run goes on.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import httpx
import pytest
import websockets

from tests.api.test_auth import ADMIN, API_KEY, login, new_member
from tests.api.test_tokens import make_token
from tests.api.test_ws import receive, until

CHAT = "/api/v1/chat"
STORY = "write a long story"


@dataclass
class Sse:
    """One Server-Sent Event as a client reads it: its ``event:``, its ``id:`` and its ``data:`` parsed."""

    event: str
    id: str
    frame: dict


async def events_of(reply: httpx.Response) -> AsyncIterator[Sse]:
    """Yield the events of an event stream as they arrive (comments, i.e. pings, skipped)."""
    fields: dict[str, str] = {}
    async for line in reply.aiter_lines():
        if not line:
            if "data" in fields:
                yield Sse(fields.get("event", "message"), fields.get("id", ""), json.loads(fields["data"]))
            fields = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")


_readers: dict[int, AsyncIterator[Sse]] = {}


async def collect(reply: httpx.Response, enough: Callable[[list[Sse]], bool] | None = None) -> list[Sse]:
    """Read events until ``enough`` says so, or to the end of the stream; the next call reads on from there."""
    reader = _readers.setdefault(id(reply), events_of(reply))
    seen: list[Sse] = []
    async for event in reader:
        seen.append(event)
        if enough is not None and enough(seen):
            return seen
    _readers.pop(id(reply), None)
    return seen


def tokens(count: int) -> Callable[[list[Sse]], bool]:
    """Return a test of whether ``count`` token events have come."""
    return lambda seen: sum(e.event == "token" for e in seen) >= count


def kind(name: str) -> Callable[[list[Sse]], bool]:
    """Return a test of whether an event of type ``name`` has come."""
    return lambda seen: seen[-1].event == name


def text(events: list[Sse] | list[dict]) -> str:
    """Return the answer text of token events or frames, in order."""
    frames = [e.frame if isinstance(e, Sse) else e for e in events]
    return "".join(f["content"] for f in frames if f["type"] == "token")


def seq(event_id: str) -> int:
    """Return the number of an event id (``{run}:{n}``)."""
    return int(event_id.rpartition(":")[2])


def assert_in_order_once(events: list[Sse] | list[dict]) -> None:
    """Assert that the events are one run's, each once, in the order it produced them."""
    ids = [e.id if isinstance(e, Sse) else e["id"] for e in events]
    assert len({i.rpartition(":")[0] for i in ids}) == 1
    assert [seq(i) for i in ids] == sorted({seq(i) for i in ids}), "ids increase, none repeated"


async def test_a_turn_streams_as_server_sent_events_when_asked_by_accept_or_body(backend, session_id):
    async with httpx.AsyncClient(base_url=backend.base, timeout=30) as http:
        for ask in ({"headers": {"Accept": "text/event-stream"}}, {"json_extra": {"stream": True}}):
            body = {"content": "tell me about yourself", **ask.get("json_extra", {})}
            url = f"{CHAT}/sessions/{session_id}/messages"
            async with http.stream("POST", url, json=body, headers=ask.get("headers")) as reply:
                assert reply.status_code == 200
                assert reply.headers["content-type"].startswith("text/event-stream")
                events = await collect(reply)
            assert all(e.event == e.frame["type"] and e.id == e.frame["id"] for e in events)
            assert_in_order_once(events)
            assert not any(e.frame.get("replay") for e in events), "nothing of a new turn is a replay"
            final = events[-1]
            assert final.event == "final_answer" and final.frame["content"]
            assert len([e for e in events if e.event == "token"]) > 5
            assert text(events).strip() == final.frame["content"]
        plain = await http.post(url, json={"content": "and without streaming?"})
        assert plain.status_code == 200 and plain.json()["role"] == "assistant"


async def test_a_dropped_stream_resumed_with_last_event_id_loses_nothing_and_repeats_nothing(
    backend, session_id
):
    async with httpx.AsyncClient(base_url=backend.base, timeout=30) as http:
        url = f"{CHAT}/sessions/{session_id}"
        async with http.stream("POST", f"{url}/messages", json={"content": STORY, "stream": True}) as reply:
            first = await collect(reply, tokens(15))
        await asyncio.sleep(0.5)  # the run goes on with nobody reading
        async with http.stream("GET", f"{url}/stream", headers={"Last-Event-ID": first[-1].id}) as reply:
            assert reply.status_code == 200
            rest = await collect(reply)
        assert_in_order_once(first + rest)
        assert rest[0].frame.get("replay") is True, "what came while away is marked"
        assert rest[-1].event == "final_answer" and "replay" not in rest[-1].frame
        assert text(first + rest).strip() == rest[-1].frame["content"]
        stored = (await http.get(f"{url}/messages")).json()
        assert [m["role"] for m in stored] == ["user", "assistant"], "one turn, stored once"


async def test_a_stream_dropped_until_the_run_ended_still_gets_its_end(backend, session_id):
    async with httpx.AsyncClient(base_url=backend.base, timeout=30) as http:
        url = f"{CHAT}/sessions/{session_id}"
        body = {"content": "tell me about yourself", "stream": True}
        async with http.stream("POST", f"{url}/messages", json=body) as reply:
            first = await collect(reply, tokens(3))
        for _ in range(100):
            if len((await http.get(f"{url}/messages")).json()) == 2:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.3)  # and the run has titled the session
        async with http.stream("GET", f"{url}/stream", params={"after": first[-1].id}) as reply:
            rest = await collect(reply)
        assert_in_order_once(first + rest)
        assert rest[-1].event == "final_answer" and all(e.frame["replay"] for e in rest)
        assert text(first + rest).strip() == rest[-1].frame["content"]
        again = await http.get(f"{url}/stream", headers={"Last-Event-ID": rest[-1].id})
        assert again.status_code == 204, "nothing after the end: the stream ends at once"
        assert (await http.get(f"{url}/stream")).status_code == 204, "nothing running"


async def test_a_viewer_opened_mid_run_gets_what_came_so_far_marked_then_follows_live(backend, session_id):
    async with httpx.AsyncClient(base_url=backend.base, timeout=30) as http:
        url = f"{CHAT}/sessions/{session_id}"
        async with http.stream("POST", f"{url}/messages", json={"content": STORY, "stream": True}) as reply:
            first = await collect(reply, tokens(10))
            async with http.stream("GET", f"{url}/stream") as late_reply:
                async with websockets.connect(f"{backend.ws}/{session_id}") as ws:
                    assert (await receive(ws))["type"] == "connected"
                    final_frame, ws_frames = await until(ws, "final_answer")
                late = await collect(late_reply)
            first += await collect(reply)
    final = first[-1].frame
    for frames in ([e.frame for e in late], [*ws_frames, final_frame]):
        marked = [f for f in frames if f.get("replay")]
        assert frames[: len(marked)] == marked, "what came before is first, and marked"
        assert text(marked).startswith(text(first[:10])), "at least all that came before"
        assert frames[-1]["type"] == "final_answer" and "replay" not in frames[-1]
        assert_in_order_once(frames)
        assert text(frames) == text(first), "every token, in order, as the first viewer saw them"
        assert frames[-1]["content"] == final["content"]


async def test_the_websocket_resumes_after_an_id_it_names(backend, session_id):
    async with websockets.connect(f"{backend.ws}/{session_id}") as ws:
        await receive(ws)
        await ws.send(json.dumps({"type": "message", "content": "tell me about yourself"}))
        final, before = await until(ws, "final_answer")
    assert_in_order_once([*before, final])
    resume_at = [f for f in before if f["type"] == "token"][1]
    missed = before[before.index(resume_at) + 1 :]
    await asyncio.sleep(0.3)
    async with websockets.connect(f"{backend.ws}/{session_id}?after={resume_at['id']}") as ws:
        await receive(ws)
        again, resumed = await until(ws, "final_answer")
    assert text(resumed) == text(missed) and again["content"] == final["content"]
    assert all(f["replay"] for f in [*resumed, again])
    async with websockets.connect(f"{backend.ws}/{session_id}?after=yesterday") as ws:
        error = await receive(ws)
        assert error["type"] == "error" and "not an event id" in error["data"]["message"]
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await receive(ws)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4000


async def test_an_answered_confirmation_is_not_asked_again_and_a_pending_one_is(backend, session_id):
    url = f"{CHAT}/sessions/{session_id}"
    body = {"content": "please run `sleep 3; echo done-sleeping`", "stream": True}
    async with httpx.AsyncClient(base_url=backend.base, timeout=30) as http:
        async with http.stream("POST", f"{url}/messages", json=body) as reply:
            asked = await collect(reply, kind("confirmation_request"))
            before_request = asked[-2].id
            async with http.stream("GET", f"{url}/stream") as pending:
                replayed = await collect(pending, kind("confirmation_request"))
            assert replayed[-1].frame["replay"] is True, "a confirmation still waiting is asked again"
            request = asked[-1].frame["data"]
            approved = await http.post(
                f"{url}/confirmations/{request['confirmation_id']}", json={"approved": True}
            )
            assert approved.json() == {"approved": True}
            asked += await collect(reply, kind("confirmation_result"))

            async def over_sse(headers: dict[str, str]) -> list[dict]:
                async with http.stream("GET", f"{url}/stream", headers=headers) as late:
                    return [e.frame for e in await collect(late)]

            async def over_websocket() -> list[dict]:
                async with websockets.connect(f"{backend.ws}/{session_id}") as ws:
                    await receive(ws)
                    final, frames = await until(ws, "final_answer")
                    return [*frames, final]

            views = await asyncio.gather(
                over_sse({}), over_sse({"Last-Event-ID": before_request}), over_websocket()
            )
            asked += await collect(reply)
    assert "done-sleeping" in asked[-1].frame["content"]
    for frames in views:
        types = [f["type"] for f in frames]
        assert "confirmation_result" in types and "confirmation_request" not in types, types
        assert frames[-1]["type"] == "final_answer" and "done-sleeping" in frames[-1]["content"]


async def test_a_second_streamed_turn_while_one_runs_is_refused_before_streaming(backend, session_id):
    async with httpx.AsyncClient(base_url=backend.base, timeout=30) as http:
        url = f"{CHAT}/sessions/{session_id}"
        async with http.stream("POST", f"{url}/messages", json={"content": STORY, "stream": True}) as reply:
            await collect(reply, tokens(1))
            busy = await http.post(
                f"{url}/messages", json={"content": "me too"}, headers={"Accept": "text/event-stream"}
            )
            assert busy.status_code == 409 and busy.headers["content-type"] == "application/json"
            assert busy.json()["detail"]
            assert (await http.post(f"{url}/cancel")).json() == {"cancelled": 1}
            rest = await collect(reply)
        assert rest[-1].event == "result" and rest[-1].frame["data"]["status"] == "cancelled"


def test_a_last_event_id_that_is_not_an_event_id_is_a_clear_400(client, session_id):
    url = f"{CHAT}/sessions/{session_id}/stream"
    for bad in ({"headers": {"Last-Event-ID": "42"}}, {"params": {"after": "x" * 3000}}):
        reply = client.get(url, **bad)
        assert reply.status_code == 400 and "not an event id" in reply.json()["detail"]
    unknown = client.get(url, headers={"Last-Event-ID": f"{'0' * 32}:5"})
    assert unknown.status_code == 204, "a run nobody knows of leaves nothing to follow"
    assert client.get(f"{CHAT}/sessions/nope/stream").status_code == 404
    closed = client.post(f"{CHAT}/sessions", json={"agent_name": "assistant"}).json()["session_id"]
    client.delete(f"{CHAT}/sessions/{closed}")
    refused = client.post(f"{CHAT}/sessions/{closed}/messages", json={"content": "hi", "stream": True})
    assert refused.status_code == 400 and refused.headers["content-type"] == "application/json"


def test_the_docs_describe_the_event_stream(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    post = paths[f"{CHAT}/sessions/{{session_id}}/messages"]["post"]
    assert set(post["responses"]["200"]["content"]) == {"application/json", "text/event-stream"}
    stream = paths[f"{CHAT}/sessions/{{session_id}}/stream"]["get"]
    assert set(stream["responses"]["200"]["content"]) == {"text/event-stream"}
    assert {"200", "204", "400", "401", "404"} <= set(stream["responses"])
    assert {p["name"] for p in stream["parameters"]} >= {"last-event-id", "after"}


def test_streams_take_the_credentials_and_ownership_of_every_session_route(secured):
    with httpx.Client(base_url=secured.base, timeout=30) as http:
        admin = login(http, ADMIN["username"], ADMIN["password"])
        alice, _ = new_member(http, admin)
        bob, _ = new_member(http, admin)
        bobs_token = {"X-API-Key": make_token(http, bob)["token"]}
        sid = http.post(f"{CHAT}/sessions", json={"agent_name": "assistant"}, headers=alice).json()[
            "session_id"
        ]
        body = {"content": "what is 6 * 7?", "stream": True}
        for headers, status in (({}, 401), ({"X-API-Key": "wrong"}, 401), (bob, 404), (bobs_token, 404)):
            refused = http.post(f"{CHAT}/sessions/{sid}/messages", json=body, headers=headers)
            assert refused.status_code == status and refused.headers["content-type"] == "application/json"
            assert http.get(f"{CHAT}/sessions/{sid}/stream", headers=headers).status_code == status
        for headers in (alice, {"X-API-Key": make_token(http, alice)["token"]}, {"X-API-Key": API_KEY}):
            with http.stream("POST", f"{CHAT}/sessions/{sid}/messages", json=body, headers=headers) as reply:
                assert reply.status_code == 200
                assert "42" in "".join(reply.iter_text())


def test_a_streamed_turn_over_the_quota_is_refused_before_streaming(secured):
    with httpx.Client(base_url=secured.base, timeout=30) as http:
        admin = login(http, ADMIN["username"], ADMIN["password"])
        user, department_id = new_member(
            http, admin, [{"quota_type": "requests", "period": "day", "limit": 1}]
        )
        sid = http.post(f"{CHAT}/sessions", json={"agent_name": "assistant"}, headers=user).json()[
            "session_id"
        ]
        url = f"{CHAT}/sessions/{sid}/messages"
        with http.stream(
            "POST", url, json={"content": "what is 2 + 2?", "stream": True}, headers=user
        ) as reply:
            assert reply.status_code == 200 and "final_answer" in "".join(reply.iter_text())
        refused = http.post(
            url, json={"content": "and 3 + 3?"}, headers={**user, "Accept": "text/event-stream"}
        )
        assert refused.status_code == 429 and refused.headers["content-type"] == "application/json"
        assert refused.json()["quota_info"]["department_id"] == department_id
