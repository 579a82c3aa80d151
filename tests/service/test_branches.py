"""Branch operations (and deletion) in the service: refused while a turn runs, history follows the shown branch."""

from __future__ import annotations

import pytest

from agentkit_app.engine.llm.fallback import FallbackModel
from agentkit_app.engine.llm.scripted import Call, Reply, ScriptedModel
from agentkit_app.service.chat import TurnRequest
from agentkit_app.service.errors import Conflict


async def test_branch_operations_wait_for_the_running_turn(service_factory):
    service = service_factory(ScriptedModel(lambda call: Reply(text="slow answer", delay=2.0)))
    session = await service.create_session("assistant")
    run = await service.start_turn(
        TurnRequest(session_id=session.session_id, content="hi there, how are you")
    )
    with pytest.raises(Conflict, match="still running"):
        await service.regenerate(session.session_id)
    with pytest.raises(Conflict):
        await service.switch_branch(session.session_id, "whatever")
    with pytest.raises(Conflict):  # deleting waits too: nothing half-written is left behind
        await service.delete_session(session.session_id)
    run.cancel()


async def test_once_the_answer_is_out_the_user_may_go_on_while_the_session_is_titled(service_factory):
    def script(call: Call) -> Reply:
        return (
            Reply(text="Owls at night", delay=2.0)
            if call.purpose == "title"
            else Reply(text="owls hunt at night")
        )

    service = service_factory(ScriptedModel(script))
    session = await service.create_session("assistant")
    first = await service.start_turn(TurnRequest(session_id=session.session_id, content="tell me about owls"))
    assert await service.runs.busy(session.session_id) == [first]
    async for event in first.follow():
        if event.type == "final_answer":
            break
    assert not first.done and first.answered, "still titling"
    assert await service.runs.busy(session.session_id) == []
    second = await service.start_turn(TurnRequest(session_id=session.session_id, content="and bats?"))
    assert second.kind == "chat"
    [e async for e in second.follow()]
    [e async for e in first.follow()]
    stored = await service.store.get_messages(session.session_id)
    assert [m.content for m in stored] == [
        "tell me about owls",
        "owls hunt at night",
        "and bats?",
        "owls hunt at night",
    ]
    assert (await service.store.get_session(session.session_id)).title == "Owls at night"


async def test_regenerated_answer_sees_the_same_history(service_factory):
    seen: list[list[str]] = []

    def script(call: Call) -> Reply:
        if call.purpose == "title":
            return Reply(text="Owls")
        seen.append([m["content"] for m in call.messages if m["role"] != "system"])
        return Reply(text=f"answer {len(seen)}")

    service = service_factory(ScriptedModel(script))
    session = await service.create_session("assistant")
    [
        e
        async for e in service.run_turn(
            TurnRequest(session_id=session.session_id, content="tell me about owls")
        )
    ]
    run = await service.regenerate(session.session_id)
    [e async for e in run.follow()]
    assert seen[0] == seen[1] == ["tell me about owls"], "the model is asked the same question, once"
    stored = await service.store.get_messages(session.session_id)
    assert [m.content for m in stored] == ["tell me about owls", "answer 2"]


async def test_first_exchange_titles_the_session_once_and_a_user_title_stays(service_factory):
    def script(call: Call) -> Reply:
        return Reply(text='"Night birds"\n') if call.purpose == "title" else Reply(text="They hunt at night.")

    service = service_factory(ScriptedModel(script))
    session = await service.create_session("assistant")
    [
        e
        async for e in service.run_turn(
            TurnRequest(session_id=session.session_id, content="tell me about owls")
        )
    ]
    titled = await service.store.get_session(session.session_id)
    assert titled.title == "Night birds" and titled.server_state["title_source"] == "model"
    await service.store.update_session(
        session.session_id, title="Mine", server_state={"title_source": "user"}
    )
    [e async for e in service.run_turn(TurnRequest(session_id=session.session_id, content="and bats?"))]
    assert (await service.store.get_session(session.session_id)).title == "Mine"


async def test_a_failing_title_call_keeps_the_first_message_as_title(service_factory):
    def script(call: Call) -> Reply:
        return Reply(error="down") if call.purpose == "title" else Reply(text="ok")

    service = service_factory(ScriptedModel(script))
    session = await service.create_session("assistant")
    [
        e
        async for e in service.run_turn(
            TurnRequest(session_id=session.session_id, content="tell me about owls")
        )
    ]
    assert (await service.store.get_session(session.session_id)).title == "tell me about owls"


@pytest.mark.parametrize(
    ("recovery", "title"), [(None, "tell me about owls"), ("Owls at night", "Owls at night")]
)
async def test_a_fallback_apology_never_becomes_a_title_but_a_recovery_answer_does(
    service_factory, recovery: str | None, title: str
):
    def main(call: Call) -> Reply:
        return Reply(error="down") if call.purpose == "title" else Reply(text="ok")

    stand_in = ScriptedModel(lambda call: Reply(text=recovery or "")) if recovery else None
    service = service_factory(FallbackModel(ScriptedModel(main), stand_in, "Sorry, no model answers."))
    session = await service.create_session("assistant")
    [
        e
        async for e in service.run_turn(
            TurnRequest(session_id=session.session_id, content="tell me about owls")
        )
    ]
    assert (await service.store.get_session(session.session_id)).title == title
