"""Readers' votes on SQLite and PostgreSQL: one per reader and message, changed in place, listed newest first."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta

import pytest
from alembic import command
from sqlalchemy import inspect

from agentkit_app.store.db import alembic_config, make_engine
from agentkit_app.store.feedback import FeedbackStore, UnknownMessage
from agentkit_app.store.models import Rating
from agentkit_app.store.sessions import SessionManager


@pytest.fixture
def votes(manager: SessionManager) -> Iterator[FeedbackStore]:
    """Return the feedback store on the manager's database."""
    yield FeedbackStore(manager.engine)


async def _answer(
    manager: SessionManager, agent: str = "assistant", content: str = "an answer"
) -> tuple[str, str]:
    session = await manager.create_session(agent_name=agent)
    await manager.append_message(session_id=session.session_id, role="user", content="a question")
    answer = await manager.append_message(session_id=session.session_id, role="assistant", content=content)
    return session.session_id, answer.message_id


async def test_a_second_vote_replaces_the_first_and_none_clears_it(manager, votes: FeedbackStore):
    session_id, message_id = await _answer(manager)
    first = await votes.vote(message_id=message_id, session_id=session_id, voter="u1", rating=Rating.UP)
    assert first is not None and (first.rating, first.comment) == (Rating.UP, "")
    changed = await votes.vote(
        message_id=message_id, session_id=session_id, voter="u1", rating=Rating.DOWN, comment="wrong sum"
    )
    assert changed is not None and (changed.rating, changed.comment) == (Rating.DOWN, "wrong sum")
    assert changed.created_at == first.created_at and changed.updated_at >= first.updated_at
    assert [e.rating for e in await votes.listing()] == [Rating.DOWN]  # one row, not two
    assert (await votes.votes_in_session("u1", session_id))[message_id].comment == "wrong sum"
    assert await votes.votes_in_session("u2", session_id) == {}  # another reader has not voted

    assert await votes.vote(message_id=message_id, session_id=session_id, voter="u1", rating=None) is None
    assert await votes.votes_in_session("u1", session_id) == {}
    assert await votes.listing() == []


async def test_votes_sent_at_once_by_one_reader_leave_one_row(manager, votes: FeedbackStore):
    session_id, message_id = await _answer(manager)
    ratings = [Rating.UP, Rating.DOWN] * 10
    await asyncio.gather(
        *(
            votes.vote(message_id=message_id, session_id=session_id, voter="u1", rating=r, comment=str(i))
            for i, r in enumerate(ratings)
        )
    )
    listed = await votes.listing()
    assert len(listed) == 1
    assert listed[0].rating in (Rating.UP, Rating.DOWN)


async def test_a_vote_on_a_message_that_is_gone_is_refused(manager, votes: FeedbackStore):
    session_id, message_id = await _answer(manager)
    await manager.delete_session(session_id)
    with pytest.raises(UnknownMessage):
        await votes.vote(message_id=message_id, session_id=session_id, voter="u1", rating=Rating.UP)


async def test_votes_go_with_their_session_when_it_is_deleted(manager, votes: FeedbackStore):
    session_id, message_id = await _answer(manager)
    kept_session, kept_message = await _answer(manager)
    for sid, mid in ((session_id, message_id), (kept_session, kept_message)):
        await votes.vote(message_id=mid, session_id=sid, voter="u1", rating=Rating.UP)
    await manager.delete_session(session_id)
    assert [e.message_id for e in await votes.listing()] == [kept_message]
    assert await votes.of_session(session_id) == {}


async def test_the_list_is_newest_first_filtered_and_paged(manager, votes: FeedbackStore):
    made = []
    for agent, expert, rating in (
        ("assistant", None, Rating.UP),
        ("board_meeting", "Strategist", Rating.DOWN),
        ("board_meeting", "Investor", Rating.UP),
        ("coder", None, Rating.DOWN),
    ):
        session_id, message_id = await _answer(manager, agent, content=f"by {expert or agent}")
        await votes.vote(
            message_id=message_id,
            session_id=session_id,
            voter="u1",
            rating=rating,
            agent_name=agent,
            expert_name=expert,
            message_type="board_speech" if expert else "chat",
        )
        made.append(message_id)
    listed = await votes.listing()
    assert [e.message_id for e in listed] == made[::-1]
    assert listed[0].excerpt == "by coder" and listed[0].user_id == "u1"
    assert [e.message_id for e in await votes.listing(agent="board_meeting")] == [made[2], made[1]]
    assert [e.message_id for e in await votes.listing(expert="Strategist")] == [made[1]]
    assert [e.message_id for e in await votes.listing(rating=Rating.DOWN)] == [made[3], made[1]]
    page = await votes.listing(limit=2)
    rest = await votes.listing(limit=2, before=page[-1].updated_at)
    assert [e.message_id for e in page + rest] == made[::-1]
    assert await votes.listing(before=listed[-1].updated_at - timedelta(seconds=1)) == []
    summary = await votes.tally()
    assert [(t.name, t.up, t.down) for t in summary.agents] == [
        ("assistant", 1, 0),
        ("board_meeting", 1, 1),
        ("coder", 0, 1),
    ]
    assert [(t.name, t.up, t.down) for t in summary.experts] == [("Investor", 1, 0), ("Strategist", 0, 1)]


async def test_the_list_pages_the_newest_change_first(manager, votes: FeedbackStore):
    first_session, first = await _answer(manager)
    second_session, second = await _answer(manager)
    await votes.vote(message_id=first, session_id=first_session, voter="u1", rating=Rating.UP)
    await votes.vote(message_id=second, session_id=second_session, voter="u1", rating=Rating.UP)
    await votes.vote(message_id=first, session_id=first_session, voter="u1", rating=Rating.DOWN)
    assert [e.message_id for e in await votes.listing()] == [first, second]


def test_the_migration_creates_and_drops_the_feedback_table(tmp_path):
    url = f"sqlite:///{tmp_path / 'migrate.db'}"
    config = alembic_config(url)

    def tables() -> tuple[list[str], list[dict]]:
        engine = make_engine(url)
        try:
            names = inspect(engine).get_table_names()
            unique = (
                inspect(engine).get_unique_constraints("message_feedback")
                if "message_feedback" in names
                else []
            )
            return names, unique
        finally:
            engine.dispose()

    command.upgrade(config, "head")
    names, unique = tables()
    assert "message_feedback" in names
    assert any(set(c["column_names"]) == {"message_id", "voter"} for c in unique)
    command.downgrade(config, "0006")
    assert "message_feedback" not in tables()[0]
    command.upgrade(config, "head")
    assert "message_feedback" in tables()[0]
