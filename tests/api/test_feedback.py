"""Thumbs up or down on answers, speeches, conclusions and syntheses over REST, and the admin's list of votes."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.api.conftest import Backend, start_backend, stop_backend
from tests.api.test_auth import ADMIN, login

CHAT = "/api/v1/chat"


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Backend]:
    """The API with user accounts on and a bootstrap admin."""
    backend = start_backend(
        tmp_path_factory.mktemp("feedback"),
        AGENTKIT_AUTH_ENABLED="true",
        AGENTKIT_ADMIN_USERNAME=ADMIN["username"],
        AGENTKIT_ADMIN_PASSWORD=ADMIN["password"],
        AGENTKIT_JWT_SECRET="jwt-secret-for-tests-0123456789-abcdefgh",
    )
    yield backend
    stop_backend(backend)


@pytest.fixture(scope="module")
def http(server: Backend) -> Iterator[httpx.Client]:
    """A client without credentials."""
    with httpx.Client(base_url=server.base, timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def admin(http: httpx.Client) -> dict[str, str]:
    """The admin's Authorization header."""
    return login(http, ADMIN["username"], ADMIN["password"])


def _user(http: httpx.Client, admin: dict[str, str]) -> dict[str, str]:
    name = f"reader-{uuid.uuid4().hex[:8]}"
    created = http.post(
        "/api/v1/admin/users", json={"username": name, "password": "pass-word-1"}, headers=admin
    )
    assert created.status_code == 201, created.text
    return login(http, name, "pass-word-1")


@pytest.fixture(scope="module")
def alice(http: httpx.Client, admin: dict[str, str]) -> dict[str, str]:
    """A regular user."""
    return _user(http, admin)


def _turn(http: httpx.Client, who: dict[str, str], text: str) -> tuple[str, list[dict]]:
    """Run one turn in a new session; return the session id and its messages."""
    sid = http.post(f"{CHAT}/sessions", json={"agent_name": "assistant"}, headers=who).json()["session_id"]
    assert (
        http.post(f"{CHAT}/sessions/{sid}/messages", json={"content": text}, headers=who).status_code == 200
    )
    return sid, http.get(f"{CHAT}/sessions/{sid}/messages", headers=who).json()


def _rate(http: httpx.Client, who: dict[str, str], sid: str, mid: str, **body) -> httpx.Response:
    return http.put(f"{CHAT}/sessions/{sid}/messages/{mid}/feedback", json=body, headers=who)


def test_a_vote_shows_with_the_message_changes_in_place_and_clears(http, alice):
    sid, messages = _turn(http, alice, "what is 6 * 7?")
    question, answer = messages[0], messages[-1]
    assert answer["feedback"] is None
    up = _rate(http, alice, sid, answer["message_id"], rating="up")
    assert up.status_code == 200, up.text
    assert up.json()["feedback"]["rating"] == "up"
    down = _rate(http, alice, sid, answer["message_id"], rating="down", comment="  it forgot the units ")
    assert down.json()["feedback"]["comment"] == "it forgot the units"
    shown = http.get(f"{CHAT}/sessions/{sid}/messages", headers=alice).json()[-1]["feedback"]
    assert (shown["rating"], shown["comment"]) == ("down", "it forgot the units")

    doc = http.get(f"{CHAT}/sessions/{sid}/export", params={"format": "json"}, headers=alice).json()
    assert doc["messages"][-1]["feedback"][0]["rating"] == "down"
    md = http.get(f"{CHAT}/sessions/{sid}/export", headers=alice).text
    assert "*Feedback: 👎 it forgot the units*" in md

    cleared = _rate(http, alice, sid, answer["message_id"], rating=None)
    assert cleared.status_code == 200 and cleared.json()["feedback"] is None
    assert http.get(f"{CHAT}/sessions/{sid}/messages", headers=alice).json()[-1]["feedback"] is None

    # the user's own message is not rated
    refused = _rate(http, alice, sid, question["message_id"], rating="up")
    assert refused.status_code == 422 and "can be rated" in refused.json()["detail"]


def test_hostile_votes_are_refused_clearly(http, admin, alice):
    sid, messages = _turn(http, alice, "hello")
    mid = messages[-1]["message_id"]
    for body in (
        {"rating": "meh"},
        {"rating": "up", "comment": "x" * 2001},
        {"rating": "up", "comment": "nul\x00byte"},
        {"comment": "no rating"},
    ):
        assert _rate(http, alice, sid, mid, **body).status_code == 422, body
    assert _rate(http, alice, sid, mid, rating="up", comment="x" * 2000).status_code == 200
    assert _rate(http, alice, sid, "not-a-message", rating="up").status_code == 404
    _, elsewhere = _turn(http, alice, "hi again")
    assert _rate(http, alice, sid, elsewhere[-1]["message_id"], rating="up").status_code == 404
    # another user's session does not exist for them, and neither does its message
    bob = _user(http, admin)
    assert _rate(http, bob, sid, mid, rating="down").status_code == 404
    assert _rate(http, {}, sid, mid, rating="down").status_code == 401


