"""SessionManager on SQLite and PostgreSQL: sessions, messages, chat history, metadata, concurrency, migrations."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from datetime import datetime

import pytest
from alembic import command
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from agentkit_app.store.db import alembic_config, make_engine, run_migrations
from agentkit_app.store.sessions import TITLE_CHARS, SessionManager
from tests.store.conftest import fresh_postgres


async def test_created_session_reads_back(manager: SessionManager):
    created = await manager.create_session(
        agent_name="assistant", kind="board", title="Plans", metadata={"lang": "en"}
    )
    fetched = await manager.get_session(created.session_id)
    assert fetched == created
    assert (fetched.agent_name, fetched.kind, fetched.title, fetched.status) == (
        "assistant",
        "board",
        "Plans",
        "active",
    )
    assert fetched.metadata == {"lang": "en"}
    assert fetched.created_at.tzinfo is not None and fetched.updated_at.tzinfo is not None
    other = await manager.create_session(agent_name="assistant")
    assert other.session_id != created.session_id
    assert (other.kind, other.title, other.metadata) == ("chat", "", {})


async def test_sessions_list_newest_first_with_limit_and_offset(manager: SessionManager):
    ids = [(await manager.create_session(agent_name="assistant", title=f"s{i}")).session_id for i in range(5)]
    listed = [s.session_id for s in await manager.list_sessions()]
    assert listed == ids[::-1]
    assert [s.session_id for s in await manager.list_sessions(limit=2)] == [ids[4], ids[3]]
    assert [s.session_id for s in await manager.list_sessions(limit=2, offset=3)] == [ids[1], ids[0]]
    assert await manager.list_sessions(offset=5) == []
    await manager.append_message(session_id=ids[0], role="user", content="back to the first one")
    assert [s.session_id for s in await manager.list_sessions(limit=2)] == [ids[0], ids[4]]


async def test_update_session_changes_title_kind_and_merges_server_state(manager: SessionManager):
    session = await manager.create_session(agent_name="assistant", metadata={"lang": "en"})
    await manager.update_session(session.session_id, server_state={"pinned": True})
    updated = await manager.update_session(
        session.session_id, title="A new name", kind="team", server_state={"team_run": {"status": "running"}}
    )
    assert updated is not None
    assert (updated.title, updated.kind, updated.status) == ("A new name", "team", "active")
    assert updated.server_state == {"pinned": True, "team_run": {"status": "running"}}
    assert updated.metadata == {"lang": "en"}  # the client's own, untouched
    assert updated.updated_at >= session.updated_at
    assert await manager.get_session(session.session_id) == updated
    long_title = await manager.update_session(session.session_id, title="word " * 40)
    assert long_title is not None and len(long_title.title) == TITLE_CHARS and long_title.title.endswith("…")
    assert long_title.kind == "team" and long_title.server_state["pinned"] is True


async def test_client_metadata_never_reaches_the_server_state(manager: SessionManager):
    hostile = {
        "team_run": {"run_id": "x", "status": "running"},
        "active_leaf": "nope",
        "title_source": "user",
    }
    session = await manager.create_session(agent_name="assistant", metadata=hostile)
    await manager.append_message(session_id=session.session_id, role="user", content="hello")
    stored = await manager.get_session(session.session_id)
    assert stored.metadata == hostile
    assert set(stored.server_state) == {"active_leaf"} and stored.server_state["active_leaf"] != "nope"
    assert [m.content for m in await manager.get_messages(session.session_id)] == ["hello"]


async def test_close_session_keeps_it_listed_as_closed(manager: SessionManager):
    session = await manager.create_session(agent_name="assistant", title="Done")
    closed = await manager.close_session(session.session_id)
    assert closed is not None and closed.status == "closed" and closed.title == "Done"
    assert (await manager.get_session(session.session_id)).status == "closed"
    assert [s.status for s in await manager.list_sessions()] == ["closed"]


async def test_unknown_session_reads_as_absent(manager: SessionManager):
    missing = uuid.uuid4().hex
    assert await manager.get_session(missing) is None
    assert await manager.update_session(missing, title="x", server_state={"a": 1}) is None
    assert await manager.close_session(missing) is None
    assert await manager.get_messages(missing) == []
    assert await manager.count_messages(missing) == 0
    assert await manager.get_chat_messages(missing) == []
    assert await manager.list_sessions() == []


async def test_append_to_missing_session_is_a_clear_error_and_stores_nothing(manager: SessionManager):
    kept = await manager.create_session(agent_name="assistant")
    await manager.append_message(session_id=kept.session_id, role="user", content="hello")
    missing = uuid.uuid4().hex
    with pytest.raises(KeyError, match=f"unknown session {missing}"):
        await manager.append_message(session_id=missing, role="user", content="lost?")
    assert await manager.count_messages(missing) == 0
    assert [s.session_id for s in await manager.list_sessions()] == [kept.session_id]
    assert [m.content for m in await manager.get_messages(kept.session_id)] == ["hello"]


async def test_first_user_message_titles_the_session(manager: SessionManager):
    session = await manager.create_session(agent_name="assistant")
    sid = session.session_id
    await manager.append_message(session_id=sid, role="assistant", content="Hi, how can I help?")
    await manager.append_message(session_id=sid, role="user", content="   \n  ")
    assert (await manager.get_session(sid)).title == ""
    stored = await manager.append_message(session_id=sid, role="user", content="  Plan a\n trip   to Kyoto  ")
    assert (stored.role, stored.content, stored.session_id) == ("user", "  Plan a\n trip   to Kyoto  ", sid)
    await manager.append_message(session_id=sid, role="user", content="and book hotels")
    assert (await manager.get_session(sid)).title == "Plan a trip to Kyoto"

    long = await manager.create_session(agent_name="assistant")
    await manager.append_message(session_id=long.session_id, role="user", content="x" * 500)
    title = (await manager.get_session(long.session_id)).title
    assert len(title) == TITLE_CHARS and title == "x" * (TITLE_CHARS - 1) + "…"

    named = await manager.create_session(agent_name="assistant", title="Chosen by the user")
    await manager.append_message(session_id=named.session_id, role="user", content="something else")
    assert (await manager.get_session(named.session_id)).title == "Chosen by the user"


async def test_messages_come_back_in_conversation_order_with_limit_and_offset(manager: SessionManager):
    sid = (await manager.create_session(agent_name="assistant")).session_id
    other = (await manager.create_session(agent_name="assistant")).session_id
    for i in range(6):
        await manager.append_message(
            session_id=sid, role="user" if i % 2 == 0 else "assistant", content=f"m{i}"
        )
        await manager.append_message(session_id=other, role="user", content=f"other {i}")
    assert [m.content for m in await manager.get_messages(sid)] == [f"m{i}" for i in range(6)]
    assert [m.content for m in await manager.get_messages(sid, limit=2)] == ["m0", "m1"]
    assert [m.content for m in await manager.get_messages(sid, limit=3, offset=2)] == ["m2", "m3", "m4"]
    assert [m.content for m in await manager.get_messages(sid, offset=5)] == ["m5"]
    assert await manager.get_messages(sid, offset=6) == []
    assert await manager.count_messages(sid) == 6 and await manager.count_messages(other) == 6


async def test_chat_history_skips_board_team_and_error_messages(manager: SessionManager):
    sid = (await manager.create_session(agent_name="assistant")).session_id
    stored = [
        ("user", "What is 2+2?", {}),
        ("assistant", "", {"cancelled": True}),
        ("assistant", "4", {"model": "demo"}),
        ("tool", "tool output", {}),
        ("user", "@board pick a database", {"message_type": "board_request"}),
        ("assistant", "I prefer PostgreSQL", {"message_type": "board_speech"}),
        ("assistant", "Round 1 summary", {"message_type": "board_summary"}),
        ("assistant", "Go with PostgreSQL", {"message_type": "board_final"}),
        ("assistant", "Lead: Design, Build", {"message_type": "team_formed"}),
        ("assistant", "Design done", {"message_type": "team_phase"}),
        ("assistant", "model timed out", {"message_type": "error"}),
        ("user", "thanks", {"message_type": "intervention"}),
    ]
    for role, content, meta in stored:
        await manager.append_message(session_id=sid, role=role, content=content, metadata=meta)
    assert await manager.get_chat_messages(sid) == [
        {"role": "user", "content": "What is 2+2?"},
        {"role": "assistant", "content": "4"},
        {"role": "user", "content": "@board pick a database"},
        {"role": "assistant", "content": "Go with PostgreSQL"},
        {"role": "user", "content": "thanks"},
    ]
    assert await manager.count_messages(sid) == len(stored)


async def test_chat_history_is_the_last_messages_oldest_first(manager: SessionManager):
    sid = (await manager.create_session(agent_name="assistant")).session_id
    for i in range(10):
        await manager.append_message(
            session_id=sid, role="user" if i % 2 == 0 else "assistant", content=f"m{i}"
        )
    assert [m["content"] for m in await manager.get_chat_messages(sid, limit=3)] == ["m7", "m8", "m9"]


async def test_chat_history_names_attached_files_for_the_model(manager: SessionManager):
    sid = (await manager.create_session(agent_name="assistant")).session_id
    files = [{"filename": "a.txt", "stored_name": "0a.txt"}, {"filename": "b.csv", "stored_name": "0b.csv"}]
    await manager.append_message(
        session_id=sid, role="user", content="compare them", metadata={"attachments": files}
    )
    assert await manager.get_chat_messages(sid) == [
        {"role": "user", "content": "compare them\n\n[file: 0a.txt] a.txt\n[file: 0b.csv] b.csv"}
    ]


async def test_chat_history_survives_long_board_discussions(manager: SessionManager):
    sid = (await manager.create_session(agent_name="assistant")).session_id
    await manager.append_message(session_id=sid, role="user", content="My name is Ada.")
    await manager.append_message(session_id=sid, role="assistant", content="Hello Ada.")
    # Several board runs: far more stored speeches than the history holds chat messages.
    for i in range(130):
        await manager.append_message(
            session_id=sid, role="assistant", content=f"speech {i}", metadata={"message_type": "board_speech"}
        )
    await manager.append_message(session_id=sid, role="user", content="What is my name?")
    assert await manager.get_chat_messages(sid) == [
        {"role": "user", "content": "My name is Ada."},
        {"role": "assistant", "content": "Hello Ada."},
        {"role": "user", "content": "What is my name?"},
    ]


async def test_metadata_and_content_round_trip_nested_and_unicode(manager: SessionManager):
    meta = {
        "lang": "zh-CN",
        "标题": "数据库选型 🚀",
        "team_run": {"status": "running", "phases": [{"id": "a", "done": True}, {"id": "b", "done": False}]},
        "score": 0.25,
        "count": 3,
        "nothing": None,
        "quote": 'she said "ok" \\ done',
    }
    session = await manager.create_session(agent_name="助手", metadata=meta)
    assert (await manager.get_session(session.session_id)).metadata == meta
    assert (await manager.get_session(session.session_id)).agent_name == "助手"
    content = "你好，世界 👋\n第二行 — «quotes» ünïcödé"
    await manager.append_message(
        session_id=session.session_id, role="user", content=content, agent_name="助手", metadata=meta
    )
    [message] = await manager.get_messages(session.session_id)
    assert message.content == content and message.metadata == meta and message.agent_name == "助手"
    assert (await manager.get_session(session.session_id)).title == "你好，世界 👋 第二行 — «quotes» ünïcödé"


async def test_concurrent_appends_store_every_message_once_in_a_stable_order(manager: SessionManager):
    sid = (await manager.create_session(agent_name="assistant")).session_id
    sent = [f"message {i}" for i in range(20)]
    results = await asyncio.gather(
        *(manager.append_message(session_id=sid, role="user", content=c) for c in sent)
    )
    assert len({r.message_id for r in results}) == 20
    after = await manager.append_message(session_id=sid, role="assistant", content="after all")
    messages = await manager.get_messages(sid)
    assert sorted(m.content for m in messages[:20]) == sorted(sent)
    assert len({m.message_id for m in messages}) == 21
    assert messages[-1].message_id == after.message_id
    pages = [m for offset in range(0, 21, 5) for m in await manager.get_messages(sid, limit=5, offset=offset)]
    assert [m.message_id for m in pages] == [m.message_id for m in messages]
    assert await manager.count_messages(sid) == 21
    assert (await manager.get_session(sid)).title in sent


async def test_answers_stored_at_the_same_moment_are_each_kept_and_one_bad_one_fails_alone(
    manager: SessionManager,
):
    sessions = [(await manager.create_session(agent_name="assistant")).session_id for _ in range(30)]
    for sid in sessions:
        await manager.append_message(session_id=sid, role="user", content=f"question of {sid}")
    targets = [*sessions[:15], "no-such-session", *sessions[15:]]
    outcomes = await asyncio.gather(
        *(
            manager.append_message(session_id=sid, role="assistant", content=f"answer in {sid}")
            for sid in targets
        ),
        *(
            manager.append_message(session_id=sessions[0], role="assistant", content=f"more {n}")
            for n in range(3)
        ),
        return_exceptions=True,
    )
    failed = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(failed) == 1 and isinstance(failed[0], KeyError), "only the unknown session's answer fails"
    for sid in sessions:
        messages = await manager.get_messages(sid)
        assert messages[1].content == f"answer in {sid}" or sid == sessions[0]
        chain = [m.parent_id for m in messages[1:]]
        assert chain == [m.message_id for m in messages[:-1]], "each message follows the one before it"
    assert len(await manager.get_messages(sessions[0])) == 5


async def test_a_turn_reads_its_session_and_chat_in_one_go_as_it_would_apart(manager: SessionManager):
    sid = (await manager.create_session(agent_name="assistant")).session_id
    assert await manager.get_session_and_chat(sid) == (await manager.get_session(sid), [])
    first = await manager.append_message(session_id=sid, role="user", content="first question")
    await manager.append_message(session_id=sid, role="assistant", content="first answer")
    await manager.append_message(session_id=sid, role="user", content="second question")
    assert await manager.get_session_and_chat(sid) == (
        await manager.get_session(sid),
        await manager.get_chat_messages(sid),
    )
    await manager.set_leaf(sid, first.message_id)  # the conversation forks after the first question
    await manager.append_message(session_id=sid, role="assistant", content="another first answer")
    session, chat = await manager.get_session_and_chat(sid)
    assert [m["content"] for m in chat] == ["first question", "another first answer"], (
        "the active branch only"
    )
    assert (session, chat) == (await manager.get_session(sid), await manager.get_chat_messages(sid))
    assert await manager.get_session_and_chat("no-such-session") == (None, [])


async def test_migrations_run_twice_are_idempotent(database_url: str):
    engine = make_engine(database_url)
    manager = SessionManager(engine)
    try:
        session = await manager.create_session(agent_name="assistant")
        await manager.append_message(session_id=session.session_id, role="user", content="kept")
        run_migrations(database_url)
        run_migrations(database_url)
        head = ScriptDirectory.from_config(alembic_config(database_url)).get_current_head()
        with engine.connect() as conn:
            assert MigrationContext.configure(conn).get_current_revision() == head
            assert {"sessions", "messages", "alembic_version"} <= set(inspect(conn).get_table_names())
        assert [m.content for m in await manager.get_messages(session.session_id)] == ["kept"]
        created = await manager.create_session(agent_name="assistant")
        assert isinstance(created.created_at, datetime)
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def test_the_server_keys_of_old_sessions_move_out_of_the_client_metadata(backend: str, tmp_path):
    with contextlib.ExitStack() as stack:
        url = (
            f"sqlite:///{tmp_path / 'old.db'}"
            if backend == "sqlite"
            else stack.enter_context(fresh_postgres())
        )
        command.upgrade(alembic_config(url), "0004")
        engine = make_engine(url)
        old = {
            "lang": "en",
            "pinned": True,
            "title_source": "user",
            "team_run": {"run_id": "r1", "status": "done"},
        }
        with engine.begin() as conn:
            conn.execute(
                text("INSERT INTO sessions (session_id, agent_name, status, title, kind, metadata, created_at, "
                     "updated_at) VALUES ('s1', 'assistant', 'active', 'old', 'team', :m, :t, :t)"),
                {"m": json.dumps(old), "t": "2026-01-01 00:00:00+00:00"},
            )  # fmt: skip
        engine.dispose()
        run_migrations(url)
        engine = make_engine(url)
        moved = await SessionManager(engine).get_session("s1")
        engine.dispose()
    assert moved.metadata == {"lang": "en"}
    assert moved.server_state == {
        "pinned": True,
        "title_source": "user",
        "team_run": {"run_id": "r1", "status": "done"},
    }


async def test_nul_characters_a_model_writes_are_dropped_not_a_lost_message(manager: SessionManager):
    session = await manager.create_session(agent_name="assistant")
    await manager.append_message(session_id=session.session_id, role="user", content="hi\x00 there")
    await manager.append_message(session_id=session.session_id, role="assistant", content="a\x00b")
    assert [m.content for m in await manager.get_messages(session.session_id)] == ["hi there", "ab"]
    assert (await manager.get_session(session.session_id)).title == "hi there"
