"""Branching conversations in the store: edits and regenerations fork, switching shows each branch."""

from __future__ import annotations

import asyncio

from agentkit_app.store.sessions import SessionManager


async def _say(manager: SessionManager, sid: str, role: str, text: str) -> str:
    return (await manager.append_message(session_id=sid, role=role, content=text)).message_id


def _texts(messages) -> list[str]:
    return [m.content for m in messages]


async def test_regenerated_answer_is_an_alternative_and_branches_switch(manager: SessionManager):
    sid = (await manager.create_session(agent_name="assistant")).session_id
    q1 = await _say(manager, sid, "user", "q1")
    a1 = await _say(manager, sid, "assistant", "a1")
    await manager.set_leaf(sid, q1)  # regenerate: answer q1 again
    a1b = await _say(manager, sid, "assistant", "a1 again")
    active = await manager.get_messages(sid)
    assert _texts(active) == ["q1", "a1 again"]
    assert active[1].alternatives == [a1, a1b] and active[0].alternatives == [q1]
    await manager.switch_branch(sid, a1)
    assert _texts(await manager.get_messages(sid)) == ["q1", "a1"]
    assert await manager.get_chat_messages(sid) == [
        {"role": "user", "content": "q1"},
        {"role": "assistant", "content": "a1"},
    ]
    assert _texts(await manager.get_messages(sid, branch="all")) == ["q1", "a1", "a1 again"]


async def test_editing_a_message_forks_and_both_histories_stay(manager: SessionManager):
    sid = (await manager.create_session(agent_name="assistant")).session_id
    await _say(manager, sid, "user", "q1")
    a1 = await _say(manager, sid, "assistant", "a1")
    q2 = await _say(manager, sid, "user", "q2")
    await _say(manager, sid, "assistant", "a2")
    await manager.set_leaf(sid, a1)  # edit q2: the new version follows a1
    q2b = await _say(manager, sid, "user", "q2 edited")
    await _say(manager, sid, "assistant", "a2 for the edit")
    assert _texts(await manager.get_messages(sid)) == ["q1", "a1", "q2 edited", "a2 for the edit"]
    assert (await manager.get_messages(sid))[2].alternatives == [q2, q2b]
    await manager.switch_branch(sid, q2)
    assert _texts(await manager.get_messages(sid)) == ["q1", "a1", "q2", "a2"]
    await manager.switch_branch(sid, q2b)
    history = await manager.get_chat_messages(sid)
    assert [m["content"] for m in history] == ["q1", "a1", "q2 edited", "a2 for the edit"]
    # the next message continues the shown branch
    await _say(manager, sid, "user", "q3")
    assert _texts(await manager.get_messages(sid))[-2:] == ["a2 for the edit", "q3"]


async def test_editing_the_first_message_starts_a_new_root(manager: SessionManager):
    sid = (await manager.create_session(agent_name="assistant")).session_id
    q1 = await _say(manager, sid, "user", "first")
    await _say(manager, sid, "assistant", "answer")
    await manager.set_leaf(sid, "")
    q1b = await _say(manager, sid, "user", "first, better")
    active = await manager.get_messages(sid)
    assert _texts(active) == ["first, better"] and active[0].alternatives == [q1, q1b]
    assert (await manager.get_session(sid)).title == "first", "the title stays the session's"


async def test_branch_errors_and_concurrent_appends_stay_one_chain(manager: SessionManager):
    sid = (await manager.create_session(agent_name="assistant")).session_id
    try:
        await manager.switch_branch(sid, "nope")
    except KeyError as exc:
        assert "unknown message" in str(exc)
    else:
        raise AssertionError("switching to an unknown message must fail")
    await asyncio.gather(*(_say(manager, sid, "assistant", f"m{i}") for i in range(15)))
    active = await manager.get_messages(sid)
    assert len(active) == 15, "concurrent appends never fork the branch"


async def test_sessions_from_before_branches_read_as_one_straight_branch(tmp_path):
    from alembic import command
    from sqlalchemy import text

    from agentkit_app.store.db import alembic_config, make_engine, run_migrations

    url = f"sqlite:///{tmp_path / 'old.db'}"
    command.upgrade(alembic_config(url), "0002")
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO sessions VALUES ('s1', 'assistant', 'active', 'old', 'chat', '{}', "
                          "'2026-01-01 00:00:00', '2026-01-01 00:00:00')"))  # fmt: skip
        for i, (role, content) in enumerate([("user", "hi"), ("assistant", "hello"), ("user", "bye")]):
            conn.execute(
                text("INSERT INTO messages (message_id, session_id, role, content, metadata, created_at) "
                     "VALUES (:m, 's1', :r, :c, '{}', '2026-01-01 00:00:00')"),
                {"m": f"m{i}", "r": role, "c": content},
            )  # fmt: skip
    engine.dispose()
    run_migrations(url)
    manager = SessionManager(make_engine(url))
    assert _texts(await manager.get_messages("s1")) == ["hi", "hello", "bye"]
    await _say(manager, "s1", "assistant", "see you")
    assert _texts(await manager.get_messages("s1")) == ["hi", "hello", "bye", "see you"]
