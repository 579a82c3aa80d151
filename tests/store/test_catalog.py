"""The catalog tables on SQLite and PostgreSQL: seeded once, changed one checked edit at a time, versioned."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest

from agentkit_app.service.catalog import read_seed
from agentkit_app.store.catalog import AgentPublic, CatalogEdit, CatalogSnapshot, CatalogStore, ExpertPublic
from agentkit_app.store.db import make_engine
from agentkit_app.store.sessions import SessionManager


class Taken(Exception):
    """The check of a test refused a name in use."""


def _agent(name: str, prompt: str = "You help.") -> AgentPublic:
    return AgentPublic(name=name, display_name=name.title(), system_prompt=prompt, tools=["calculator"])


async def test_an_empty_database_is_seeded_once_with_every_entry(manager: SessionManager) -> None:
    store = CatalogStore(manager.engine)
    seed, _ = read_seed()
    assert await store.version() is None
    assert store.seed_now(seed) is True
    assert store.seed_now(seed.model_copy(update={"agents": [_agent("other")]})) is False
    snapshot = await store.snapshot()
    assert snapshot is not None and snapshot.version == 1
    assert [a.name for a in snapshot.agents] == [a.name for a in seed.agents]
    assert [e.name for e in snapshot.experts] == [e.name for e in seed.experts]
    team = next(t for t in snapshot.templates if t.name == "dev_team")
    assert (team.kind, team.lead, team.experts) == (
        "team",
        "Tech Lead",
        ["Product Manager", "Developer", "Reviewer"],
    )


def test_processes_seeding_an_empty_database_at_once_store_one_seed_and_none_fails(database_url: str) -> None:
    seed, _ = read_seed()
    engines = [make_engine(database_url) for _ in range(4)]  # as four processes starting together
    try:
        with ThreadPoolExecutor(4) as pool:
            stored = list(pool.map(lambda engine: CatalogStore(engine).seed_now(seed), engines))
        assert stored.count(True) == 1
        snapshot = CatalogStore(engines[0]).snapshot_now()
        assert snapshot is not None and [a.name for a in snapshot.agents] == [a.name for a in seed.agents]
    finally:
        for engine in engines:
            engine.dispose()


async def test_a_change_is_stored_in_order_and_moves_the_version(manager: SessionManager) -> None:
    store = CatalogStore(manager.engine)
    store.seed_now(read_seed()[0])
    assert await store.change(lambda c: CatalogEdit("agent", "writer", _agent("writer"))) == 2
    assert await store.change(lambda c: CatalogEdit("agent", "writer", _agent("writer", "Write well."))) == 3
    owl = ExpertPublic(name="Night Owl", avatar="🦉", color="#123456", persona="You stay up late.")
    await store.change(lambda c: CatalogEdit("expert", "Night Owl", owl))
    snapshot = await store.snapshot()
    assert snapshot is not None and snapshot.version == 4
    assert snapshot.agents[-1].name == "writer" and snapshot.agents[-1].system_prompt == "Write well."
    assert snapshot.experts[-1] == owl
    await store.change(lambda c: CatalogEdit("expert", "night owl"))  # experts are keyed without case
    await store.change(lambda c: CatalogEdit("agent", "writer"))
    after = await store.snapshot()
    assert after is not None and after.version == 6
    assert "writer" not in [a.name for a in after.agents] and "Night Owl" not in [
        e.name for e in after.experts
    ]


async def test_a_refused_change_writes_nothing(manager: SessionManager) -> None:
    store = CatalogStore(manager.engine)
    store.seed_now(read_seed()[0])

    def refuse(catalog: CatalogSnapshot) -> CatalogEdit:
        raise Taken("no")

    with pytest.raises(Taken):
        await store.change(refuse)
    assert await store.version() == 1


async def test_concurrent_changes_are_checked_one_after_the_other(manager: SessionManager) -> None:
    """Two admins adding the same name at once: the second check sees the first's agent and refuses."""
    store = CatalogStore(manager.engine)
    store.seed_now(read_seed()[0])

    def add(catalog: CatalogSnapshot) -> CatalogEdit:
        if any(a.name == "twin" for a in catalog.agents):
            raise Taken("twin")
        return CatalogEdit("agent", "twin", _agent("twin"))

    results = await asyncio.gather(*(store.change(add) for _ in range(4)), return_exceptions=True)
    assert sum(isinstance(r, int) for r in results) == 1
    assert sum(isinstance(r, Taken) for r in results) == 3
    assert await store.version() == 2


async def test_sessions_using_an_agent_are_counted(manager: SessionManager) -> None:
    store = CatalogStore(manager.engine)
    for _ in range(2):
        await manager.create_session(agent_name="coder")
    assert await store.sessions_using("coder") == 2
    assert await store.sessions_using("assistant") == 0
