"""Share links in the store, on SQLite and PostgreSQL: made, listed, found by token, revoked, limited."""

from __future__ import annotations

import asyncio
import secrets

import pytest
from alembic import command
from sqlalchemy import inspect

from agentkit_app.store.db import alembic_config, make_engine
from agentkit_app.store.models import ShareVisibility
from agentkit_app.store.sessions import SessionManager
from agentkit_app.store.shares import ShareStore, TooManyShares, UnknownSession


async def make(shares: ShareStore, session_id: str, *, most: int = 20, by: str | None = None):
    return await shares.create(
        share_id=secrets.token_hex(8),
        token=secrets.token_urlsafe(32),
        session_id=session_id,
        created_by=by,
        visibility=ShareVisibility.PUBLIC,
        most=most,
    )


async def test_links_are_listed_newest_first_found_by_token_and_revoked(manager: SessionManager):
    shares = ShareStore(manager.engine)
    session = await manager.create_session(agent_name="assistant")
    other = await manager.create_session(agent_name="assistant")
    first, second = await make(shares, session.session_id), await make(shares, session.session_id)
    await make(shares, other.session_id)
    assert [s.share_id for s in await shares.of_session(session.session_id)] == [
        second.share_id,
        first.share_id,
    ]
    found = await shares.find(first.token)
    assert found is not None and found.session_id == session.session_id
    assert found.path == f"/share/{first.token}"

    # a link is revoked only through its own session
    assert not await shares.revoke(other.session_id, first.share_id)
    assert await shares.revoke(session.session_id, first.share_id)
    assert not await shares.revoke(session.session_id, first.share_id)
    assert await shares.find(first.token) is None
    assert [s.share_id for s in await shares.of_session(session.session_id)] == [second.share_id]


async def test_links_of_an_unknown_or_deleted_session(manager: SessionManager):
    shares = ShareStore(manager.engine)
    with pytest.raises(UnknownSession):
        await make(shares, "no-such-session")
    session = await manager.create_session(agent_name="assistant")
    link = await make(shares, session.session_id)
    await manager.delete_session(session.session_id)
    assert await shares.find(link.token) is None


async def test_links_made_at_once_never_pass_the_limit(manager: SessionManager):
    shares = ShareStore(manager.engine)
    session = await manager.create_session(agent_name="assistant")
    made = await asyncio.gather(
        *(make(shares, session.session_id, most=5) for _ in range(12)), return_exceptions=True
    )
    assert sum(not isinstance(m, BaseException) for m in made) == 5
    assert all(isinstance(m, TooManyShares) for m in made if isinstance(m, BaseException))
    assert len(await shares.of_session(session.session_id)) == 5


def test_the_migration_adds_the_table_with_a_unique_token_and_takes_it_away(database_url: str):
    config = alembic_config(database_url)
    engine = make_engine(database_url)
    try:
        unique = inspect(engine).get_unique_constraints("shares")
        assert any(c["column_names"] == ["token"] for c in unique)
        command.downgrade(config, "0010_catalog")
        assert "shares" not in inspect(engine).get_table_names()
        command.upgrade(config, "head")
        assert "shares" in inspect(engine).get_table_names()
    finally:
        engine.dispose()
