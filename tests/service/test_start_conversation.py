"""A conversation begun by its first message: the session exists only if that message started a turn."""

from __future__ import annotations

import asyncio

import pytest

from agentkit_app.engine.llm.scripted import Reply, ScriptedModel
from agentkit_app.service.chat import TurnRequest
from agentkit_app.service.errors import InvalidInput, NotFound, QuotaExceeded
from agentkit_app.store.models import QuotaPublic
from tests.service.test_quotas import member, with_access


async def test_the_first_message_creates_the_session_and_is_answered_in_it(service_factory):
    service = service_factory(ScriptedModel(lambda call: Reply(text="hello to you")))
    run = await service.start_conversation("assistant", TurnRequest(session_id="", content="hello"))
    await asyncio.wait_for(run.task, 5)
    sessions = await service.store.list_sessions()
    assert [s.session_id for s in sessions] == [run.session_id]
    assert sessions[0].agent_name == "assistant"
    stored = await service.store.get_messages(run.session_id)
    assert [m.content for m in stored][:2] == ["hello", "hello to you"]


@pytest.mark.parametrize(
    ("agent", "text", "refusal"),
    [
        ("assistant", "   ", InvalidInput),
        ("nobody", "hello", NotFound),
        ("assistant", "x" * 1_000_000, InvalidInput),
    ],
)
async def test_a_refused_first_message_leaves_no_session(service_factory, agent, text, refusal):
    service = service_factory(ScriptedModel(lambda call: Reply(text="never")))
    with pytest.raises(refusal):
        await service.start_conversation(agent, TurnRequest(session_id="", content=text))
    assert await service.store.list_sessions() == []


async def test_a_first_message_over_the_quota_leaves_no_session(service_factory):
    service = service_factory(ScriptedModel(lambda call: Reply(text="answered")))
    user = await member(with_access(service), [QuotaPublic(quota_type="requests", period="day", limit=1)])
    first = await service.start_conversation(
        "assistant", TurnRequest(session_id="", content="hi", principal=user)
    )
    await asyncio.wait_for(first.task, 5)
    with pytest.raises(QuotaExceeded):
        await service.start_conversation(
            "assistant", TurnRequest(session_id="", content="more", principal=user)
        )
    assert [s.session_id for s in await service.store.list_sessions()] == [first.session_id]


async def test_an_attachment_that_is_not_the_senders_leaves_no_session(service_factory):
    service = service_factory(ScriptedModel(lambda call: Reply(text="never")))
    forged = [{"filename": "notes.txt", "stored_name": "0123456789abcdef0123456789abcdef.txt"}]
    with pytest.raises(InvalidInput, match="upload the file first"):
        await service.start_conversation(
            "assistant", TurnRequest(session_id="", content="read this", attachments=forged)
        )
    assert await service.store.list_sessions() == []
