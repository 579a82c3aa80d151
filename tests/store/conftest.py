"""Store fixtures: an empty migrated database on SQLite and on PostgreSQL (skipped only if unreachable)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import text

from agentkit_app.store.db import make_engine, run_migrations
from agentkit_app.store.sessions import SessionManager

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"


@contextmanager
def fresh_postgres(label: str = "test") -> Iterator[str]:
    """Create an empty throwaway PostgreSQL database, yield its URL and drop it (skip if no server answers)."""
    try:
        admin = psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL at 127.0.0.1:5432 unreachable: {exc}")
    name = f"agentkit_{label}_{uuid.uuid4().hex[:12]}"
    with admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield f"{PG_SERVER}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """Create a migrated throwaway PostgreSQL database for this test run and drop it afterwards."""
    with fresh_postgres() as url:
        run_migrations(url)
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path) -> str:
    """Return the URL of an empty, migrated database on each backend."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'agentkit.db'}"
        run_migrations(url)
        return url
    url = request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "TRUNCATE shares, message_feedback, messages, sessions, catalog_agents, catalog_experts, catalog_templates, catalog_version RESTART IDENTITY"
            )
        )
    engine.dispose()
    return url


@pytest.fixture
def manager(database_url: str) -> Iterator[SessionManager]:
    """Return a session manager on the backend's database."""
    engine = make_engine(database_url)
    yield SessionManager(engine)
    engine.dispose()
