from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime

import pytest

from agentkit_app.engine.llm.retry import RetryPolicy, is_retryable_status, retry_after_s

NOW = datetime(2026, 11, 30, 12, 0, 0, tzinfo=UTC).timestamp()


@pytest.mark.parametrize(
    ("status", "retryable"),
    [
        (408, True),
        (429, True),
        (500, True),
        (503, True),
        (400, False),
        (401, False),
        (404, False),
        (422, False),
    ],
)
def test_retryable_statuses(status, retryable):
    assert is_retryable_status(status) is retryable


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("3", 3.0),
        (" 1.5 ", 1.5),
        ("-4", 0.0),
        (format_datetime(datetime(2026, 11, 30, 12, 0, 7, tzinfo=UTC), usegmt=True), 7.0),
        ("Mon, 30 Nov 2026 11:59:00 GMT", 0.0),
        (None, None),
        ("", None),
        ("soon", None),
    ],
)
def test_retry_after_reads_seconds_and_http_dates(header, seconds):
    assert retry_after_s(header, now=NOW) == seconds


def test_backoff_doubles_with_jitter_and_stops_after_the_last_retry():
    policy = RetryPolicy(max_retries=3, backoff_s=1.0, max_delay_s=3.0)

    for _ in range(50):
        first, second, third = (policy.delay_s(n, None, 0.0) for n in range(3))
        assert first is not None and 0.5 <= first <= 1.0
        assert second is not None and 1.0 <= second <= 2.0
        assert third is not None and 1.5 <= third <= 3.0  # capped at max_delay_s
    assert policy.delay_s(3, None, 0.0) is None


def test_an_asked_wait_is_kept_unless_it_is_too_long_or_past_the_budget():
    policy = RetryPolicy(max_retries=2, max_delay_s=10.0, budget_s=12.0)

    assert policy.delay_s(0, 4.0, 0.0) == 4.0
    assert policy.delay_s(0, 11.0, 0.0) is None
    assert policy.delay_s(1, 4.0, 9.0) is None
