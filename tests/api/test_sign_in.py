"""Sign-in as an attacker meets it over HTTP: guessing is throttled, a password change ends old tokens,
and the shell tool is an admin's per-department decision.

Each test signs in from its own loopback address (127.0.0.x), so that the per-address limit of one
test does not reach another.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import httpx
import jwt
import pytest

from tests.api.conftest import Backend, start_backend, stop_backend

LOGIN = "/api/v1/auth/login"
ADMIN = {"username": "root", "password": "root-password-1"}
JWT_SECRET = "jwt-secret-for-sign-in-tests-0123456789-abcdefgh"


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Backend]:
    """The API with user accounts on and a bootstrap admin (throttle counts in memory)."""
    backend = start_backend(
        tmp_path_factory.mktemp("sign-in"),
        AGENTKIT_AUTH_ENABLED="true",
        AGENTKIT_ADMIN_USERNAME=ADMIN["username"],
        AGENTKIT_ADMIN_PASSWORD=ADMIN["password"],
        AGENTKIT_JWT_SECRET=JWT_SECRET,
    )
    yield backend
    stop_backend(backend)


def client_from(server: Backend, address: str) -> httpx.Client:
    """Return a client whose connections come from ``address`` (any 127.0.0.x reaches the server)."""
    return httpx.Client(
        base_url=server.base, timeout=30, transport=httpx.HTTPTransport(local_address=address)
    )


@pytest.fixture
def admin(server: Backend) -> Iterator[tuple[httpx.Client, dict[str, str]]]:
    """A client from 127.0.0.1 and the bootstrap admin's Authorization header."""
    with client_from(server, "127.0.0.1") as http:
        yield http, bearer(http.post(LOGIN, json=ADMIN))


def bearer(reply: httpx.Response) -> dict[str, str]:
    assert reply.status_code == 200, reply.text
    return {"Authorization": f"Bearer {reply.json()['token']}"}


