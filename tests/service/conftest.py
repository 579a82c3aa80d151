"""Runs on the machine's Redis, as two processes of a deployment see them."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from agentkit_app.service.redis_runs import RedisRuns
from agentkit_app.service.runs import Run, RunRegistry

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
async def two() -> AsyncIterator[tuple[RedisRuns, RedisRuns]]:
    """Two registries on one Redis prefix: the runs of process A and of process B."""
    prefix = f"agentkit-runs-test-{uuid.uuid4().hex[:8]}"
    a, b = RedisRuns(REDIS_URL, prefix, lease_s=1.0), RedisRuns(REDIS_URL, prefix, lease_s=1.0)
    yield a, b
    keys = [key async for key in a.redis.scan_iter(f"{prefix}*")]
    if keys:
        await a.redis.delete(*keys)
    await a.close()
    await b.close()


async def running(runs: RunRegistry, session_id: str, kind: str = "chat") -> Run:
    """Return a run claimed in ``runs`` whose task runs (for an hour, unless cancelled)."""
    run = Run(session_id, kind)
    assert await runs.claim(run)
    run.task = asyncio.create_task(asyncio.sleep(3600))
    return run
