"""When a model call that failed before its first byte of answer is worth another try, and when.

A call is retried on a connection error, a 408, a 429 or a 5xx, after the wait the endpoint asks
for in ``Retry-After`` (seconds or an HTTP date) or else a jittered exponential backoff. A wait
longer than :attr:`RetryPolicy.max_delay_s`, or one that would end past the budget, is not waited
for: the call fails at once, so a fallback chain can move on to its next tier.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

RETRYABLE_STATUSES = frozenset({408, 429})


def is_retryable_status(status: int) -> bool:
    """Return whether an HTTP error status may pass if the same request is sent again."""
    return status in RETRYABLE_STATUSES or status >= 500


def retry_after_s(value: str | None, now: float | None = None) -> float | None:
    """Return the seconds a ``Retry-After`` header asks to wait, or None if it asks for nothing readable.

    Args:
        value: The header: a number of seconds or an HTTP date.
        now: The current Unix time; the clock's if None.
    """
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how long a model call that failed before answering is tried again.

    Attributes:
        max_retries: Further attempts after the first; 0 turns retries off.
        backoff_s: The first backoff; each later one doubles, and each is jittered to 50-100%.
        max_delay_s: The longest single wait, whether backoff or asked for by ``Retry-After``.
        budget_s: The longest time from the first attempt to the start of the last; None for no limit.
    """

    max_retries: int = 2
    backoff_s: float = 0.5
    max_delay_s: float = 8.0
    budget_s: float | None = None

    def delay_s(self, retries_done: int, asked_s: float | None, elapsed_s: float) -> float | None:
        """Return how long to wait before the next attempt, or None to give up now.

        Args:
            retries_done: Retries made so far.
            asked_s: The wait the endpoint asked for (``Retry-After``), if any.
            elapsed_s: Seconds since the first attempt started.
        """
        if retries_done >= self.max_retries:
            return None
        if asked_s is None:
            backoff = min(self.max_delay_s, self.backoff_s * 2**retries_done)
            delay = backoff * (0.5 + random.random() / 2)  # noqa: S311 - jitter, not a secret
        elif asked_s > self.max_delay_s:
            return None
        else:
            delay = asked_s
        if self.budget_s is not None and elapsed_s + delay > self.budget_s:
            return None
        return delay
