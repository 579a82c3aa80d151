"""What reading a conversation along its branch costs, as a ratio to reading every message in id order.

Run with ``python -m bench.bench_branches``. A session of 2,000 messages with a fork every
50 messages is read with ``branch="active"`` (walks the parent links) and ``branch="all"``
(plain ordered select) in the same process, on a temporary SQLite file. Figures only.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from agentkit_app.store.db import make_engine, run_migrations
from agentkit_app.store.sessions import SessionManager

MESSAGES = 2000
REPEATS = 7


async def _seed(manager: SessionManager) -> str:
    sid = (await manager.create_session(agent_name="assistant")).session_id
    previous = ""
    for i in range(MESSAGES):
        if i and i % 50 == 0:  # an edit: go back one message and continue from there
            await manager.set_leaf(sid, previous)
        stored = await manager.append_message(
            session_id=sid, role="user" if i % 2 == 0 else "assistant", content=f"m{i}"
        )
        previous = stored.parent_id or ""
    return sid


async def _best(manager: SessionManager, sid: str, branch: str) -> float:
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        await manager.get_messages(sid, branch=branch)
        times.append(time.perf_counter() - start)
    return min(times)


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        run_migrations(url)
        manager = SessionManager(make_engine(url))
        sid = await _seed(manager)
        shown = len(await manager.get_messages(sid))
        every = await _best(manager, sid, "all")
        active = await _best(manager, sid, "active")
        print(f"{MESSAGES} messages, {shown} on the active branch")
        print(
            f"all (baseline): {every * 1000:.2f} ms   active: {active * 1000:.2f} ms   ratio: {active / every:.2f}x"
        )


if __name__ == "__main__":
    asyncio.run(main())
