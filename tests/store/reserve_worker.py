"""A worker process for the quota test: try to reserve requests of one department, print how many got in.

Usage: python -m tests.store.reserve_worker DATABASE_URL DEPARTMENT_ID ATTEMPTS LIMIT START_AT
(START_AT: a time.time() at which every worker begins, so that their attempts overlap).
"""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import UTC, datetime

from agentkit_app.store.accounts import AccountStore
from agentkit_app.store.db import make_engine


class Full(Exception):
    """The limit is reached."""


async def main(url: str, department_id: str, attempts: int, limit: int, start_at: float) -> int:
    store = AccountStore(make_engine(url))

    def admit(totals) -> None:
        if totals["day"].requests + 1 > limit:
            raise Full

    async def attempt(index: int) -> bool:
        try:
            await store.reserve_request(
                department_id=department_id,
                user_id=None,
                session_id=f"worker-{index}",
                periods={"day": datetime(2000, 1, 1, tzinfo=UTC)},
                admit=admit,
            )
        except Full:
            return False
        return True

    await asyncio.sleep(max(0.0, start_at - time.time()))
    return sum(await asyncio.gather(*(attempt(i) for i in range(attempts))))


if __name__ == "__main__":
    url, department, attempts, limit, start_at = sys.argv[1:6]
    print(asyncio.run(main(url, department, int(attempts), int(limit), float(start_at))))
