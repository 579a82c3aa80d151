"""RedisCheckpointStore against the real Redis: round trips, TTL, bad values, outages, and a resumed team run."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from agentkit_app.engine import events as ev
from agentkit_app.engine.experts import Expert
from agentkit_app.engine.interaction import Interaction
from agentkit_app.engine.llm.scripted import Call, Reply, ScriptedModel
from agentkit_app.engine.team import TeamOrchestrator
from agentkit_app.store.checkpoint import CheckpointUnavailable, RedisCheckpointStore

REDIS_URL = "redis://127.0.0.1:6379/0"
TTL_S = 120


@pytest.fixture
async def redis_client() -> AsyncIterator[aioredis.Redis]:
    """Return a raw client on the real Redis; fail (never skip) when it cannot be reached."""
    client = aioredis.Redis.from_url(REDIS_URL, decode_responses=True, socket_connect_timeout=3)
    try:
        await client.ping()
    except RedisError as exc:
        await client.aclose()
        pytest.fail(f"Redis at 127.0.0.1:6379 unreachable: {exc}")
    yield client
    await client.aclose()


@pytest.fixture
async def store(redis_client: aioredis.Redis) -> AsyncIterator[RedisCheckpointStore]:
    """Return a store under a key prefix of its own, removing its keys afterwards."""
    prefix = f"agentkit-test-{uuid.uuid4().hex}:"
    checkpoints = RedisCheckpointStore(REDIS_URL, prefix=prefix, ttl_s=TTL_S)
    yield checkpoints
    await checkpoints.close()
    keys = [key async for key in redis_client.scan_iter(match=f"{prefix}*")]
    if keys:
        await redis_client.delete(*keys)


def _key(store: RedisCheckpointStore, run_id: str) -> str:
    return f"{store.prefix}team:{run_id}"


async def test_save_load_delete_round_trip(store: RedisCheckpointStore, redis_client: aioredis.Redis):
    state = {
        "task": "发布 v2 🚀",
        "plan": [{"id": "a", "name": "Design", "depends_on": []}],
        "results": {"a": "done"},
        "round": 2,
        "done": False,
        "note": None,
    }
    await store.save("run1", state)
    assert await store.load("run1") == state
    await store.save("run1", {**state, "results": {"a": "done", "b": "built"}})
    assert (await store.load("run1"))["results"] == {"a": "done", "b": "built"}
    await store.save("run2", {"other": True})
    await store.delete("run1")
    assert await store.load("run1") is None
    assert not await redis_client.exists(_key(store, "run1"))
    assert await store.load("run2") == {"other": True}
    await store.delete("never-saved")


async def test_save_sets_and_renews_the_ttl(store: RedisCheckpointStore, redis_client: aioredis.Redis):
    await store.save("run1", {"results": {}})
    assert 0 < await redis_client.ttl(_key(store, "run1")) <= TTL_S
    await redis_client.expire(_key(store, "run1"), 5)
    await store.save("run1", {"results": {"a": "done"}})
    assert TTL_S - 5 < await redis_client.ttl(_key(store, "run1")) <= TTL_S


async def test_load_of_a_missing_run_is_none(store: RedisCheckpointStore):
    assert await store.load("no-such-run") is None


async def test_corrupt_or_non_object_value_loads_as_none(
    store: RedisCheckpointStore, redis_client: aioredis.Redis
):
    await redis_client.set(_key(store, "broken"), "{not json", ex=TTL_S)
    assert await store.load("broken") is None
    await redis_client.set(_key(store, "a-list"), json.dumps([1, 2, 3]), ex=TTL_S)
    assert await store.load("a-list") is None


async def test_unreachable_redis_raises_checkpoint_unavailable_naming_the_url():
    url = "redis://127.0.0.1:1/0"
    checkpoints = RedisCheckpointStore(url)
    try:
        with pytest.raises(CheckpointUnavailable, match="Redis at redis://127.0.0.1:1/0"):
            await checkpoints.save("run1", {"a": 1})
        with pytest.raises(CheckpointUnavailable, match="Redis at redis://127.0.0.1:1/0"):
            await checkpoints.load("run1")
        with pytest.raises(CheckpointUnavailable, match="Redis at redis://127.0.0.1:1/0"):
            await checkpoints.delete("run1")
    finally:
        await checkpoints.close()


LEAD = Expert("Lead", "L", "#111", "a lead.", role="lead")
DEV = Expert("Dev", "D", "#222", "a developer.", role="developer")
PLAN = {
    "phases": [
        {"id": "a", "name": "Design", "expert": "Dev", "depends_on": [], "goal": "design"},
        {"id": "b", "name": "Build", "expert": "Dev", "depends_on": ["a"], "goal": "build"},
    ]
}


def _answer(calls: list[Call]):
    def answer(call: Call) -> Reply:
        calls.append(call)
        if call.purpose == "team.plan":
            return Reply(text=json.dumps(PLAN))
        if call.purpose == "team.phase":
            phase = call.messages[-1]["content"].split("Your phase: ")[1].split("\n")[0]
            return Reply(text=f"{phase} done")
        return Reply(text="All done")

    return answer


def _team(store: RedisCheckpointStore, calls: list[Call]) -> TeamOrchestrator:
    return TeamOrchestrator(
        llm=ScriptedModel(_answer(calls)),
        lead=LEAD,
        members=[DEV],
        task="ship it",
        interaction=Interaction(),
        checkpoints=store,
        run_id="team-run",
    )


async def test_team_run_resumes_from_the_redis_checkpoint_without_redoing_a_phase(
    store: RedisCheckpointStore,
):
    calls: list[Call] = []
    first = _team(store, calls).run()
    async for event in first:  # the process "dies" right after the first phase
        if isinstance(event, ev.PhaseCompleted):
            break
    await first.aclose()
    saved = await store.load("team-run")
    assert saved is not None and saved["results"] == {"a": "Design done"}

    calls.clear()
    resumed = [event async for event in _team(store, calls).run(resume=True)]
    assert [e.name for e in resumed if isinstance(e, ev.PhaseCompleted)] == ["Build"]
    assert not any(c.purpose == "team.plan" for c in calls)
    assert not any("Your phase: Design" in c.messages[-1]["content"] for c in calls)
    build = next(c for c in calls if "Your phase: Build" in c.messages[-1]["content"])
    assert "Design done" in build.messages[-1]["content"]
    assert resumed[-1] == ev.TeamDissolved(team_id="team-run", status="completed")
