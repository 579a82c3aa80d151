"""Read-only share links over a real backend with accounts on: made by the owner, read by others, revoked."""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Iterator

import httpx
import pytest

from tests.api.conftest import Backend, stop_backend
from tests.api.test_auth import ADMIN, API_KEY, CHAT, login, new_member, start_with_accounts

SHARED = "/api/v1/shares"


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Backend]:
    backend = start_with_accounts(tmp_path_factory.mktemp("shares"))
    yield backend
    stop_backend(backend)


@pytest.fixture
def http(server: Backend) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base, timeout=60) as client:
        yield client


@pytest.fixture
def admin(http: httpx.Client) -> dict[str, str]:
    return login(http, ADMIN["username"], ADMIN["password"])


def board_session(http: httpx.Client, owner: dict[str, str]) -> str:
    """Return a session of ``owner`` that held a one-round board meeting."""
    sid = http.post(f"{CHAT}/sessions", json={"agent_name": "assistant"}, headers=owner).json()["session_id"]
    answered = http.post(
        f"{CHAT}/sessions/{sid}/messages", json={"content": "@board rounds=1 a four-day week"}, headers=owner
    )
    assert answered.status_code == 200, answered.text
    return sid


def share(http: httpx.Client, sid: str, who: dict[str, str], **body) -> httpx.Response:
    return http.post(f"{CHAT}/sessions/{sid}/shares", json=body or None, headers=who)


def test_the_owner_shares_a_board_that_signed_in_readers_see_as_the_owner_does(http, admin, server):
    alice, _ = new_member(http, admin)
    bob, _ = new_member(http, admin)
    sid = board_session(http, alice)
    rated = next(
        m
        for m in http.get(f"{CHAT}/sessions/{sid}/messages", headers=alice).json()
        if m["metadata"].get("message_type") == "board_speech"
    )
    http.put(
        f"{CHAT}/sessions/{sid}/messages/{rated['message_id']}/feedback", json={"rating": "up"}, headers=alice
    )

    made = share(http, sid, alice)
    assert made.status_code == 201, made.text
    link = made.json()
    assert link["visibility"] == "signed_in" and link["path"] == f"/share/{link['token']}"
    assert len(link["token"]) == 43 and link["created_by_name"].startswith("user-")

    assert http.get(f"{SHARED}/{link['token']}").status_code == 401
    read = http.get(f"{SHARED}/{link['token']}", headers=bob)
    assert read.status_code == 200, read.text
    shared = read.json()
    owners = http.get(f"{CHAT}/sessions/{sid}/messages", headers=alice).json()
    assert [m["message_id"] for m in shared["messages"]] == [m["message_id"] for m in owners]
    assert [m["metadata"] for m in shared["messages"]] == [m["metadata"] for m in owners]
    kinds = {m["metadata"].get("message_type") for m in shared["messages"]}
    assert {"board_started", "board_speech", "board_summary", "board_conclusion"} <= kinds
    assert shared["session"]["kind"] == "board" and shared["session"]["title"]
    # the owner's votes and who the owner is stay private
    assert all(m["feedback"] is None for m in shared["messages"])
    assert "user_id" not in read.text and "user-" not in read.text

    # reading a link gives no way into the session itself, nor a way to share it on
    assert http.get(f"{CHAT}/sessions/{sid}/messages", headers=bob).status_code == 404
    assert share(http, sid, bob).status_code == 404
    assert http.get(f"{CHAT}/sessions/{sid}/shares", headers=bob).status_code == 404
    assert http.delete(f"{CHAT}/sessions/{sid}/shares/{link['share_id']}", headers=bob).status_code == 404
    # the API key and personal tokens let readers in too
    assert http.get(f"{SHARED}/{link['token']}", headers={"X-API-Key": API_KEY}).status_code == 200


