"""Sign-in, administration, per-user sessions and department quotas over a real backend with accounts on."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator

import httpx
import pytest
import websockets

from tests.api.conftest import ADMIN, API_KEY, Backend, start_with_accounts, stop_backend
from tests.document_fixtures import pdf_bytes

CHAT = "/api/v1/chat"


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Backend]:
    """The API with user accounts on, a bootstrap admin and an API key."""
    backend = start_with_accounts(tmp_path_factory.mktemp("auth"))
    yield backend
    stop_backend(backend)


@pytest.fixture
def http(server: Backend) -> Iterator[httpx.Client]:
    """A client without credentials."""
    with httpx.Client(base_url=server.base, timeout=30) as client:
        yield client


def login(http: httpx.Client, username: str, password: str) -> dict[str, str]:
    """Sign in and return the Authorization header."""
    reply = http.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert reply.status_code == 200, reply.text
    return {"Authorization": f"Bearer {reply.json()['token']}"}


def new_member(
    http: httpx.Client, admin: dict[str, str], quotas: list[dict] | None = None
) -> tuple[dict[str, str], str]:
    """Create a department with ``quotas`` and a user in it; return the user's header and the department id."""
    department = http.post(
        "/api/v1/admin/departments", json={"name": f"dept-{uuid.uuid4().hex[:8]}"}, headers=admin
    )
    assert department.status_code == 201, department.text
    department_id = department.json()["department_id"]
    if quotas is not None:
        assert (
            http.put(
                f"/api/v1/admin/departments/{department_id}/quotas", json=quotas, headers=admin
            ).status_code
            == 200
        )
    username = f"user-{uuid.uuid4().hex[:8]}"
    created = http.post(
        "/api/v1/admin/users",
        json={"username": username, "password": "user-password-1", "department_id": department_id},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    return login(http, username, "user-password-1"), department_id


@pytest.fixture
def admin(http: httpx.Client) -> dict[str, str]:
    """The bootstrap admin's Authorization header."""
    return login(http, ADMIN["username"], ADMIN["password"])


def test_login_and_me(http, admin):
    reply = http.post("/api/v1/auth/login", json=ADMIN).json()
    assert reply["token_type"] == "bearer" and reply["expires_in"] == 12 * 3600
    assert reply["user"]["username"] == "root" and reply["user"]["role"] == "admin"
    assert "password_hash" not in reply["user"]
    me = http.get("/api/v1/auth/me", headers=admin).json()
    assert me == {
        "auth_enabled": True,
        "role": "admin",
        "user": reply["user"],
        "department": None,
        "shell_allowed": True,
    }
    assert http.get("/api/v1/auth/me", headers={"X-API-Key": API_KEY}).json()["role"] == "apikey"
    for wrong in (
        {"username": "root", "password": "nope-nope"},
        {"username": "ghost", "password": "root-password-1"},
    ):
        refused = http.post("/api/v1/auth/login", json=wrong)
        assert refused.status_code == 401 and refused.json()["detail"] == "invalid username or password"
    assert http.get("/api/v1/auth/me").status_code == 401
    assert http.get("/api/v1/auth/me", headers={"Authorization": "Bearer not.a.token"}).status_code == 401


def test_chat_routes_need_credentials(http, server):
    for headers in ({}, {"Authorization": "Bearer forged"}, {"X-API-Key": "wrong"}):
        refused = http.get(f"{CHAT}/sessions", headers=headers)
        assert refused.status_code == 401, headers
        assert refused.headers["www-authenticate"] == "Bearer"
    assert http.post(f"{CHAT}/sessions", json={"agent_name": "assistant"}).status_code == 401
    assert http.post(f"{CHAT}/upload", files={"file": ("a.txt", b"x", "text/plain")}).status_code == 401


def test_the_api_key_still_works_and_is_not_limited(http):
    key = {"X-API-Key": API_KEY}
    session = http.post(f"{CHAT}/sessions", json={"agent_name": "assistant"}, headers=key).json()
    assert session["user_id"] is None
    for _ in range(2):
        reply = http.post(
            f"{CHAT}/sessions/{session['session_id']}/messages",
            json={"content": "what is 6 * 7?"},
            headers=key,
        )
        assert reply.status_code == 200 and "42" in reply.json()["content"]
    assert session["session_id"] in [
        s["session_id"] for s in http.get(f"{CHAT}/sessions", params={"api_key": API_KEY}).json()
    ]


def test_admin_manages_departments_quotas_and_users(http, admin):
    name = f"Sales-{uuid.uuid4().hex[:6]}"
    department = http.post("/api/v1/admin/departments", json={"name": name}, headers=admin).json()
    assert http.post("/api/v1/admin/departments", json={"name": name}, headers=admin).status_code == 409
    quotas = [
        {"quota_type": "tokens", "period": "month", "limit": 50_000},
        {"quota_type": "requests", "period": "day", "limit": 30},
    ]
    url = f"/api/v1/admin/departments/{department['department_id']}/quotas"
    assert http.put(url, json=quotas, headers=admin).json() == quotas
    listed = {d["department_id"]: d for d in http.get("/api/v1/admin/departments", headers=admin).json()}
    assert listed[department["department_id"]] == {**department, "quotas": quotas}
    assert http.put(url, json=[quotas[0], quotas[0]], headers=admin).status_code == 422
    assert (
        http.put(
            url, json=[{"quota_type": "minutes", "period": "day", "limit": 1}], headers=admin
        ).status_code
        == 422
    )
    assert http.put("/api/v1/admin/departments/nope/quotas", json=quotas, headers=admin).status_code == 404

    body = {
        "username": f"ann-{uuid.uuid4().hex[:6]}",
        "password": "ann-password",
        "department_id": department["department_id"],
    }
    user = http.post("/api/v1/admin/users", json=body, headers=admin)
    assert user.status_code == 201 and user.json()["role"] == "user"
    assert http.post("/api/v1/admin/users", json=body, headers=admin).status_code == 409
    assert (
        http.post(
            "/api/v1/admin/users", json={**body, "username": "x1", "department_id": "nope"}, headers=admin
        ).status_code
        == 404
    )
    assert (
        http.post(
            "/api/v1/admin/users", json={**body, "username": "x2", "password": "short"}, headers=admin
        ).status_code
        == 422
    )
    assert body["username"] in [u["username"] for u in http.get("/api/v1/admin/users", headers=admin).json()]

    ann = login(http, body["username"], body["password"])
    me = http.get("/api/v1/auth/me", headers=ann).json()
    assert me["role"] == "user" and me["department"] == department
    for method, path in (("GET", "/api/v1/admin/users"), ("POST", "/api/v1/admin/departments"), ("PUT", url)):
        assert (
            http.request(
                method, path, headers=ann, json={"name": "x"} if method == "POST" else []
            ).status_code
            == 403
        )
    assert http.get("/api/v1/admin/users", headers={"X-API-Key": API_KEY}).status_code == 403

    disabled = http.patch(
        f"/api/v1/admin/users/{user.json()['user_id']}", json={"disabled": True}, headers=admin
    )
    assert disabled.status_code == 200 and disabled.json()["disabled"] is True
    assert http.get("/api/v1/auth/me", headers=ann).status_code == 401, (
        "a disabled user's token stops working"
    )
    assert (
        http.post(
            "/api/v1/auth/login", json={"username": body["username"], "password": body["password"]}
        ).status_code
        == 401
    )


def test_a_user_is_refused_past_the_requests_quota_with_quota_info(http, admin):
    user, department_id = new_member(http, admin, [{"quota_type": "requests", "period": "day", "limit": 1}])
    sid = http.post(f"{CHAT}/sessions", json={"agent_name": "assistant"}, headers=user).json()["session_id"]
    first = http.post(
        f"{CHAT}/sessions/{sid}/messages", json={"content": "what is (3 + 4) * 12?"}, headers=user
    )
    assert first.status_code == 200 and "84" in first.json()["content"]
    second = http.post(f"{CHAT}/sessions/{sid}/messages", json={"content": "and 2 + 2?"}, headers=user)
    assert second.status_code == 429
    assert second.json() == {
        "detail": "quota exceeded",
        "quota_info": {
            "department_id": department_id,
            "quota_type": "requests",
            "period": "day",
            "limit": 1,
            "current": 1,
        },
    }
    messages = http.get(f"{CHAT}/sessions/{sid}/messages", headers=user).json()
    assert [m["content"] for m in messages][0] == "what is (3 + 4) * 12?" and len(messages) == 2, (
        "the refused turn stored nothing"
    )
    assert http.post(f"{CHAT}/sessions/{sid}/regenerate", headers=user).status_code == 429

    usage = http.get(
        f"/api/v1/admin/departments/{department_id}/usage", params={"period": "day"}, headers=admin
    ).json()
    assert usage["requests"] == 1 and usage["total_tokens"] > 0
    assert usage["quotas"] == [{"quota_type": "requests", "period": "day", "limit": 1, "current": 1}]
    month = http.get(
        f"/api/v1/admin/departments/{department_id}/usage", params={"period": "month"}, headers=admin
    ).json()
    assert month["requests"] == 1 and month["quotas"] == []
    assert http.get("/api/v1/admin/departments/nope/usage", headers=admin).status_code == 404

    # admins are not limited, even in a department whose quota is used up
    admin_sid = http.post(f"{CHAT}/sessions", json={"agent_name": "assistant"}, headers=admin).json()[
        "session_id"
    ]
    assert (
        http.post(
            f"{CHAT}/sessions/{admin_sid}/messages", json={"content": "hello"}, headers=admin
        ).status_code
        == 200
    )


def test_a_user_sees_only_their_own_sessions(http, admin):
    alice, _ = new_member(http, admin)
    bob, _ = new_member(http, admin)
    sid = http.post(f"{CHAT}/sessions", json={"agent_name": "assistant"}, headers=alice).json()["session_id"]
    http.post(
        f"{CHAT}/sessions/{sid}/messages", json={"content": "remember the word zanzibarquokka"}, headers=alice
    )
    assert http.get(f"{CHAT}/sessions/{sid}", headers=alice).status_code == 200
    for method, path in (
        ("GET", f"{CHAT}/sessions/{sid}"),
        ("GET", f"{CHAT}/sessions/{sid}/messages"),
        ("GET", f"{CHAT}/sessions/{sid}/export"),
        ("POST", f"{CHAT}/sessions/{sid}/messages"),
        ("PATCH", f"{CHAT}/sessions/{sid}"),
        ("DELETE", f"{CHAT}/sessions/{sid}"),
    ):
        body = {"content": "hi", "title": "mine now"} if method in ("POST", "PATCH") else None
        refused = http.request(method, path, json=body, headers=bob)
        assert refused.status_code == 404 and refused.json()["detail"] == "session not found", (method, path)
    assert sid not in [s["session_id"] for s in http.get(f"{CHAT}/sessions", headers=bob).json()]
    assert [s["session_id"] for s in http.get(f"{CHAT}/sessions", headers=alice).json()] == [sid]
    assert http.get(f"{CHAT}/search", params={"q": "zanzibarquokka"}, headers=bob).json() == []
    assert {
        h["session_id"]
        for h in http.get(f"{CHAT}/search", params={"q": "zanzibarquokka"}, headers=alice).json()
    } == {sid}
    assert sid in [
        s["session_id"] for s in http.get(f"{CHAT}/sessions", params={"limit": 200}, headers=admin).json()
    ]
    assert http.get(f"{CHAT}/sessions/{sid}/messages", headers=admin).status_code == 200


async def receive(ws, timeout: float = 15.0) -> dict:
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def test_the_websocket_takes_a_token_and_reports_the_quota(http, admin, server):
    user, department_id = new_member(http, admin, [{"quota_type": "requests", "period": "day", "limit": 1}])
    other, _ = new_member(http, admin)
    token = user["Authorization"].removeprefix("Bearer ")
    sid = http.post(f"{CHAT}/sessions", json={"agent_name": "assistant"}, headers=user).json()["session_id"]
    for query in ("", "?token=forged", "?api_key=wrong"):
        async with websockets.connect(f"{server.ws}/{sid}{query}") as ws:
            assert (await receive(ws))["type"] == "error"
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await receive(ws)
            assert closed.value.rcvd.code == 4001, query
    other_token = other["Authorization"].removeprefix("Bearer ")
    async with websockets.connect(f"{server.ws}/{sid}?token={other_token}") as ws:
        assert (await receive(ws))["data"]["message"] == "session not found"
    async with websockets.connect(f"{server.ws}/{sid}?token={token}") as ws:
        assert (await receive(ws))["type"] == "connected"
        await ws.send(json.dumps({"type": "message", "content": "hello"}))
        while (await receive(ws))["type"] != "final_answer":
            pass
        await ws.send(json.dumps({"type": "message", "content": "hello again"}))
        refused = await receive(ws)
        assert refused == {
            "type": "error",
            "data": {
                "message": "quota exceeded",
                "code": "quota",
                "quota_info": {
                    "department_id": department_id,
                    "quota_type": "requests",
                    "period": "day",
                    "limit": 1,
                    "current": 1,
                },
            },
        }
    async with websockets.connect(f"{server.ws}/{sid}?api_key={API_KEY}") as ws:
        assert (await receive(ws))["type"] == "connected"


def test_accounts_off_keeps_the_old_behaviour(client):
    assert client.post("/api/v1/auth/login", json=ADMIN).status_code == 404
    assert client.get("/api/v1/auth/me").json() == {
        "auth_enabled": False,
        "role": "anonymous",
        "user": None,
        "department": None,
        "shell_allowed": True,
    }
    assert client.get("/api/v1/admin/users").status_code == 404
    assert client.get(f"{CHAT}/sessions").status_code == 200


def test_uploads_belong_to_the_user_who_sent_them(http, admin):
    alice, _ = new_member(http, admin)
    bob, _ = new_member(http, admin)
    stored = http.post(
        f"{CHAT}/upload", files={"file": ("plan.txt", b"alpha secret plan\n", "text/plain")}, headers=alice
    ).json()
    url = f"{CHAT}/uploads/{stored['stored_name']}"
    mine = http.get(url, headers=alice)
    assert mine.status_code == 200 and mine.content == b"alpha secret plan\n"
    assert mine.headers["content-type"].startswith("text/plain")
    assert 'filename="plan.txt"' in mine.headers["content-disposition"]
    assert http.get(url, headers=bob).status_code == 404
    assert http.get(url, headers=admin).status_code == 200
    assert http.get(url, headers={"X-API-Key": API_KEY}).status_code == 200
    assert http.get(url).status_code == 401
    attachment = [{"filename": "plan.txt", "stored_name": stored["stored_name"]}]

    bob_sid = http.post(f"{CHAT}/sessions", json={"agent_name": "assistant"}, headers=bob).json()[
        "session_id"
    ]
    refused = http.post(
        f"{CHAT}/sessions/{bob_sid}/messages",
        json={"content": "read it", "attachments": attachment},
        headers=bob,
    )
    assert refused.status_code == 422 and "unknown attachment" in refused.json()["detail"]
    # naming the file in the text does not get around it: the agent's file reader refuses too
    sneaky = http.post(
        f"{CHAT}/sessions/{bob_sid}/messages",
        json={"content": f"read [file: {stored['stored_name']}]"},
        headers=bob,
    ).json()
    assert "secret plan" not in sneaky["content"]

    alice_sid = http.post(f"{CHAT}/sessions", json={"agent_name": "assistant"}, headers=alice).json()[
        "session_id"
    ]
    answer = http.post(
        f"{CHAT}/sessions/{alice_sid}/messages",
        json={"content": "please read it", "attachments": attachment},
        headers=alice,
    )
    assert answer.status_code == 200 and "alpha secret plan" in answer.json()["content"]
    question = http.get(f"{CHAT}/sessions/{alice_sid}/messages", headers=alice).json()[0]
    assert question["content"] == "please read it", "file references stay out of the stored text"
    assert question["metadata"]["attachments"] == attachment


def test_an_upload_preview_is_shown_only_to_who_may_read_the_file(http, admin):
    alice, _ = new_member(http, admin)
    bob, _ = new_member(http, admin)
    memo = pdf_bytes(["Alpha launch plan", "page two"])
    stored = http.post(
        f"{CHAT}/upload", files={"file": ("memo.pdf", memo, "application/pdf")}, headers=alice
    ).json()
    url = f"{CHAT}/uploads/{stored['stored_name']}/preview"
    mine = http.get(url, headers=alice)
    assert mine.status_code == 200
    assert mine.json() == {"kind": "pdf", "lines": "Alpha launch plan\npage two", "thumbnail": ""}
    assert http.get(url, headers=bob).status_code == 404, "another user's file: as if it did not exist"
    assert http.get(url, headers=admin).status_code == 200
    assert http.get(url).status_code == 401
    assert http.get(f"{CHAT}/uploads/..%2F.meta/preview", headers=alice).status_code == 404
    assert http.get(f"{CHAT}/uploads/nothere.pdf/preview", headers=alice).status_code == 404


def test_deleting_a_session_for_good(http, admin):
    alice, department_id = new_member(http, admin)
    bob, _ = new_member(http, admin)
    sid = http.post(f"{CHAT}/sessions", json={"agent_name": "assistant"}, headers=alice).json()["session_id"]
    http.post(
        f"{CHAT}/sessions/{sid}/messages",
        json={"content": "remember the word xylophonequartz"},
        headers=alice,
    )
    used = http.get(
        f"/api/v1/admin/departments/{department_id}/usage", params={"period": "day"}, headers=admin
    ).json()
    assert http.delete(f"{CHAT}/sessions/{sid}", params={"purge": "true"}, headers=bob).status_code == 404
    deleted = http.delete(f"{CHAT}/sessions/{sid}", params={"purge": "true"}, headers=alice)
    assert deleted.status_code == 200 and deleted.json() == {"status": "deleted", "session_id": sid}
    assert http.get(f"{CHAT}/sessions/{sid}", headers=alice).status_code == 404
    assert http.get(f"{CHAT}/search", params={"q": "xylophonequartz"}, headers=admin).json() == []
    assert http.delete(f"{CHAT}/sessions/{sid}", params={"purge": "true"}, headers=alice).status_code == 404
    after = http.get(
        f"/api/v1/admin/departments/{department_id}/usage", params={"period": "day"}, headers=admin
    ).json()
    assert after["requests"] == used["requests"] == 1, "the usage ledger keeps what was used"
