"""Personal API tokens over a real backend with accounts on: made, shown once, used as their user, revoked."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator

import httpx
import pytest
import websockets

from tests.api.conftest import Backend, stop_backend
from tests.api.test_auth import ADMIN, API_KEY, CHAT, login, new_member, receive, start_with_accounts

TOKENS = "/api/v1/auth/tokens"


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Backend]:
    backend = start_with_accounts(tmp_path_factory.mktemp("tokens"))
    yield backend
    stop_backend(backend)


@pytest.fixture
def http(server: Backend) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base, timeout=30) as client:
        yield client


@pytest.fixture
def admin(http: httpx.Client) -> dict[str, str]:
    return login(http, ADMIN["username"], ADMIN["password"])


def make_token(http: httpx.Client, signed_in: dict[str, str], name: str = "script", **body) -> dict:
    made = http.post(TOKENS, json={"name": name, **body}, headers=signed_in)
    assert made.status_code == 201, made.text
    return made.json()


def key(token: dict) -> dict[str, str]:
    return {"X-API-Key": token["token"]}


def test_a_token_is_shown_once_listed_without_its_secret_and_revoked_at_once(http, admin):
    user, _ = new_member(http, admin)
    made = make_token(http, user, "  laptop   backup ", expires_in_days=30)
    secret = made["token"]
    assert secret.startswith(f"ak_{made['token_id']}_") and made["prefix"] == f"ak_{made['token_id']}"
    assert made["name"] == "laptop backup" and made["expires_at"] and made["last_used_at"] is None

    listed = http.get(TOKENS, headers=user)
    assert listed.status_code == 200 and secret not in listed.text and "token_hash" not in listed.text
    assert [(t["token_id"], t["name"]) for t in listed.json()] == [(made["token_id"], "laptop backup")]
    assert "token" not in listed.json()[0]

    for credentials in (key(made), {"Authorization": f"Bearer {secret}"}):
        me = http.get("/api/v1/auth/me", headers=credentials)
        assert me.status_code == 200 and me.json()["user"]["user_id"] == made["user_id"]
    assert http.get("/api/v1/auth/me", params={"api_key": secret}).status_code == 200
    assert http.get(TOKENS, headers=user).json()[0]["last_used_at"] is not None

    assert http.delete(f"{TOKENS}/{made['token_id']}", headers=user).status_code == 204
    assert http.get("/api/v1/auth/me", headers=key(made)).status_code == 401
    assert http.delete(f"{TOKENS}/{made['token_id']}", headers=user).status_code == 404
    assert http.get(TOKENS, headers=user).json() == []


def test_malformed_unknown_oversized_and_expired_tokens_get_401(http, admin, server):
    user, _ = new_member(http, admin)
    made = make_token(http, user)
    forged = made["token"][:-4] + "AAAA"
    for bad in ("ak_", "ak_nothex", forged, "ak_" + "a" * 8000, made["token"] + "x", "ak_\u00e9"):
        for headers in ({"X-API-Key": bad}, {"Authorization": f"Bearer {bad}"}):
            try:
                refused = http.get(f"{CHAT}/sessions", headers=headers)
            except UnicodeEncodeError:  # httpx will not send a non-ASCII header: nothing to test
                continue
            assert refused.status_code == 401, (bad[:20], headers.keys())
            assert refused.headers["www-authenticate"] == "Bearer"
    assert http.get(f"{CHAT}/sessions", headers=key(made)).status_code == 200

    with sqlite3.connect(server.data / "api.db") as db:
        db.execute(
            "UPDATE api_tokens SET expires_at = '2000-01-01 00:00:00' WHERE token_id = ?", (made["token_id"],)
        )
    assert http.get(f"{CHAT}/sessions", headers=key(made)).status_code == 401
    assert http.get(TOKENS, headers=user).json()[0]["expires_at"].startswith("2000-01-01")


async def test_a_token_acts_as_its_user_over_rest_and_the_websocket(http, admin, server):
    alice, _ = new_member(http, admin)
    bob, _ = new_member(http, admin)
    alice_token, bob_token = make_token(http, alice), make_token(http, bob)
    mine = http.post(f"{CHAT}/sessions", json={"agent_name": "assistant"}, headers=key(alice_token))
    assert mine.status_code == 201, mine.text
    sid = mine.json()["session_id"]
    assert [s["session_id"] for s in http.get(f"{CHAT}/sessions", headers=alice).json()] == [sid]
    assert http.get(f"{CHAT}/sessions", headers=key(bob_token)).json() == []
    for method in ("GET", "DELETE"):
        assert http.request(method, f"{CHAT}/sessions/{sid}", headers=key(bob_token)).status_code == 404

    async with websockets.connect(f"{server.ws}/{sid}?api_key={bob_token['token']}") as ws:
        assert (await receive(ws))["data"]["message"] == "session not found"
    async with websockets.connect(f"{server.ws}/{sid}?api_key={alice_token['token']}") as ws:
        assert (await receive(ws))["type"] == "connected"
    async with websockets.connect(f"{server.ws}/{sid}?api_key=ak_forged") as ws:
        assert (await receive(ws))["type"] == "error"
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await receive(ws)
        assert closed.value.rcvd.code == 4001


def test_a_tokens_requests_count_against_its_users_department_quota(http, admin):
    user, department_id = new_member(http, admin, [{"quota_type": "requests", "period": "day", "limit": 1}])
    token = key(make_token(http, user))
    sid = http.post(f"{CHAT}/sessions", json={"agent_name": "assistant"}, headers=token).json()["session_id"]
    first = http.post(f"{CHAT}/sessions/{sid}/messages", json={"content": "hello"}, headers=token)
    assert first.status_code == 200
    second = http.post(f"{CHAT}/sessions/{sid}/messages", json={"content": "again"}, headers=token)
    assert second.status_code == 429 and second.json()["quota_info"]["department_id"] == department_id


def test_nobody_revokes_anothers_token_but_an_admin_lists_and_revokes_any(http, admin):
    alice, _ = new_member(http, admin)
    bob, _ = new_member(http, admin)
    alices = make_token(http, alice, "alice's")
    assert http.delete(f"{TOKENS}/{alices['token_id']}", headers=bob).status_code == 404
    assert (
        http.delete(f"{TOKENS}/{alices['token_id']}", headers=key(make_token(http, bob))).status_code == 404
    )
    assert http.get("/api/v1/auth/me", headers=key(alices)).status_code == 200

    everyone = http.get("/api/v1/admin/tokens", headers=admin).json()
    listed = next(t for t in everyone if t["token_id"] == alices["token_id"])
    assert listed["user_id"] == alices["user_id"] and listed["username"].startswith("user-")
    assert alices["token"] not in str(everyone)
    only_alice = http.get("/api/v1/admin/tokens", params={"user_id": alices["user_id"]}, headers=admin).json()
    assert [t["token_id"] for t in only_alice] == [alices["token_id"]]
    assert http.get("/api/v1/admin/tokens", headers=alice).status_code == 403
    assert http.delete(f"/api/v1/admin/tokens/{alices['token_id']}", headers=bob).status_code == 403

    assert http.delete(f"/api/v1/admin/tokens/{alices['token_id']}", headers=admin).status_code == 204
    assert http.get("/api/v1/auth/me", headers=key(alices)).status_code == 401
    assert http.delete(f"/api/v1/admin/tokens/{alices['token_id']}", headers=admin).status_code == 404


def test_an_admins_token_acts_as_admin_in_chats_but_does_not_administer(http, admin):
    user, _ = new_member(http, admin)
    sid = http.post(f"{CHAT}/sessions", json={"agent_name": "assistant"}, headers=user).json()["session_id"]
    admins = key(make_token(http, admin))
    assert http.get(f"{CHAT}/sessions/{sid}", headers=admins).status_code == 200
    assert http.get("/api/v1/auth/me", headers=admins).json()["role"] == "admin"
    for method, path in (("GET", "/api/v1/admin/users"), ("GET", "/api/v1/admin/tokens")):
        refused = http.request(method, path, headers=admins)
        assert refused.status_code == 403 and "sign-in" in refused.json()["detail"]
    # nor can any token make another token: a leaked one would mint its thief a spare
    assert http.post(TOKENS, json={"name": "spare"}, headers=admins).status_code == 403
    assert http.get(TOKENS, headers=admins).status_code == 200


def test_disabling_a_user_stops_their_tokens_and_a_new_password_ends_them(http, admin):
    user, _ = new_member(http, admin)
    token = make_token(http, user)
    user_url = f"/api/v1/admin/users/{token['user_id']}"
    assert http.patch(user_url, json={"disabled": True}, headers=admin).status_code == 200
    assert http.get("/api/v1/auth/me", headers=key(token)).status_code == 401
    assert http.patch(user_url, json={"disabled": False}, headers=admin).status_code == 200
    assert http.get("/api/v1/auth/me", headers=key(token)).status_code == 200
    assert http.patch(user_url, json={"password": "a-brand-new-pass"}, headers=admin).status_code == 200
    assert http.get("/api/v1/auth/me", headers=key(token)).status_code == 401
    assert http.get("/api/v1/admin/tokens", params={"user_id": token["user_id"]}, headers=admin).json() == []


def test_names_expiry_and_the_number_of_tokens_are_limited(http, admin):
    user, _ = new_member(http, admin)
    for body in (
        {"name": ""},
        {"name": "   "},
        {"name": "x" * 101},
        {"name": "ok", "expires_in_days": 0},
        {"name": "ok", "expires_in_days": 3651},
        {"name": "ok", "expires_in_days": "soon"},
        {},
    ):
        assert http.post(TOKENS, json=body, headers=user).status_code == 422, body
    assert make_token(http, user, "x" * 100)["name"] == "x" * 100
    for i in range(49):
        make_token(http, user, f"token {i}")
    refused = http.post(TOKENS, json={"name": "one too many"}, headers=user)
    assert refused.status_code == 409 and "50" in refused.json()["detail"]
    assert len(http.get(TOKENS, headers=user).json()) == 50


def test_tokens_belong_to_users_not_to_the_api_key(http):
    refused = http.post(TOKENS, json={"name": "mine"}, headers={"X-API-Key": API_KEY})
    assert refused.status_code == 403
    assert http.get(TOKENS).status_code == 401


def test_without_accounts_there_are_no_personal_tokens(client):
    assert client.get(TOKENS).status_code == 404
    assert client.post(TOKENS, json={"name": "x"}).status_code == 404
    assert client.get("/api/v1/admin/tokens").status_code == 404
    assert (
        client.get(f"{CHAT}/sessions", headers={"X-API-Key": f"ak_{uuid.uuid4().hex[:12]}_x"}).status_code
        == 200
    )
