"""A page of the whole app served by process B follows live a turn started through process A's API.

A is the bare API (uvicorn), B the whole app (``reflex run --env prod``, Reflex's state on Redis,
one worker), both on one PostgreSQL database and one Redis, on the offline demo model whose "long
story" streams for about ten seconds.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.api.conftest import Backend, start_backend, stop_backend
from tests.browser.conftest import ARTIFACTS
from tests.browser.server import start_app, stop_app

pytestmark = [pytest.mark.postgres, pytest.mark.browser]

API = "/api/v1/chat"


@pytest.fixture(scope="module")
def api_and_app(
    scale_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Backend, str]]:
    """Start A (the API alone) and B (the whole app) with the shared settings; yield A and B's URL."""
    with contextlib.ExitStack() as started:
        a = start_backend(tmp_path_factory.mktemp("a"), **scale_env)
        started.callback(stop_backend, a)
        log = ARTIFACTS / "scale-app-server.log"
        try:  # Reflex's state on Redis; one worker keeps timings steady on a shared machine
            process, url = start_app(tmp_path_factory.mktemp("b"), log, GRANIAN_WORKERS="1", **scale_env)
        except RuntimeError as exc:
            pytest.fail(str(exc))
        started.callback(stop_app, process)
        yield a, url


def test_a_page_on_one_process_follows_live_a_turn_started_on_another(
    api_and_app, page: Page, tmp_path: Path
):
    a, b_url = api_and_app
    page.set_default_timeout(20_000)
    session_id = httpx.post(f"{a.base}{API}/sessions", json={"agent_name": "assistant"}, timeout=30).json()[
        "session_id"
    ]
    answered: list[httpx.Response] = []
    turn = threading.Thread(  # the REST call returns when the answer is complete
        target=lambda: answered.append(
            httpx.post(
                f"{a.base}{API}/sessions/{session_id}/messages",
                json={"content": "write a long story"},
                timeout=60,
            )
        )
    )
    turn.start()
    page.goto(f"{b_url}/chat/{session_id}")
    bubble = page.locator(".ak-bubble.ak-assistant").last
    expect(bubble).to_contain_text("Once upon a time")
    expect(page.locator("#stop_button")).to_be_visible()
    expect(page.locator("#send_button")).to_be_disabled()  # busy on B too: one answer at a time
    first = len(bubble.inner_text())
    page.wait_for_timeout(800)
    assert len(bubble.inner_text()) > first, "the answer grows on B while A writes it"
    expect(page.locator("#stop_button")).to_be_hidden(timeout=40_000)
    turn.join(30)
    story = answered[0].json()["content"]
    assert story.count("Once upon a time") == 10
    assert bubble.inner_text().count("Once upon a time") == 10, "the whole story, each part once"
    expect(page.locator(".ak-bubble.ak-assistant")).to_have_count(1)
