"""Log lines as an operator reads them: JSON or text, with the ids of their request and run, never a secret."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator

import pytest

from agentkit_app.service.logs import bind, configure_logging
from agentkit_app.settings import Settings

SECRETS = Settings(
    api_key="deployment-key-abc123",
    jwt_secret="jwt-secret-0123456789-0123456789-xyz",
    admin_password="admin-pass-7788",
    llm_api_key="sk-live-0011223344",
    database_url="postgresql+psycopg://agent:db-pass-4455@db.internal:5432/agentkit",
    redis_url="redis://:redis-pass-6677@cache:6379/0",
)


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """Where the configured handler writes; the root logger's handlers and level are restored afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    stream = io.StringIO()
    yield stream
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)


def json_lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_lines_parse_and_carry_the_ids_of_their_request_session_and_run(captured):
    stream = captured
    configure_logging(SECRETS.model_copy(update={"log_format": "json"}), stream)
    log = logging.getLogger("agentkit_app.test")

    async def request() -> None:
        bind(request_id="req-1", session_id="sess-1")

        async def run() -> None:  # a task started by the request inherits its ids and adds its own
            bind(run_id="run-1")
            log.info("model call", extra={"model": "m", "prompt_tokens": 3})

        await asyncio.create_task(run())
        log.info("request")

    asyncio.run(request())
    log.info("outside")
    call, request_line, outside = json_lines(stream)
    assert call["message"] == "model call" and call["model"] == "m" and call["prompt_tokens"] == 3
    assert (call["request_id"], call["session_id"], call["run_id"]) == ("req-1", "sess-1", "run-1")
    assert request_line["request_id"] == "req-1" and "run_id" not in request_line
    assert "request_id" not in outside
    assert (
        call["level"] == "INFO" and call["logger"] == "agentkit_app.test" and call["time"].endswith("+00:00")
    )


def test_every_configured_secret_and_anything_shaped_like_a_credential_is_masked(captured):
    stream = captured
    configure_logging(SECRETS.model_copy(update={"log_format": "json"}), stream)
    log = logging.getLogger("agentkit_app.test")
    log.warning("key %s given", "deployment-key-abc123")
    log.info("GET /api/v1/chat/ws/s1?api_key=guessed-key-1&token=eyJhbGciOi.x.y")
    log.info("headers", extra={"auth": "Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig", "conn": SECRETS.database_url})
    try:
        raise RuntimeError("could not sign in with password=hunter2 to redis://:redis-pass-6677@cache")
    except RuntimeError:
        log.exception("failed with sk-live-0011223344")
    text = stream.getvalue()
    for secret in (
        "deployment-key-abc123",
        "guessed-key-1",
        "eyJhbGciOi",
        "hunter2",
        "redis-pass-6677",
        "db-pass-4455",
        "sk-live-0011223344",
    ):
        assert secret not in text
    lines = json_lines(stream)
    assert len(lines) == 4 and "***" in lines[0]["message"] and "Traceback" in lines[3]["exception"]


def test_a_personal_api_token_keeps_its_public_id_and_loses_its_secret_in_any_line(captured):
    configure_logging(SECRETS.model_copy(update={"log_format": "text"}), captured)
    secret = "Zq8_-x" * 7 + "a"
    logging.getLogger("agentkit_app.test").warning("a user pasted ak_0123456789ab_%s into a message", secret)
    text = captured.getvalue()
    assert secret not in text and "ak_0123456789ab_***" in text


def test_text_lines_show_the_ids_and_fields_and_the_configuration_one_setting_a_line(captured):
    stream = captured
    configure_logging(SECRETS, stream)

    async def line() -> None:  # in a task of its own, so the ids do not leak into other tests
        bind(request_id="req-9", run_id="run-9")
        logging.getLogger("agentkit_app.test").info("run ended", extra={"outcome": "answered"})
        logging.getLogger("agentkit_app.test").info("effective configuration", extra={"config": {"A": "1"}})

    asyncio.run(line())
    first, second, table = stream.getvalue().splitlines()
    assert " INFO " in first and "run ended outcome=answered" in first
    assert first.endswith("[request_id=req-9 run_id=run-9]")
    assert "effective configuration" in second and table == "  A=1"


def test_the_level_setting_drops_lower_lines_and_configuring_again_replaces_the_handler(captured):
    stream = captured
    configure_logging(Settings(log_level="warning"), stream)
    configure_logging(Settings(log_level="warning", log_format="JSON"), stream)
    log = logging.getLogger("agentkit_app.test")
    log.info("quiet")
    log.warning("loud")
    assert [line["message"] for line in json_lines(stream)] == ["loud"]


def test_a_log_level_or_format_that_does_not_exist_is_refused():
    with pytest.raises(ValueError):
        Settings(log_level="chatty")
    with pytest.raises(ValueError):
        Settings(log_format="xml")