def test_votes_sent_at_once_leave_one(http, alice):
    sid, messages = _turn(http, alice, "hello there")
    mid = messages[-1]["message_id"]
    with ThreadPoolExecutor(8) as pool:
        replies = list(pool.map(lambda r: _rate(http, alice, sid, mid, rating=r), ["up", "down"] * 8))
    assert {r.status_code for r in replies} == {200}
    shown = http.get(f"{CHAT}/sessions/{sid}/messages", headers=alice).json()[-1]["feedback"]
    assert shown["rating"] in ("up", "down")


def test_board_speeches_and_conclusion_are_rated_and_admins_list_them(http, admin, alice):
    sid, messages = _turn(http, alice, "@board:Strategist,Investor rounds=1 open a second shop")
    speech = next(m for m in messages if m["metadata"].get("message_type") == "board_speech")
    conclusion = next(m for m in messages if m["metadata"].get("message_type") == "board_conclusion")
    started = next(m for m in messages if m["metadata"].get("message_type") == "board_started")
    assert (
        _rate(http, alice, sid, speech["message_id"], rating="down", comment="too vague").status_code == 200
    )
    assert _rate(http, alice, sid, conclusion["message_id"], rating="up").status_code == 200
    assert _rate(http, alice, sid, started["message_id"], rating="up").status_code == 422

    listed = http.get("/api/v1/admin/feedback", headers=admin)
    assert listed.status_code == 200, listed.text
    newest = listed.json()[0]
    assert (newest["message_id"], newest["rating"], newest["message_type"]) == (
        conclusion["message_id"],
        "up",
        "board_conclusion",
    )
    assert newest["username"].startswith("reader-") and newest["agent_name"] == "board_meeting"
    expert = speech["metadata"]["expert_name"]
    by_expert = http.get("/api/v1/admin/feedback", params={"expert": expert}, headers=admin).json()
    assert [(e["message_id"], e["comment"]) for e in by_expert] == [(speech["message_id"], "too vague")]
    assert by_expert[0]["excerpt"]
    downs = http.get("/api/v1/admin/feedback", params={"rating": "down"}, headers=admin).json()
    assert downs and all(e["rating"] == "down" for e in downs)
    by_agent = http.get("/api/v1/admin/feedback", params={"agent": "board_meeting"}, headers=admin).json()
    assert {e["message_id"] for e in by_agent} == {speech["message_id"], conclusion["message_id"]}
    page = http.get("/api/v1/admin/feedback", params={"limit": 1}, headers=admin).json()
    rest = http.get(
        "/api/v1/admin/feedback", params={"limit": 1, "before": page[0]["updated_at"]}, headers=admin
    ).json()
    assert len(page) == len(rest) == 1 and rest[0]["message_id"] != page[0]["message_id"]

    summary = http.get("/api/v1/admin/feedback/summary", headers=admin).json()
    assert {"name": expert, "up": 0, "down": 1} in summary["experts"]
    board = next(t for t in summary["agents"] if t["name"] == "board_meeting")
    assert (board["up"], board["down"]) == (1, 1)
    assert http.get("/api/v1/admin/feedback/summary", headers=alice).status_code == 403

    summary = http.get("/api/v1/admin/feedback/summary", headers=admin).json()
    assert {"name": expert, "up": 0, "down": 1} in summary["experts"]
    board = next(t for t in summary["agents"] if t["name"] == "board_meeting")
    assert (board["up"], board["down"]) == (1, 1)
    assert http.get("/api/v1/admin/feedback/summary", headers=alice).status_code == 403

    md = http.get(f"{CHAT}/sessions/{sid}/export", headers=alice).text
    assert "*Feedback: 👎 too vague*" in md and "*Feedback: 👍*" in md

    assert http.get("/api/v1/admin/feedback", headers=alice).status_code == 403
    assert http.get("/api/v1/admin/feedback", params={"rating": "meh"}, headers=admin).status_code == 422
    assert http.get("/api/v1/admin/feedback", params={"limit": 0}, headers=admin).status_code == 422
    ancient = {"before": "0001-01-01T00:00:00+01:00"}
    assert http.get("/api/v1/admin/feedback", params=ancient, headers=admin).json() == []
