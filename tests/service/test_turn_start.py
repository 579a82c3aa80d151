"""A chat turn reaches the model before its question is stored, and loses and reorders nothing for it."""

from __future__ import annotations

import asyncio

from agentkit_app.engine.llm.scripted import Call, Reply, ScriptedModel
from agentkit_app.service.chat import TurnRequest
from agentkit_app.store.models import MessageRole


def _slow_question_store(service, started: asyncio.Event, release: asyncio.Event) -> None:
    """Make storing a user message wait for ``release`` (signalling ``started``), as a busy database would."""
    append = service.store.append_message

    async def append_message(**fields):
        if fields["role"] == MessageRole.USER:
            started.set()
            await release.wait()
        return await append(**fields)

    service.store.append_message = append_message


async def test_the_model_is_asked_while_the_question_is_stored_and_the_answer_follows_it(service_factory):
    asked: list[Call] = []

    def answer(call: Call) -> Reply:
        asked.append(call)
        return Reply(text="four")

    service = service_factory(ScriptedModel(answer))
    started, release = asyncio.Event(), asyncio.Event()
    _slow_question_store(service, started, release)
    session = await service.create_session(next(iter(service.catalog.agents)))
    release.set()  # a first exchange, stored as usual: history the model must see
    first = await service.start_turn(TurnRequest(session_id=session.session_id, content="first question"))
    await asyncio.wait_for(first.task, 5)
    started.clear()
    release.clear()
    run = await service.start_turn(TurnRequest(session_id=session.session_id, content="two plus two?"))
    await asyncio.wait_for(started.wait(), 5)
    for _ in range(50):  # the model is asked although the question is not stored yet
        if len(asked) == 2:
            break
        await asyncio.sleep(0.01)
    assert [m["content"] for m in asked[-1].messages[1:]] == ["first question", "four", "two plus two?"]
    assert [m.content for m in await service.store.get_messages(session.session_id)][-1] == "four"
    release.set()
    await asyncio.wait_for(run.task, 5)
    stored = await service.store.get_messages(session.session_id)
    assert [(m.role, m.content) for m in stored[-2:]] == [
        (MessageRole.USER, "two plus two?"),
        (MessageRole.ASSISTANT, "four"),
    ]
    assert stored[-1].parent_id == stored[-2].message_id


async def test_a_turn_stopped_while_its_question_is_stored_keeps_both_in_order(service_factory):
    model = ScriptedModel([Reply(text="never read", delay=5)])
    service = service_factory(model)
    started, release = asyncio.Event(), asyncio.Event()
    _slow_question_store(service, started, release)
    session = await service.create_session(next(iter(service.catalog.agents)))
    run = await service.start_turn(TurnRequest(session_id=session.session_id, content="keep me"))
    await asyncio.wait_for(started.wait(), 5)
    while not model.calls:
        await asyncio.sleep(0.01)
    run.task.cancel()  # Stop, while the question is still being stored
    await asyncio.sleep(0.05)
    release.set()
    await asyncio.gather(run.task, return_exceptions=True)
    stored = await service.store.get_messages(session.session_id)
    assert [m.role for m in stored] == [MessageRole.USER, MessageRole.ASSISTANT]
    assert stored[0].content == "keep me"
    assert stored[1].parent_id == stored[0].message_id
    assert stored[1].metadata.get("cancelled") is True