def new_user(
    http: httpx.Client, admin: dict[str, str], department_id: str | None = None
) -> tuple[str, str, str]:
    """Create a user; return their name, password and id."""
    username, password = f"user-{uuid.uuid4().hex[:8]}", "user-password-1"
    created = http.post(
        "/api/v1/admin/users",
        json={"username": username, "password": password, "department_id": department_id},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    return username, password, created.json()["user_id"]


def guess(http: httpx.Client, username: str, password: str = "wrong-guess-1") -> httpx.Response:
    return http.post(LOGIN, json={"username": username, "password": password})


def test_the_sixth_wrong_sign_in_gets_429_with_retry_after_even_with_the_right_password(server, admin):
    username, password, _ = new_user(*admin)
    with client_from(server, "127.0.0.21") as attacker:
        for _ in range(5):
            assert guess(attacker, username).status_code == 401
        refused = guess(attacker, username, password)
        assert refused.status_code == 429, "the right password no longer helps: guessing has stopped"
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert refused.json()["detail"].startswith("too many failed sign-ins")
        assert "token" not in refused.json()
    with client_from(server, "127.0.0.22") as elsewhere:
        assert guess(elsewhere, username, password).status_code == 429, "limited per user name too"
    other, other_password, _ = new_user(*admin)
    with client_from(server, "127.0.0.22") as elsewhere:
        assert guess(elsewhere, other, other_password).status_code == 200


def test_one_address_is_limited_across_user_names(server, admin):
    username, password, _ = new_user(*admin)
    with client_from(server, "127.0.0.23") as sprayer:
        for _ in range(5):
            assert guess(sprayer, f"ghost-{uuid.uuid4().hex[:6]}").status_code == 401
        assert guess(sprayer, username, password).status_code == 429
        assert guess(sprayer, f"ghost-{uuid.uuid4().hex[:6]}").status_code == 429
    with client_from(server, "127.0.0.24") as someone_else:
        assert guess(someone_else, username, password).status_code == 200


def test_successful_sign_ins_are_never_throttled(server, admin):
    username, password, _ = new_user(*admin)
    with client_from(server, "127.0.0.25") as office:
        for _ in range(12):
            assert guess(office, username, password).status_code == 200


def test_a_password_change_ends_the_tokens_issued_before(server, admin):
    http, root = admin
    username, password, user_id = new_user(http, root)
    with client_from(server, "127.0.0.26") as user:
        old = bearer(guess(user, username, password))
        assert user.get("/api/v1/auth/me", headers=old).status_code == 200
        changed = http.patch(
            f"/api/v1/admin/users/{user_id}", json={"password": "brand-new-pass-2"}, headers=root
        )
        assert changed.status_code == 200 and "token_version" not in changed.json()
        assert "password_hash" not in changed.json()
        for path in ("/api/v1/auth/me", "/api/v1/chat/sessions"):
            assert user.get(path, headers=old).status_code == 401, path
        assert guess(user, username, password).status_code == 401
        new = bearer(guess(user, username, "brand-new-pass-2"))
        assert user.get("/api/v1/auth/me", headers=new).json()["user"]["username"] == username
        # changing other things leaves the new token alone
        assert (
            http.patch(f"/api/v1/admin/users/{user_id}", json={"role": "user"}, headers=root).status_code
            == 200
        )
        assert user.get("/api/v1/auth/me", headers=new).status_code == 200


def test_tokens_without_a_version_count_as_version_zero(server, admin):
    http, root = admin
    username, _, user_id = new_user(http, root)
    unversioned = jwt.encode(
        {"sub": user_id, "role": "user", "exp": int(time.time()) + 600}, JWT_SECRET, algorithm="HS256"
    )
    header = {"Authorization": f"Bearer {unversioned}"}
    assert http.get("/api/v1/auth/me", headers=header).json()["user"]["username"] == username
    http.patch(f"/api/v1/admin/users/{user_id}", json={"password": "another-pass-3"}, headers=root)
    assert http.get("/api/v1/auth/me", headers=header).status_code == 401


def test_admins_switch_the_shell_per_department_and_users_follow_at_once(server, admin):
    http, root = admin
    created = http.post(
        "/api/v1/admin/departments", json={"name": f"eng-{uuid.uuid4().hex[:6]}"}, headers=root
    )
    department = created.json()
    assert created.status_code == 201 and department["shell_enabled"] is False
    username, password, _ = new_user(http, root, department["department_id"])
    loner, loner_password, _ = new_user(http, root)
    with client_from(server, "127.0.0.27") as user:
        member = bearer(guess(user, username, password))
        outsider = bearer(guess(user, loner, loner_password))
        assert user.get("/api/v1/auth/me", headers=member).json()["shell_allowed"] is False
        url = f"/api/v1/admin/departments/{department['department_id']}"
        assert user.patch(url, json={"shell_enabled": True}, headers=member).status_code == 403
        on = http.patch(url, json={"shell_enabled": True}, headers=root)
        assert on.status_code == 200 and on.json() == {**department, "shell_enabled": True}
        me = user.get("/api/v1/auth/me", headers=member).json()
        assert me["shell_allowed"] is True and me["department"]["shell_enabled"] is True
        assert user.get("/api/v1/auth/me", headers=outsider).json()["shell_allowed"] is False
        listed = {d["department_id"]: d for d in http.get("/api/v1/admin/departments", headers=root).json()}
        assert listed[department["department_id"]]["shell_enabled"] is True
        assert http.patch(url, json={"shell_enabled": False}, headers=root).json()["shell_enabled"] is False
        assert user.get("/api/v1/auth/me", headers=member).json()["shell_allowed"] is False
    assert http.get("/api/v1/auth/me", headers=root).json()["shell_allowed"] is True, "admins always may"
    assert (
        http.patch("/api/v1/admin/departments/nope", json={"shell_enabled": True}, headers=root).status_code
        == 404
    )
    born_on = http.post(
        "/api/v1/admin/departments",
        json={"name": f"ops-{uuid.uuid4().hex[:6]}", "shell_enabled": True},
        headers=root,
    )
    assert born_on.status_code == 201 and born_on.json()["shell_enabled"] is True
