"""Runs on the machine's Redis, seen from two registries as two processes would see them."""

from __future__ import annotations

import asyncio
import json

from agentkit_app.engine import events as ev
from agentkit_app.engine.llm.scripted import Call, Reply, ScriptedModel
from agentkit_app.service.chat import ChatService, TurnRequest
from agentkit_app.service.redis_runs import RedisRuns
from agentkit_app.service.remote_runs import RemoteRun
from agentkit_app.service.runs import Run
from tests.service.conftest import running
from tests.service.team_recovery_worker import PLAN, TASK, build_service, phase_name


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


async def test_an_owner_that_stalled_past_its_lease_writes_nothing_more_and_its_run_stops(two):
    a, b = two

    async def interrupted(session_id: str, kind: str, events: list[ev.Event]) -> list[ev.Event]:
        return [ev.Error(message="interrupted", code="interrupted")]

    b.on_interrupted = interrupted
    run = await running(a, "s5")
    run.publish(ev.Token(content="kept"))
    remote = await b.get(run.run_id)
    assert remote is not None
    for task in a._tasks:  # process A stalls past its lease; B marks the run interrupted
        task.cancel()
    assert [type(e) for e in [e async for e in remote.follow()]] == [ev.Token, ev.Error]
    run.publish(ev.Token(content="late"))  # A wakes up and goes on: refused
    run.publish(ev.FinalAnswer(content="late answer"))
    await asyncio.sleep(0.3)
    entries = await a.redis.xrange(f"{a.prefix}events:{run.run_id}")
    assert not any("late" in fields.get("e", "") for _, fields in entries)
    assert "end" in entries[-1][1], "the run ends where the process that took it over ended it"
    assert not await a.owns(run)
    assert run.task.cancelled(), "the run that lost its lease is stopped where it ran"


async def test_an_owner_whose_lease_lapsed_while_nobody_took_the_run_over_goes_on(two):
    a, b = two
    run = await running(a, "s6")
    await a.redis.delete(f"{a.prefix}lease:{run.run_id}", f"{a.prefix}busy:s6")  # lapsed while A was paused
    run.publish(ev.Token(content="still here"))
    await asyncio.sleep(0.5)  # A's write, then its renewal, take the lease again
    assert not run.task.done()
    assert await a.redis.get(f"{a.prefix}lease:{run.run_id}") == a.process
    assert [r.run_id for r in await b.busy("s6")] == [run.run_id]
    remote = await b.get(run.run_id)
    assert remote is not None
    async for batch in remote.batches():
        assert batch == [ev.Token(content="still here")], "what A wrote meanwhile reached the stream"
        break
    run.task.cancel()


async def test_a_run_whose_session_another_run_took_while_it_stalled_stops(two):
    a, b = two
    run = await running(a, "s7")
    await a.redis.delete(f"{a.prefix}busy:s7")  # its busy key lapsed while A was paused...
    newer = await running(b, "s7")  # ...and B started a turn in the session
    await asyncio.sleep(0.5)
    assert run.task.cancelled(), "of two runs answering in one session, the stalled one stops"
    assert [r.run_id for r in await b.busy("s7")] == [newer.run_id]
    newer.task.cancel()


def _on_redis(service: ChatService, runs: RedisRuns) -> None:
    """Give ``service`` the registry ``runs``, as the app builds it with Redis on."""
    runs.on_interrupted = service.runs.on_interrupted
    service.runs = runs


async def test_an_answer_finished_after_the_run_was_taken_over_is_not_stored(two, tmp_path):
    a, b = two
    on_a = build_service(tmp_path, a.prefix, ScriptedModel([Reply(text="one two three four", delay=0.8)]))
    on_b = build_service(tmp_path, b.prefix, ScriptedModel([]))
    _on_redis(on_a, a)
    _on_redis(on_b, b)
    session = await on_a.create_session("assistant")
    run = await on_a.start_turn(TurnRequest(session_id=session.session_id, content="count to four"))
    async for event in run.follow():
        if isinstance(event, ev.Token):
            break
    for task in a._tasks:  # A stalls; B, following the run, marks it interrupted
        task.cancel()
    remote = await b.get(run.run_id)
    assert remote is not None
    seen = [e async for e in remote.follow()]
    assert [e.code for e in seen if isinstance(e, ev.Error)] == ["interrupted"]
    await asyncio.wait_for(asyncio.gather(run.task, return_exceptions=True), 10)
    answers = [m for m in await on_b.store.get_messages(session.session_id) if m.role == "assistant"]
    assert len(answers) == 1, "the answer is stored once: as the process that took the run over left it"
    assert answers[0].metadata.get("interrupted") and answers[0].content != "one two three four"


def _team(slow: str = "") -> ScriptedModel:
    """A team model planning Design -> Build -> Review; each phase answers ``{name} done{slow}``, slowly if ``slow``."""

    def answer(call: Call) -> Reply:
        if call.purpose == "team.plan":
            return Reply(text=json.dumps(PLAN))
        if call.purpose == "team.phase":
            name = phase_name(call)
            return Reply(text=f"{name} done{slow}", delay=1.5 if slow and name == "Build" else 0.0)
        return Reply(text="The release is out.")

    return ScriptedModel(answer)


async def test_a_team_run_resumed_elsewhere_is_not_overwritten_when_its_stalled_owner_wakes(two, tmp_path):
    a, b = two
    on_a = build_service(tmp_path, f"{a.prefix}cp:", _team(" slowly"))
    on_b = build_service(tmp_path, f"{a.prefix}cp:", _team())
    _on_redis(on_a, a)
    _on_redis(on_b, b)
    session = await on_a.create_session("assistant")
    run = await on_a.start_turn(TurnRequest(session_id=session.session_id, content=TASK))
    while "a" not in ((await on_a.checkpoints.load(run.run_id)) or {}).get("results", {}):
        await asyncio.sleep(0.05)
    for (
        task
    ) in a._tasks:  # A stalls in the Build phase; B marks the run interrupted, the user resumes it on B
        task.cancel()
    remote = await b.get(run.run_id)
    assert remote is not None and [e async for e in remote.follow()][-1].code == "interrupted"
    resumed = await on_b.resume_team(session.session_id)
    await asyncio.wait_for(asyncio.gather(resumed.task, run.task, return_exceptions=True), 15)
    state = await on_b.checkpoints.load(run.run_id)
    assert state is not None and state["results"]["b"] == "Build done", "A's late phase is not checkpointed"
    fresh = await on_b.store.get_session(session.session_id)
    assert fresh is not None and fresh.server_state["team_run"] == {
        "run_id": run.run_id,
        "status": "completed",
    }
    stored = " ".join(m.content for m in await on_b.store.get_messages(session.session_id))
    assert "Design done slowly" in stored and "Build done slowly" not in stored, (
        "what A finished is kept, no more"
    )
