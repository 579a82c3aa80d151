"""Failed sign-ins counted per user name and per client address, so that passwords cannot be guessed at speed.

Counting is done by the ``limits`` library, in Redis when the deployment has one (every worker
process then shares the counts) and in this process's memory otherwise. Each sign-in takes a place
in both counters *before* its password is checked, atomically, so a burst of parallel guesses cannot
all slip in before the first failure is counted; a sign-in that succeeds (or is refused) gives its
place back, so only failures stay counted. Past a limit, sign-ins are refused without a password
check until the window ends. Windows are fixed (``limits``' fixed-window strategy, which can give a
place back): one opens with the first attempt after the last one closed, so around a window's end a
guesser may get up to twice the limit in a short time, and no more than the limit per window on average.

The client address is the peer of the connection. Behind a reverse proxy that is the proxy, so the
per-address limit then counts everyone together; X-Forwarded-For is not trusted by default, since any
client can send it.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage, RedisStorage, Storage
from limits.strategies import FixedWindowRateLimiter

from agentkit_app.service.errors import ServiceError

__all__ = ["DEFAULT_LIMIT", "SignInThrottle", "SignInThrottled", "ThrottleUnavailable"]

log = logging.getLogger(__name__)
T = TypeVar("T")

# failed sign-ins allowed per user name, and per client address, before further ones are refused
DEFAULT_LIMIT = "5/minute"
_UNKNOWN_ADDRESS = "unknown"


class SignInThrottled(ServiceError):
    """Too many failed sign-ins for this user name or from this address; ``retry_after`` is in seconds."""

    status = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            f"too many failed sign-ins: try again in {retry_after} s", "login_throttled", n=retry_after
        )
        self.retry_after = retry_after


class ThrottleUnavailable(ServiceError):
    """The store of the sign-in counts cannot be reached: sign-ins are refused rather than left unlimited."""

    status = 503


@dataclass(frozen=True)
class SignInAttempt:
    """The places one sign-in holds in the counters, to be given back if it does not fail."""

    keys: tuple[tuple[RateLimitItem, str, str], ...]


class SignInThrottle:
    """Refuses sign-ins for a user name or from an address that failed too often in the current window.

    Each limit is a ``limits`` rate string (``"5/minute"``, ``"20/hour"``); a window opens with an
    attempt and lasts the limit's period.
    """

    def __init__(
        self,
        storage: Storage | None = None,
        *,
        per_username: str = DEFAULT_LIMIT,
        per_address: str = DEFAULT_LIMIT,
    ) -> None:
        self.storage = storage if storage is not None else MemoryStorage()
        self._limiter = FixedWindowRateLimiter(self.storage)
        self._per_username = parse(per_username)
        self._per_address = parse(per_address)

    @classmethod
    def for_deployment(
        cls,
        redis_url: str | None,
        key_prefix: str,
        *,
        per_username: str = DEFAULT_LIMIT,
        per_address: str = DEFAULT_LIMIT,
    ) -> SignInThrottle:
        """Return a throttle that counts in Redis under ``<key_prefix>:signin:`` if ``redis_url`` is set, else in memory."""
        storage: Storage
        if redis_url:
            storage = RedisStorage(
                redis_url,
                key_prefix=f"{key_prefix.rstrip(':')}:signin",
                wrap_exceptions=True,
                socket_connect_timeout=5,
                socket_timeout=5,
            )
        else:
            storage = MemoryStorage()
        return cls(storage, per_username=per_username, per_address=per_address)

    async def begin(self, username: str, address: str | None) -> SignInAttempt:
        """Count a sign-in of ``username`` from ``address`` as failed until :meth:`forgive` says otherwise.

        Raises:
            SignInThrottled: a limit is used up; nothing is counted and the password must not be checked.
            ThrottleUnavailable: the counts cannot be read or written.
        """
        return await self._call(self._begin_now, username, address)

    async def forgive(self, attempt: SignInAttempt) -> None:
        """Give back the places of a sign-in that succeeded, or that ended before its password was judged."""
        await self._call(self._give_back, attempt.keys)

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        # the synchronous storages run in a thread: they are not bound to one event loop, and the
        # Reflex UI and the API may call from different loops in tests
        try:
            return await asyncio.to_thread(fn, *args)
        except ServiceError:
            raise
        except Exception as exc:
            log.exception("the sign-in throttle's store failed")
            raise ThrottleUnavailable(
                "sign-in is unavailable: the throttle store cannot be reached", "login_unavailable"
            ) from exc

    def _begin_now(self, username: str, address: str | None) -> SignInAttempt:
        wanted = (
            (self._per_username, "user", _digest(username)),
            (self._per_address, "address", address or _UNKNOWN_ADDRESS),
        )
        taken: list[tuple[RateLimitItem, str, str]] = []
        for item, kind, identifier in wanted:
            taken.append((item, kind, identifier))
            if not self._limiter.hit(item, kind, identifier):
                self._give_back(tuple(taken))
                raise SignInThrottled(self._retry_after(item, kind, identifier))
        return SignInAttempt(tuple(taken))

    def _give_back(self, keys: tuple[tuple[RateLimitItem, str, str], ...]) -> None:
        # a window that ended meanwhile restarts at -1, allowing one more failure: rare, and harmless
        for item, kind, identifier in keys:
            self._limiter.hit(item, kind, identifier, cost=-1)

    def _retry_after(self, item: RateLimitItem, kind: str, identifier: str) -> int:
        reset_at = self._limiter.get_window_stats(item, kind, identifier).reset_time
        return max(1, math.ceil(reset_at - time.time()))


def _digest(username: str) -> str:
    """Return a fixed-length key for a user name (any text may be typed, separators included)."""
    return hashlib.sha256(username.encode()).hexdigest()[:32]
