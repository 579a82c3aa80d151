"""The browser benchmark at a tiny size, so it cannot rot: every answer streams into the DOM, whole,
in a fresh conversation, in one with earlier turns and in sessions at once. No time is asserted.

It starts the whole app (``reflex run --env prod``, which builds the frontend in ``.web``) and
chromium, about a minute, and shares ``.web`` with the browser tests; so, like them, it is marked
``browser`` and runs only when asked for: ``AGENTKIT_BENCH_BROWSER=1 python -m pytest tests/bench``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench import browser
from bench.common import format_table
from bench.paced_model import Pace

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        os.environ.get("AGENTKIT_BENCH_BROWSER") != "1",
        reason="starts the whole app and chromium (about a minute, shares .web with the browser tests): "
        "set AGENTKIT_BENCH_BROWSER=1 to run it",
    ),
]

TINY = Pace(ttft_s=0.05, rate=200.0, tokens=20)


def test_browser_at_a_tiny_size():
    if not Path(browser.CHROMIUM).exists():
        pytest.fail(f"{browser.CHROMIUM} is missing: apt-get install -y chromium (scripts/test.sh does it)")

    figures = browser.measure(TINY, turns=3, sessions=3, pages=1)

    # one chromium page and two sessions speaking Reflex's socket streamed at once
    assert (len(figures.together.pages), len(figures.together.sockets)) == (1, 2)
    answers = [figures.fresh, figures.long, *figures.together.answers]
    assert [a.error for a in answers] == [None] * 5
    assert all(len(a.added_ms) == TINY.tokens for a in answers)
    assert all(a.bytes_to_last_token > 0 and a.bytes_to_end >= a.bytes_to_last_token for a in answers)
    assert "| socket KB received, click to last token " in format_table("long", browser.history_rows(figures))
    assert "| answers complete " in format_table("at once", browser.together_rows(figures))
    # the restored board showed all its cards, and the empty conversation its composer
    assert 0 < figures.board_ms < 120_000 and 0 < figures.empty_ms < 120_000
