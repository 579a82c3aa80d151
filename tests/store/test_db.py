"""The store's one transaction helper: a session per call, uncommitted writes rolled back, the lock held."""

from __future__ import annotations

import asyncio
import threading

import pytest
from sqlmodel import Session, select

from agentkit_app.store.db import in_session, make_engine
from agentkit_app.store.models import SessionRecord


async def test_what_a_failing_transaction_wrote_is_rolled_back_and_a_commit_stays(database_url: str):
    engine = make_engine(database_url)

    def add_then_fail(db: Session) -> None:
        db.add(SessionRecord(session_id="lost", agent_name="assistant"))
        db.flush()
        raise RuntimeError("boom")

    def add_and_commit(db: Session) -> str:
        db.add(SessionRecord(session_id="kept", agent_name="assistant"))
        db.commit()
        return "done"

    with pytest.raises(RuntimeError):
        await in_session(engine, add_then_fail)
    assert await in_session(engine, add_and_commit) == "done"
    ids = await in_session(engine, lambda db: set(db.exec(select(SessionRecord.session_id))))
    assert ids == {"kept"}
    engine.dispose()


async def test_the_lock_is_held_for_the_whole_transaction(database_url: str):
    engine = make_engine(database_url)
    lock = threading.Lock()
    inside = threading.Event()
    leave = threading.Event()

    def slow(db: Session) -> None:
        inside.set()
        leave.wait(5)

    first = asyncio.create_task(in_session(engine, slow, lock=lock))
    await asyncio.to_thread(inside.wait, 5)
    assert lock.locked(), "the lock is held while the transaction runs"
    leave.set()
    await first
    assert not lock.locked()
    engine.dispose()