def test_a_public_link_needs_no_sign_in_and_revoking_ends_it_at_once(http, admin):
    alice, _ = new_member(http, admin)
    sid = board_session(http, alice)
    public = share(http, sid, alice, visibility="public").json()
    signed = share(http, sid, alice, visibility="signed_in").json()
    assert public["visibility"] == "public"
    assert http.get(f"{SHARED}/{public['token']}").status_code == 200
    # wrong credentials do not stop a public link
    assert (
        http.get(f"{SHARED}/{public['token']}", headers={"Authorization": "Bearer nonsense"}).status_code
        == 200
    )
    assert (
        http.get(f"{SHARED}/{signed['token']}", headers={"Authorization": "Bearer nonsense"}).status_code
        == 401
    )

    listed = http.get(f"{CHAT}/sessions/{sid}/shares", headers=alice).json()
    assert [s["share_id"] for s in listed] == [signed["share_id"], public["share_id"]]

    gone = http.delete(f"{CHAT}/sessions/{sid}/shares/{public['share_id']}", headers=alice)
    assert gone.status_code == 204
    refused = http.get(f"{SHARED}/{public['token']}")
    assert refused.status_code == 404 and refused.json()["detail"] == "share link not found"
    assert http.delete(f"{CHAT}/sessions/{sid}/shares/{public['share_id']}", headers=alice).status_code == 404
    assert [s["share_id"] for s in http.get(f"{CHAT}/sessions/{sid}/shares", headers=alice).json()] == [
        signed["share_id"]
    ]
    # an admin may share and revoke any session's link
    by_admin = share(http, sid, admin)
    assert by_admin.status_code == 201 and by_admin.json()["created_by_name"] == ADMIN["username"]
    assert (
        http.delete(f"{CHAT}/sessions/{sid}/shares/{by_admin.json()['share_id']}", headers=alice).status_code
        == 204
    )
    assert http.delete(f"{CHAT}/sessions/{sid}/shares/{signed['share_id']}", headers=admin).status_code == 204
    assert http.get(f"{SHARED}/{signed['token']}", headers=alice).status_code == 404


def test_unknown_malformed_and_guessed_tokens_all_get_the_same_404(http, admin, server):
    alice, _ = new_member(http, admin)
    sid = board_session(http, alice)
    real = share(http, sid, alice, visibility="public").json()["token"]
    for token in (
        secrets.token_urlsafe(32),  # well formed, unknown
        real[:-1] + ("A" if real[-1] != "A" else "B"),  # one character off
        real[:20],  # a prefix
        real + "x",
        "x" * 5000,
        "%00",
        "' OR 1=1 --" + "a" * 32,
    ):
        refused = http.get(f"{SHARED}/{token}")
        assert refused.status_code == 404, token
        assert refused.json()["detail"] == "share link not found", token
    assert http.get(f"{SHARED}/..%2F..%2Fetc%2Fpasswd").status_code == 404
    # tokens are 256 random bits, not counters: two links to one session share no prefix worth guessing
    again = share(http, sid, alice, visibility="public").json()["token"]
    assert again != real and again[:8] != real[:8]
    # the store keeps the token under a unique index: no two links can have one token
    db = sqlite3.connect(server.data / "api.db")
    try:
        assert db.execute("SELECT COUNT(DISTINCT token), COUNT(*) FROM shares").fetchone()[0] >= 2
        with pytest.raises(sqlite3.IntegrityError):
            db.execute(
                "INSERT INTO shares VALUES ('dup', ?, ?, NULL, 'public', '2026-01-01', NULL)", (real, sid)
            )
    finally:
        db.close()


def test_bad_requests_to_make_or_revoke_a_link_are_refused_clearly(http, admin):
    alice, _ = new_member(http, admin)
    sid = http.post(f"{CHAT}/sessions", json={"agent_name": "assistant"}, headers=alice).json()["session_id"]
    assert share(http, sid, alice, visibility="everyone").status_code == 422
    assert http.post(f"{CHAT}/sessions/{sid}/shares", content=b"{", headers=alice).status_code in (400, 422)
    assert share(http, "no-such-session", alice).status_code == 404
    assert http.delete(f"{CHAT}/sessions/{sid}/shares/{'x' * 17}", headers=alice).status_code == 422
    assert http.delete(f"{CHAT}/sessions/{sid}/shares/unknown", headers=alice).status_code == 404
    assert http.post(f"{CHAT}/sessions/{sid}/shares", json={}).status_code == 401
    made = [share(http, sid, alice) for _ in range(20)]
    assert all(m.status_code == 201 for m in made)
    too_many = share(http, sid, alice)
    assert too_many.status_code == 409 and "revoke one" in too_many.json()["detail"]
    # purging the session takes its links with it
    token = made[0].json()["token"]
    assert http.delete(f"{CHAT}/sessions/{sid}", params={"purge": "true"}, headers=alice).status_code == 200
    assert http.get(f"{SHARED}/{token}", headers=alice).status_code == 404


def test_without_accounts_a_link_is_public_by_default(client):
    sid = client.post(f"{CHAT}/sessions", json={"agent_name": "assistant"}).json()["session_id"]
    client.post(f"{CHAT}/sessions/{sid}/messages", json={"content": "hello"})
    link = client.post(f"{CHAT}/sessions/{sid}/shares").json()
    assert link["visibility"] == "public" and link["created_by"] is None
    read = client.get(f"{SHARED}/{link['token']}")
    assert read.status_code == 200 and [m["role"] for m in read.json()["messages"]] == ["user", "assistant"]
