"""The catalog over REST: admins shape agents, experts and templates; users see the result in the agent list.

Two server processes share one database here, as a multi-process deployment does: an edit made
through one reaches the other's agent list within its refresh period.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.api.conftest import Backend, start_backend, stop_backend
from tests.api.test_auth import ADMIN, login

CATALOG = "/api/v1/admin/catalog"
AGENTS = "/api/v1/chat/agents"
SECRET = "jwt-secret-for-tests-0123456789-abcdefgh"
POET = {
    "name": "poet",
    "display_name": "Poet",
    "system_prompt": "You answer in verse.",
    "tools": ["calculator"],
}


@pytest.fixture(scope="module")
def servers(tmp_path_factory) -> Iterator[tuple[Backend, Backend]]:
    """Two API processes on one database, with accounts on and a bootstrap admin."""
    data = tmp_path_factory.mktemp("catalog")
    settings = {
        "AGENTKIT_AUTH_ENABLED": "true",
        "AGENTKIT_ADMIN_USERNAME": ADMIN["username"],
        "AGENTKIT_ADMIN_PASSWORD": ADMIN["password"],
        "AGENTKIT_JWT_SECRET": SECRET,
    }
    first = start_backend(data, **settings)
    second = start_backend(data, **settings)
    yield first, second
    stop_backend(second)
    stop_backend(first)


@pytest.fixture(scope="module")
def http(servers: tuple[Backend, Backend]) -> Iterator[httpx.Client]:
    """A client of the first process, without credentials."""
    with httpx.Client(base_url=servers[0].base, timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def admin(http: httpx.Client) -> dict[str, str]:
    """The admin's Authorization header."""
    return login(http, ADMIN["username"], ADMIN["password"])


@pytest.fixture(scope="module")
def user(http: httpx.Client, admin: dict[str, str]) -> dict[str, str]:
    """A regular user's Authorization header."""
    name = f"user-{uuid.uuid4().hex[:8]}"
    created = http.post(
        "/api/v1/admin/users", json={"username": name, "password": "pass-word-1"}, headers=admin
    )
    assert created.status_code == 201, created.text
    return login(http, name, "pass-word-1")


def _agent_names(base: str, who: dict[str, str]) -> list[str]:
    return [a["name"] for a in httpx.get(base + AGENTS, headers=who, timeout=30).json()]


def test_only_admins_reach_the_catalog(http, user):
    assert http.get(CATALOG).status_code == 401
    assert http.get(CATALOG, headers=user).status_code == 403
    assert http.post(f"{CATALOG}/agents", json=POET, headers=user).status_code == 403
    assert http.delete(f"{CATALOG}/agents/coder", headers=user).status_code == 403
    assert http.delete(f"{CATALOG}/agents/coder").status_code == 401


def test_an_agent_created_on_one_process_is_offered_by_the_other(servers, http, admin, user):
    listing = http.get(CATALOG, headers=admin).json()
    assert {a["name"] for a in listing["agents"]} >= {"assistant", "coder"}
    assert any(t["kind"] == "team" and t["lead"] for t in listing["templates"])
    created = http.post(f"{CATALOG}/agents", json=POET, headers=admin)
    assert created.status_code == 201, created.text
    assert "poet" in _agent_names(servers[0].base, user)
    deadline = time.monotonic() + 10
    while "poet" not in _agent_names(servers[1].base, user):
        assert time.monotonic() < deadline, "the other process never offered the new agent"
        time.sleep(0.5)
    session = httpx.post(
        servers[1].base + "/api/v1/chat/sessions", json={"agent_name": "poet"}, headers=user, timeout=30
    )
    assert session.status_code == 201, session.text


def test_a_bad_edit_is_refused_with_a_clear_reason(http, admin):
    unknown_tool = http.post(
        f"{CATALOG}/agents", json={**POET, "name": "bad", "tools": ["rm"]}, headers=admin
    )
    assert unknown_tool.status_code == 422 and "unknown tools: rm" in unknown_tool.json()["detail"]
    empty = http.put(f"{CATALOG}/agents/coder", json={**POET, "system_prompt": " "}, headers=admin)
    assert empty.status_code == 422 and "system_prompt cannot be empty" in empty.json()["detail"]
    team = http.post(
        f"{CATALOG}/templates", json={"name": "t", "kind": "team", "experts": ["Developer"]}, headers=admin
    )
    assert team.status_code == 422 and "needs a lead" in team.json()["detail"]
    taken = http.post(f"{CATALOG}/agents", json={**POET, "name": "assistant"}, headers=admin)
    assert taken.status_code == 409
    in_use = http.delete(f"{CATALOG}/experts/Developer", headers=admin)
    assert in_use.status_code == 409 and "dev_team" in in_use.json()["detail"]
    script = {"name": "Owl", "avatar": "javascript:alert(1)", "color": "#123456", "persona": "p"}
    assert http.post(f"{CATALOG}/experts", json=script, headers=admin).status_code == 422
    assert http.put(f"{CATALOG}/agents/nobody", json=POET, headers=admin).status_code == 404
    huge = http.post(
        f"{CATALOG}/agents", json={**POET, "name": "huge", "system_prompt": "x" * 100_000}, headers=admin
    )
    assert huge.status_code == 422 and "at most 8000" in huge.json()["detail"]
    nul = http.post(
        f"{CATALOG}/agents", json={**POET, "name": "nul", "display_name": "a\x00b"}, headers=admin
    )
    assert nul.status_code == 201 and nul.json()["display_name"] == "ab"


def test_an_agent_in_use_is_hidden_instead_of_deleted(http, admin, user):
    http.post(f"{CATALOG}/agents", json={**POET, "name": "bard"}, headers=admin)
    sid = http.post("/api/v1/chat/sessions", json={"agent_name": "bard"}, headers=user).json()["session_id"]
    refused = http.delete(f"{CATALOG}/agents/bard", headers=admin)
    assert refused.status_code == 409 and "hide it instead" in refused.json()["detail"]
    hidden = http.put(f"{CATALOG}/agents/bard", json={**POET, "enabled": False}, headers=admin)
    assert hidden.status_code == 200 and hidden.json()["enabled"] is False
    assert "bard" not in _agent_names(str(http.base_url), user)
    assert http.post("/api/v1/chat/sessions", json={"agent_name": "bard"}, headers=user).status_code == 404
    turn = http.post(f"/api/v1/chat/sessions/{sid}/messages", json={"content": "hello"}, headers=user)
    assert turn.status_code == 200, turn.text


def test_experts_and_templates_round_trip(http, admin):
    owl = {
        "name": "Night Owl",
        "avatar": "🦉",
        "color": "#334455",
        "persona": "You stay up late.",
        "role": "night",
    }
    assert http.post(f"{CATALOG}/experts", json=owl, headers=admin).status_code == 201
    board = {"name": "night_board", "kind": "board", "experts": ["Night Owl", "Engineer"]}
    assert http.post(f"{CATALOG}/templates", json=board, headers=admin).status_code == 201
    changed = http.put(f"{CATALOG}/experts/Night Owl", json={**owl, "color": "#ABCDEF"}, headers=admin)
    assert changed.status_code == 200 and changed.json()["color"] == "#abcdef"
    assert http.delete(f"{CATALOG}/templates/night_board", headers=admin).status_code == 204
    assert http.delete(f"{CATALOG}/experts/Night Owl", headers=admin).status_code == 204
    listing = http.get(CATALOG, headers=admin).json()
    assert "Night Owl" not in [e["name"] for e in listing["experts"]]
