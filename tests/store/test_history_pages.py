"""Pages of a session's history and the chat a model reads: the same messages whether or not the session forked."""

from __future__ import annotations

from sqlalchemy import text

from agentkit_app.store.db import make_engine, writer_lock
from agentkit_app.store.sessions import SessionManager


async def _conversation(manager: SessionManager, turns: int) -> str:
    sid = (await manager.create_session(agent_name="assistant")).session_id
    for i in range(turns):
        await manager.append_message(session_id=sid, role="user", content=f"q{i}")
        await manager.append_message(session_id=sid, role="assistant", content=f"a{i}")
    return sid


def _texts(messages) -> list[str]:
    return [m.content for m in messages]


async def test_pages_of_an_unforked_session_a_session_of_unknown_history_and_a_forked_one_agree(
    manager: SessionManager,
):
    sid = await _conversation(manager, 15)
    everything = [f"{role}{i}" for i in range(15) for role in ("q", "a")]
    assert _texts(await manager.get_messages(sid, limit=10, offset=5)) == everything[5:15]
    page = await manager.get_messages(sid, limit=4, offset=28)
    assert _texts(page) == everything[28:] and all(m.alternatives == [m.message_id] for m in page)
    with manager.engine.begin() as conn:  # as a session from before forks were noted
        conn.execute(text("UPDATE sessions SET branched = NULL WHERE session_id = :s"), {"s": sid})
    assert _texts(await manager.get_messages(sid, limit=10, offset=5)) == everything[5:15]
    ninth = (await manager.get_messages(sid, limit=1, offset=9))[0]
    await manager.set_leaf(sid, ninth.message_id)  # edit q5: the branch forks after a4
    await manager.append_message(session_id=sid, role="user", content="q5 edited")
    assert _texts(await manager.get_messages(sid, limit=4, offset=8)) == ["q4", "a4", "q5 edited"]
    assert len(await manager.get_messages(sid, branch="all")) == 31
    assert await manager.get_chat_messages(sid, limit=3) == [
        {"role": "user", "content": "q4"},
        {"role": "assistant", "content": "a4"},
        {"role": "user", "content": "q5 edited"},
    ]


async def test_the_chat_for_the_model_reads_past_what_it_leaves_out(manager: SessionManager):
    sid = await _conversation(manager, 3)
    for i in range(7):  # more than a batch of messages the model does not read
        await manager.append_message(session_id=sid, role="assistant", content="   ")
        await manager.append_message(session_id=sid, role="tool", content=f"tool {i}")
    assert await manager.get_chat_messages(sid, limit=3) == [
        {"role": "assistant", "content": "a1"},
        {"role": "user", "content": "q2"},
        {"role": "assistant", "content": "a2"},
    ]
    assert len(await manager.get_chat_messages(sid)) == 6


def test_sqlite_writes_of_a_process_share_one_lock_and_a_server_needs_none(database_url: str):
    engine, other = make_engine(database_url), make_engine(database_url)
    try:
        if database_url.startswith("sqlite"):
            assert writer_lock(engine) is writer_lock(engine) is not None
            assert writer_lock(other) is not writer_lock(engine)
        else:
            assert writer_lock(engine) is None
    finally:
        engine.dispose()
        other.dispose()
