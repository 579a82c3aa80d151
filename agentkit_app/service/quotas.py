"""Department quotas: admitting a regular user's turn against them, and a department's usage per period."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from agentkit_app.service.errors import NotFound, QuotaCheckFailed, QuotaExceeded
from agentkit_app.store.accounts import AccountStore, UnknownDepartment
from agentkit_app.store.models import QuotaPublic, UsageTotals, utcnow

__all__ = ["QuotaGate", "period_start"]

log = logging.getLogger(__name__)


def period_start(period: str, now: datetime) -> datetime:
    """Return the start of the quota period holding ``now``: midnight UTC, or the 1st of the month UTC."""
    day = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "day":
        return day
    if period == "month":
        return day.replace(day=1)
    raise ValueError(f"unknown quota period: {period}")


def _current(quota: QuotaPublic, totals: UsageTotals) -> int:
    return totals.requests if quota.quota_type == "requests" else totals.total_tokens


def _refuse_if_over(department_id: str, quotas: list[QuotaPublic], totals: dict[str, UsageTotals]) -> None:
    """Raise QuotaExceeded if one more request would pass a quota (tokens: once they reach the limit)."""
    for quota in quotas:
        current = _current(quota, totals[quota.period])
        over = current + 1 > quota.limit if quota.quota_type == "requests" else current >= quota.limit
        if over:
            raise QuotaExceeded(
                {
                    "department_id": department_id,
                    "quota_type": quota.quota_type,
                    "period": quota.period,
                    "limit": quota.limit,
                    "current": current,
                }
            )


class QuotaGate:
    """Refuses a regular user's turn when their department has used up one of its quotas.

    A ``requests`` quota allows ``limit`` turns per period (a turn is refused when one more would
    exceed it); a ``tokens`` quota refuses turns once the tokens in and out reach ``limit`` (the size of
    the next answer is not known in advance). Usage is counted from the ledger: an admitted turn of a
    regular user gets its row at once (so turns in flight count as requests), filled with its tokens
    when it ends; admins' and API clients' turns get theirs when they end. Admission is one
    transaction under the department's lock, so turns asked for at the same instant, also in other
    worker processes, cannot together pass a limit.
    """

    def __init__(self, accounts: AccountStore, clock: Callable[[], datetime] = utcnow) -> None:
        self.accounts = accounts
        self.clock = clock

    async def admit(self, *, department_id: str, user_id: str | None, session_id: str) -> int:
        """Admit a turn of ``user_id`` of ``department_id`` in ``session_id``; return its reserved ledger row.

        Raises:
            QuotaExceeded: a quota of the department is used up; nothing is reserved.
            QuotaCheckFailed: the department or its usage could not be read (fail closed).
        """
        try:
            quotas = await self.accounts.get_quotas(department_id)
            now = self.clock()
            return await self.accounts.reserve_request(
                department_id=department_id,
                user_id=user_id,
                session_id=session_id,
                periods={q.period: period_start(q.period, now) for q in quotas},
                admit=lambda totals: _refuse_if_over(department_id, quotas, totals),
            )
        except UnknownDepartment:
            raise QuotaCheckFailed(
                f"quota check failed: department {department_id} not found", "err_quota_check"
            ) from None
        except QuotaExceeded:
            raise
        except Exception as exc:
            log.exception("quota lookup failed for department %s", department_id)
            raise QuotaCheckFailed(
                "quota check failed: the account store is unavailable", "err_quota_check"
            ) from exc

    async def usage(self, department_id: str, period: str) -> dict[str, Any]:
        """Return a department's usage in the current ``period`` and each of its quotas with its current figure.

        Raises:
            NotFound: no such department.
        """
        if await self.accounts.get_department(department_id) is None:
            raise NotFound("department not found")
        since = period_start(period, self.clock())
        totals = await self.accounts.usage_since(department_id, since)
        quotas = [q for q in await self.accounts.get_quotas(department_id) if q.period == period]
        return {
            "department_id": department_id,
            "period": period,
            "since": since,
            "requests": totals.requests,
            "prompt_tokens": totals.prompt_tokens,
            "completion_tokens": totals.completion_tokens,
            "total_tokens": totals.total_tokens,
            "quotas": [{**q.model_dump(), "current": _current(q, totals)} for q in quotas],
        }
