"""What admitting a turn under a quota costs, as a ratio to the plain usage read it replaced.

Run with ``python -m bench.bench_quota``. On a temporary SQLite file with 5,000 ledger rows,
``reserve_request`` (lock the department, sum its usage, add a row; one transaction) is timed
against ``usage_since`` (the sum alone), 200 times each, in the same process; and 8 admissions
at once against 8 reads at once. Figures only.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from agentkit_app.store.accounts import AccountStore
from agentkit_app.store.db import make_engine, run_migrations

ROWS = 5000
TIMES = 200
SINCE = datetime(2000, 1, 1, tzinfo=UTC)


async def _sequential(work, times: int) -> float:
    start = time.perf_counter()
    for _ in range(times):
        await work()
    return (time.perf_counter() - start) / times


async def _parallel(work, rounds: int, width: int = 8) -> float:
    start = time.perf_counter()
    for _ in range(rounds):
        await asyncio.gather(*(work() for _ in range(width)))
    return (time.perf_counter() - start) / rounds


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        run_migrations(url)
        accounts = AccountStore(make_engine(url))
        department = (await accounts.create_department("bench")).department_id
        for i in range(ROWS):
            await accounts.record_usage(
                session_id=f"s{i % 50}", department_id=department, prompt_tokens=10, completion_tokens=5
            )

        def read():
            return accounts.usage_since(department, SINCE)

        def admit():
            return accounts.reserve_request(
                department_id=department,
                user_id="u",
                session_id="bench",
                periods={"day": SINCE},
                admit=lambda totals: None,
            )

        base = await _sequential(read, TIMES)
        reserve = await _sequential(admit, TIMES)
        base_8 = await _parallel(read, TIMES // 8)
        reserve_8 = await _parallel(admit, TIMES // 8)
        print(f"{ROWS} ledger rows, SQLite")
        print(
            f"one at a time  read (baseline): {base * 1000:.2f} ms   admit: {reserve * 1000:.2f} ms   ratio: {reserve / base:.2f}x"
        )
        print(
            f"8 at once      read (baseline): {base_8 * 1000:.2f} ms   admit: {reserve_8 * 1000:.2f} ms   ratio: {reserve_8 / base_8:.2f}x"
        )


if __name__ == "__main__":
    asyncio.run(main())
