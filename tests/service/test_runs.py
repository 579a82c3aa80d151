"""A run's events as its viewers get them: one at a time, or all that are ready at once."""

from __future__ import annotations

import asyncio

from agentkit_app.engine import events as ev
from agentkit_app.service.runs import Run


async def test_a_viewer_gets_every_event_ready_in_one_batch_then_waits_for_more():
    run = Run("s1", "chat")
    for word in ("a", "b", "c"):
        run.publish(ev.Token(content=word))
    batches = run.batches()
    assert [e.content for e in await anext(batches)] == ["a", "b", "c"]
    later = asyncio.ensure_future(anext(batches))
    await asyncio.sleep(0)
    assert not later.done()
    run.publish(ev.Token(content="d"))
    run.publish(ev.FinalAnswer(content="abcd"))
    assert [e.type for e in await later] == ["token", "final_answer"]
    run.finish()
    assert [e async for e in run.follow()] == run.events
    assert [len(b) async for b in run.batches(start=2)] == [3]
