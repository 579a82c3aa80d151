"""Resuming an interrupted team run over REST, from a checkpoint in the machine's Redis."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
import redis

from agentkit_app.engine import events as ev
from agentkit_app.engine.interaction import Interaction
from agentkit_app.engine.llm.demo import DemoModel
from agentkit_app.engine.team import TeamOrchestrator
from agentkit_app.service.catalog import load_catalog
from agentkit_app.store.checkpoint import RedisCheckpointStore
from tests.api.conftest import data_settings, set_server_state, start_backend, stop_backend

API = "/api/v1/chat"
REDIS_URL = "redis://127.0.0.1:6379/0"


def test_resume_without_an_interrupted_run_is_404(client, session_id):
    response = client.post(f"{API}/sessions/{session_id}/team/resume")
    assert response.status_code == 404 and "no interrupted team run" in response.json()["detail"]


async def _half_run(prefix: str, run_id: str) -> None:
    """Run a team until its first phase is checkpointed, then stop as if the server died."""
    experts = load_catalog().experts.template("dev_team")
    store = RedisCheckpointStore(REDIS_URL, prefix)
    team = TeamOrchestrator(
        llm=DemoModel(word_delay_s=0), lead=experts[0], members=experts[1:], task="write a changelog",
        interaction=Interaction(), checkpoints=store, run_id=run_id,
    )  # fmt: skip
    events = team.run()
    async for event in events:
        if isinstance(event, ev.PhaseCompleted):
            break
    await store.close()


def test_an_interrupted_team_run_resumes_from_redis(tmp_path):
    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=3).ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis at 127.0.0.1:6379 unreachable: {exc}")
    prefix = f"agentkit-test-{uuid.uuid4().hex[:8]}:"
    run_id = uuid.uuid4().hex
    asyncio.run(_half_run(prefix, run_id))
    server = start_backend(tmp_path, AGENTKIT_REDIS_URL=REDIS_URL, AGENTKIT_REDIS_KEY_PREFIX=prefix)
    try:
        with httpx.Client(base_url=server.base, timeout=60) as http:
            sid = http.post(f"{API}/sessions", json={"agent_name": "assistant"}).json()["session_id"]
            set_server_state(
                data_settings(tmp_path, "api.db")["AGENTKIT_DATABASE_URL"],
                sid,
                team_run={"run_id": run_id, "status": "running"},
            )
            resumed = http.post(f"{API}/sessions/{sid}/team/resume")
            assert resumed.status_code == 200, resumed.text
            assert (
                resumed.json()["agent_name"] == "team_collab" and "Team result" in resumed.json()["content"]
            )
            stored = http.get(f"{API}/sessions/{sid}/messages").json()
            started = [
                m["metadata"]["phase_id"]
                for m in stored
                if m["metadata"].get("event_type") == "phase_started"
            ]
            assert "p1" not in started and started, "the finished first phase is not run again"
            assert (
                http.get(f"{API}/sessions/{sid}").json()["server_state"]["team_run"]["status"] == "completed"
            )
            again = http.post(f"{API}/sessions/{sid}/team/resume")
            assert again.status_code == 404
    finally:
        stop_backend(server)
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(f"{prefix}*"):
            client.delete(key)
