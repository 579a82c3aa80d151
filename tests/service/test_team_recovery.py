"""A team run whose server process is killed mid-phase resumes in another process from its Redis checkpoint."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from agentkit_app.engine import events as ev
from agentkit_app.service.chat import ChatService
from agentkit_app.store.checkpoint import RedisCheckpointStore
from tests.service.team_recovery_worker import REDIS_URL, build_service, scripted_team

ROOT = Path(__file__).resolve().parents[2]


async def _until(check: Callable[[], Awaitable[Any]], what: str, timeout_s: float = 30.0) -> Any:
    """Poll ``check()`` until it returns something truthy; fail naming ``what`` after the timeout."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while asyncio.get_running_loop().time() < deadline:
        found = await check()
        if found:
            return found
        await asyncio.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


async def test_team_run_killed_mid_phase_resumes_in_a_new_process_without_redoing_a_phase(tmp_path: Path):
    client = aioredis.Redis.from_url(REDIS_URL, decode_responses=True, socket_connect_timeout=3)
    try:
        await client.ping()
    except RedisError as exc:
        await client.aclose()
        pytest.fail(f"Redis at 127.0.0.1:6379 unreachable: {exc}")
    prefix = f"agentkit-test-{uuid.uuid4().hex}:"
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(
        [sys.executable, "-m", "tests.service.team_recovery_worker", str(tmp_path), prefix],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    service: ChatService | None = None
    try:
        assert worker.stdout is not None
        line = await asyncio.wait_for(asyncio.to_thread(worker.stdout.readline), 60)
        assert line, f"the worker exited early:\n{(tmp_path / 'worker.log').read_text()}"
        started = json.loads(line)
        session_id, run_id = started["session_id"], started["run_id"]

        async def design_checkpointed() -> dict[str, Any] | None:
            raw = await client.get(f"{prefix}team:{run_id}")
            state = json.loads(raw) if raw else None
            return state if state and "a" in state["results"] else None

        before_kill = await _until(design_checkpointed, "the checkpoint of the first phase")
        phase_calls: Counter[str] = Counter()
        service = build_service(tmp_path, prefix, scripted_team(phase_calls))

        async def build_started() -> bool:  # the worker stores the phase events right after the checkpoint
            stored = await service.store.get_messages(session_id)
            return any(m.metadata.get("payload", {}).get("name") == "Build" for m in stored)

        await _until(build_started, "the Build phase to start in the worker")
        worker.send_signal(signal.SIGKILL)
        assert worker.wait(10) == -signal.SIGKILL
        assert before_kill["results"] == {"a": "Design done"} and before_kill["status"] == "running"
        assert {p["id"]: p["status"] for p in before_kill["plan"]}["a"] == "completed"

        session = await service.session_or_404(session_id)
        assert await service.interrupted_team(session) == {"run_id": run_id, "status": "running"}
        run = await service.resume_team(session_id)
        events = await asyncio.wait_for(_collect(run.follow()), 30)

        assert phase_calls == {"Build": 1, "Review": 1}  # Design finished before the kill: not redone
        assert not any(c.purpose == "team.plan" for c in service.llm.calls)
        assert ev.TeamDissolved(team_id=run_id, status="completed") in events
        assert isinstance(events[-1], ev.FinalAnswer) and events[-1].content == "The release is out."
        session = await service.session_or_404(session_id)
        assert session.server_state["team_run"] == {"run_id": run_id, "status": "completed"}
        assert await service.interrupted_team(session) is None

        stored = await service.store.get_messages(session_id)
        timeline = [
            (m.metadata.get("event_type") or m.metadata.get("message_type"), m.metadata.get("phase_id"))
            for m in stored
        ]
        assert timeline == [
            ("team_request", None),
            ("team_formed", None),
            ("phase_started", "a"),
            ("phase_completed", "a"),
            ("phase_started", "b"),  # cut off by the kill
            ("collaboration_notice", None),  # "resuming after 1 finished phase(s)"
            ("team_formed", None),  # the resumed run
            ("phase_started", "b"),
            ("phase_completed", "b"),
            ("phase_started", "c"),
            ("review_result", None),
            ("phase_completed", "c"),
            ("team_synthesis", None),
            ("team_final", None),
        ]
        assert stored[-1].agent_name == "team_collab" and stored[-1].content == "The release is out."
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(10)
        log.close()
        if service is not None:
            assert isinstance(service.checkpoints, RedisCheckpointStore)
            await service.checkpoints.close()
        keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


async def _collect(stream: AsyncIterator[ev.Event]) -> list[ev.Event]:
    return [event async for event in stream]
