"""Runs on the machine's Redis, seen from two registries as two processes would see them."""

from __future__ import annotations

import asyncio

from agentkit_app.engine import events as ev
from agentkit_app.service.redis_runs import RemoteRun
from agentkit_app.service.runs import Run
from tests.service.conftest import running


async def test_tokens_published_together_reach_another_process_together_and_in_order(two):
    a, b = two
    run = await running(a, "s1")
    for i in range(200):
        run.publish(ev.Token(content=f"t{i} "))
    remote = await b.get(run.run_id)
    assert isinstance(remote, RemoteRun)
    batches = []
    async for batch in remote.batches():
        batches.append(batch)
        if sum(map(len, batches)) == 200:
            break
    assert [e.content for batch in batches for e in batch] == [f"t{i} " for i in range(200)]
    assert len(batches) <= 3, "a viewer elsewhere gets what is ready at once, not a token at a time"
    run.task.cancel()


async def test_a_session_answering_on_one_process_is_busy_on_the_other_until_it_answers(two):
    a, b = two
    run = await running(a, "s2")
    assert [r.run_id for r in await b.busy("s2")] == [run.run_id]
    assert not await b.claim(Run("s2", "chat"))
    run.publish(ev.FinalAnswer(content="done"))
    await asyncio.sleep(0.2)
    assert await b.busy("s2") == []
    run.task.cancel()


async def test_commands_from_another_process_reach_the_run_and_unknown_ones_do_nothing(two):
    a, b = two
    run = await running(a, "s3", "board")
    run.interaction.expect("c1")
    assert not await b.answer("s3", "no-such-question", True)
    assert await b.answer("s3", "c1", True)
    remote = await b.get(run.run_id)
    assert remote is not None and await b.post(remote, "louder please")
    assert run.interaction.drain() == ["louder please"]
    await a.redis.publish(f"{a.prefix}control:{a.process}", "{not json")  # ignored, the channel goes on
    assert await b.cancel("s3") == 1
    await asyncio.sleep(0)
    assert run.task.cancelled()


async def test_a_run_whose_process_stops_renewing_is_marked_interrupted_once(two):
    a, b = two
    marked: list[str] = []

    async def interrupted(session_id: str, kind: str, events: list[ev.Event]) -> list[ev.Event]:
        marked.append("".join(e.content for e in events if isinstance(e, ev.Token)))
        return [ev.Error(message="interrupted", code="interrupted")]

    b.on_interrupted = interrupted
    run = await running(a, "s4")
    run.publish(ev.Token(content="so far"))
    remote = await b.get(run.run_id)
    assert remote is not None
    for task in a._tasks:  # process A freezes: no more renewals
        task.cancel()
    events = [e async for e in remote.follow()]
    assert isinstance(events[-1], ev.Error) and events[-1].code == "interrupted"
    assert marked == ["so far"]
    assert not await b.reap(run.run_id) and await b.of_session("s4") == []
    run.task.cancel()
