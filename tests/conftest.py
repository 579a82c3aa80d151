"""Shared fixtures: a service wired to a scripted or demo model and a SQLite file per test."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentkit_app.engine.llm.base import ChatModel
from agentkit_app.engine.ports import MemoryCheckpointStore
from agentkit_app.engine.tools import ToolContext
from agentkit_app.service.catalog import load_catalog
from agentkit_app.service.chat import ChatService, ServiceConfig
from agentkit_app.service.uploads import UploadStore
from agentkit_app.store.db import make_engine, run_migrations
from agentkit_app.store.records import reject_unknown_keys
from agentkit_app.store.sessions import SessionManager


def make_service(tmp_path: Path, llm: ChatModel, *, confirmation_timeout_s: float = 5.0) -> ChatService:
    """Return a service on a fresh SQLite file, answering with the given model."""
    url = f"sqlite:///{tmp_path / 'agentkit.db'}"
    run_migrations(url)
    return ChatService(
        store=SessionManager(make_engine(url)),
        catalog=load_catalog(),
        llm=llm,
        config=ServiceConfig(
            tool_context=ToolContext(tmp_path / "uploads", tmp_path / "scratch", 5.0),
            confirmation_timeout_s=confirmation_timeout_s,
        ),
        checkpoints=MemoryCheckpointStore(),
        uploads=UploadStore(tmp_path / "uploads", 1024 * 1024),
    )


@pytest.fixture(autouse=True, scope="session")
def strict_records():
    """Stored records with keys no record declares fail the tests, instead of being kept as they are in production."""
    reject_unknown_keys()
    yield
    reject_unknown_keys(False)


@pytest.fixture
def service_factory(tmp_path: Path):
    """Build services on this test's temporary directory."""
    return lambda llm, **kw: make_service(tmp_path, llm, **kw)


def pytest_collection_modifyitems(config, items):
    """Run the browser tests last: Playwright's sync API keeps an event loop running for the
    rest of the session, which the asyncio tests must not share."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)
