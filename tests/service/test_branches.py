"""Branch operations in the service: refused while a turn runs, history follows the shown branch."""

from __future__ import annotations

import pytest

from agentkit_app.engine.llm.scripted import Call, Reply, ScriptedModel
from agentkit_app.service.chat import Conflict, TurnRequest


async def test_branch_operations_wait_for_the_running_turn(service_factory):
    service = service_factory(ScriptedModel(lambda call: Reply(text="slow answer", delay=2.0)))
    session = await service.create_session("assistant")
    run = await service.start_turn(TurnRequest(session_id=session.session_id, content="hi there, how are you"))
    with pytest.raises(Conflict, match="still running"):
        await service.regenerate(session.session_id)
    with pytest.raises(Conflict):
        await service.switch_branch(session.session_id, "whatever")
    run.cancel()


async def test_regenerated_answer_sees_the_same_history(service_factory):
    seen: list[list[str]] = []

    def script(call: Call) -> Reply:
        seen.append([m["content"] for m in call.messages if m["role"] != "system"])
        return Reply(text=f"answer {len(seen)}")

    service = service_factory(ScriptedModel(script))
    session = await service.create_session("assistant")
    [e async for e in service.run_turn(TurnRequest(session_id=session.session_id, content="tell me about owls"))]
    run = await service.regenerate(session.session_id)
    [e async for e in run.follow()]
    assert seen[0] == seen[1] == ["tell me about owls"], "the model is asked the same question, once"
    stored = await service.store.get_messages(session.session_id)
    assert [m.content for m in stored] == ["tell me about owls", "answer 2"]
