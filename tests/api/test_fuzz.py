"""The API fuzzed from its own OpenAPI schema, with accounts on, as a signed-in admin.

schemathesis generates requests for every operation (valid ones and, in its coverage phase,
boundary and invalid ones): no answer may be a server error, and every answer must have a status
code and a body the schema declares. Path parameters are either generated or the ids of things
that exist (a session with messages, an upload, a user, a department), so the fuzz reaches past
"not found". Operations that run a model turn (the offline demo model) get fewer examples.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from tests.api.conftest import Backend, start_backend, stop_backend
from tests.store.conftest import fresh_postgres

ADMIN = {"username": "fuzz-admin", "password": "fuzz admin password 1"}
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
# the operations that run a model turn and wait for it
TURNS = r"/(messages|regenerate|edit|team/resume)$"
pytestmark = pytest.mark.parametrize(
    "database",
    ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
    indirect=True,
    scope="module",
)
FUZZ_SETTINGS = {"deadline": None, "suppress_health_check": list(HealthCheck), "derandomize": True}


@pytest.fixture(scope="module")
def database(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[dict[str, str]]:
    """The settings of a fresh database: SQLite, or PostgreSQL (which, unlike SQLite, refuses NUL in text)."""
    if request.param == "sqlite":
        yield {}
        return
    with fresh_postgres("fuzz") as url:
        yield {"AGENTKIT_DATABASE_URL": url}


@pytest.fixture(scope="module")
def secured(database: dict[str, str], tmp_path_factory) -> Iterator[Backend]:
    """A backend with accounts on and a known admin; no request may leave a traceback in its log."""
    server = start_backend(
        tmp_path_factory.mktemp("fuzz"),
        AGENTKIT_AUTH_ENABLED="true",
        AGENTKIT_ADMIN_USERNAME=ADMIN["username"],
        AGENTKIT_ADMIN_PASSWORD=ADMIN["password"],
        AGENTKIT_JWT_SECRET="fuzz-secret-" + "x" * 40,
        AGENTKIT_CONFIRMATION_TIMEOUT_S="2",
        **database,
    )
    yield server
    stop_backend(server)
    log = (server.data / "server.log").read_text()
    assert "Traceback" not in log, log[-3000:]


@pytest.fixture(scope="module")
def admin_headers(secured: Backend) -> dict[str, str]:
    reply = httpx.post(f"{secured.base}/api/v1/auth/login", json=ADMIN, timeout=30)
    assert reply.status_code == 200, reply.text
    return {"Authorization": f"Bearer {reply.json()['token']}"}


@pytest.fixture(scope="module")
def known(secured: Backend, admin_headers: dict[str, str]) -> dict[str, list[str]]:
    """Values of things that exist, by the name of the path parameter or body field that takes them.

    ``doomed_session_id`` are sessions for ``DELETE`` (which may purge them) alone.
    """
    with httpx.Client(base_url=f"{secured.base}/api/v1", headers=admin_headers, timeout=60) as api:

        def new_session() -> str:
            return api.post("/chat/sessions", json={"agent_name": "assistant"}).json()["session_id"]

        sid = new_session()
        api.post(f"/chat/sessions/{sid}/messages", json={"content": "what is 6 * 7?"}).raise_for_status()
        closed = new_session()
        api.delete(f"/chat/sessions/{closed}").raise_for_status()
        messages = [m["message_id"] for m in api.get(f"/chat/sessions/{sid}/messages").json()]
        upload = api.post("/chat/upload", files={"file": ("notes.txt", b"one\ntwo\n", "text/plain")}).json()
        department = api.post("/admin/departments", json={"name": "fuzzed"}).json()["department_id"]
        user = api.post(
            "/admin/users",
            json={"username": "fuzzed", "password": "fuzzed password", "department_id": department},
        ).json()["user_id"]
        doomed = [new_session() for _ in range(3)]
    return {
        "session_id": [sid, closed],
        "doomed_session_id": doomed,
        "message_id": messages,
        "stored_name": [upload["stored_name"]],
        "department_id": [department],
        "user_id": [user],
        "agent_name": ["assistant"],
    }


def _known_or_generated(known: dict[str, list[str]], context: Any, strategy: st.SearchStrategy):
    """Return ``strategy`` with each field that names a known thing either generated or known."""
    deleting = context.operation is not None and context.operation.method.upper() == "DELETE"

    def choose(values: Any) -> st.SearchStrategy:
        if not isinstance(values, dict):
            return st.just(values)
        choices = {}
        for name, value in values.items():
            pool = known.get(f"doomed_{name}" if deleting else name, [])
            choices[name] = (
                st.sampled_from([*pool, value]) if isinstance(value, str) or value is None else st.just(value)
            )
        return st.fixed_dictionaries(choices)

    return strategy.flatmap(choose)


@pytest.fixture(scope="module")
def api_schema(secured: Backend, known: dict[str, list[str]]):
    schema = schemathesis.openapi.from_url(f"{secured.base}/api/v1/openapi.json")

    @schema.hook
    def before_generate_path_parameters(context: Any, strategy: st.SearchStrategy) -> st.SearchStrategy:
        return _known_or_generated(known, context, strategy)

    @schema.hook
    def before_generate_body(context: Any, strategy: st.SearchStrategy) -> st.SearchStrategy:
        return _known_or_generated(known, context, strategy)

    return schema


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.exclude(path_regex=TURNS, method="POST").parametrize()
@settings(max_examples=30, **FUZZ_SETTINGS)
def test_the_api_answers_what_its_schema_says(case, admin_headers):
    case.call_and_validate(headers=admin_headers, checks=CHECKS, timeout=30)


@schema.include(path_regex=TURNS, method="POST").parametrize()
@settings(max_examples=8, **FUZZ_SETTINGS)
def test_routes_that_run_a_turn_answer_what_their_schema_says(case, admin_headers):
    case.call_and_validate(headers=admin_headers, checks=CHECKS, timeout=60)
