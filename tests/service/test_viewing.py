"""What a viewer connecting to a session is sent of its runs, in one process and across two on Redis."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from agentkit_app.engine import events as ev
from agentkit_app.service.redis_runs import RedisRuns
from agentkit_app.service.remote_runs import RemoteRun
from agentkit_app.service.runs import Run, RunRegistry
from agentkit_app.service.viewing import Position, Seen, views_of
from tests.service.conftest import running


@pytest.fixture(params=["one process", "two processes on Redis"])
def where(request: pytest.FixtureRequest) -> tuple[RunRegistry, RunRegistry]:
    """The registry that runs a run and the one a viewer connects to: the same, or two on Redis."""
    if request.param == "one process":
        runs = RunRegistry()
        return runs, runs
    owner, viewer = request.getfixturevalue("two")
    return owner, viewer


async def _end(runs: RunRegistry, run: Run) -> None:
    """End a run as the service does, and give its stream time to say so."""
    assert run.task is not None
    run.task.cancel()
    run.finish()
    runs.remove(run)
    if isinstance(runs, RedisRuns):
        await asyncio.sleep(0.2)


async def _read(batches: AsyncIterator[list[Seen]], count: int | None = None) -> list[Seen]:
    """Return what a view's batches yield: ``count`` events, or all until its run ends."""
    seen: list[Seen] = []
    async for batch in batches:
        seen += batch
        if count is not None and len(seen) >= count:
            break
    return seen


async def _a_turn_with_dialogs(runs: RunRegistry, session_id: str) -> Run:
    """Return a running turn that has asked twice and been answered once, and asks a third time."""
    run = await running(runs, session_id)
    for event in [
        ev.Step(step=1, event_type="tool_call"),
        ev.ConfirmationRequest(confirmation_id="c1", command="rm -rf /tmp/x", reason="asked"),
        ev.ConfirmationResult(confirmation_id="c1", approved=False),
        ev.AskHuman(question="your name?", request_id="q1"),
        ev.HumanReply(request_id="q1", content="Ada"),
        ev.Token(content="Hello "),
        ev.AskHuman(question="and your city?", request_id="q2"),
    ]:
        run.publish(event)
    if isinstance(runs, RedisRuns):
        await asyncio.sleep(0.2)  # written to the run's stream
    return run


async def test_a_viewer_mid_run_gets_the_past_marked_without_answered_dialogs_then_the_live_events(where):
    owner, viewer = where
    run = await _a_turn_with_dialogs(owner, "s1")
    [view] = await views_of(viewer, "s1")
    assert view.live_from == 7, "what the run had produced, though a view elsewhere has not read it yet"
    assert isinstance(view.run, RemoteRun) == (owner is not viewer)
    batches = view.batches()
    past = await _read(batches, 5)
    assert [s.event.type for s in past] == [
        "step",
        "confirmation_result",
        "human_reply",
        "token",
        "ask_human",
    ], "the answered confirmation and question are left out; the one still waiting is asked"
    assert all(s.replay for s in past) and past[-1].event == ev.AskHuman(
        question="and your city?", request_id="q2"
    )
    assert [s.position.seen for s in past] == [1, 3, 5, 6, 7]
    run.publish(ev.HumanReply(request_id="q2", content="Paris"))
    run.publish(ev.FinalAnswer(content="Hello Ada from Paris"))
    await _end(owner, run)
    live = await _read(batches)
    assert [(s.event.type, s.replay, str(s.position)) for s in live] == [
        ("human_reply", False, f"{run.run_id}:8"),
        ("final_answer", False, f"{run.run_id}:9"),
    ]


async def test_a_viewer_resumes_after_its_position_even_once_the_run_has_ended(where):
    owner, viewer = where
    run = await _a_turn_with_dialogs(owner, "s2")
    run.publish(ev.HumanReply(request_id="q2", content="Paris"))
    run.publish(ev.FinalAnswer(content="done"))
    await asyncio.sleep(0.2)
    assert await views_of(viewer, "s2") == [], (
        "a run that has answered is not sent to a viewer naming nothing"
    )
    await _end(owner, run)
    [view] = await views_of(viewer, "s2", Position(run.run_id, 1))
    rest = await _read(view.batches())
    assert [s.event.type for s in rest] == [
        "confirmation_result",
        "human_reply",
        "token",
        "human_reply",
        "final_answer",
    ]
    assert all(s.replay for s in rest) and [s.position.seen for s in rest] == [3, 5, 6, 8, 9]
    assert await views_of(viewer, "s2", Position(run.run_id, 9)) == [], "nothing after the end"
    assert await views_of(viewer, "another session", Position(run.run_id, 1)) == [], "not its run"
    assert await views_of(viewer, "s2", Position(uuid.uuid4().hex, 1)) == []


async def test_a_viewer_that_names_a_finished_run_also_follows_the_next_one(where):
    owner, viewer = where
    first = await running(owner, "s3")
    first.publish(ev.FinalAnswer(content="one"))
    await _end(owner, first)
    second = await running(owner, "s3")
    second.publish(ev.Token(content="tw"))
    await asyncio.sleep(0.2)
    views = await views_of(viewer, "s3", Position(first.run_id, 0))
    assert [(v.run.run_id, v.start, v.live_from) for v in views] == [
        (first.run_id, 0, 1),
        (second.run_id, 0, 1),
    ]
    await _end(owner, second)
