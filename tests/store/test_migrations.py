"""Migrations when several processes start at once against one fresh PostgreSQL database."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from sqlalchemy import inspect, text

from agentkit_app.store.db import make_engine
from tests.store.conftest import fresh_postgres

MIGRATE = "import sys, time; from agentkit_app.store.db import run_migrations; "
MIGRATE += "time.sleep(max(0.0, float(sys.argv[2]) - time.time())); run_migrations(sys.argv[1])"


@pytest.mark.postgres
def test_processes_starting_together_migrate_a_fresh_database_once_and_all_start():
    with fresh_postgres("migrate") as url:
        start_at = time.time() + 2.0  # every process has imported the app by then: they all migrate at once
        workers = [
            subprocess.Popen(
                [sys.executable, "-c", MIGRATE, url, str(start_at)], stderr=subprocess.PIPE, text=True
            )
            for _ in range(4)
        ]
        errors = [w.communicate(timeout=90)[1] for w in workers]
        assert [w.returncode for w in workers] == [0, 0, 0, 0], "\n".join(errors)
        engine = make_engine(url)
        try:
            with engine.connect() as conn:
                versions = conn.execute(text("SELECT version_num FROM alembic_version")).all()
            assert len(versions) == 1
            assert {"sessions", "messages"} <= set(inspect(engine).get_table_names())
        finally:
            engine.dispose()


def test_processes_starting_together_migrate_a_fresh_sqlite_file_once_and_all_start(tmp_path):
    url = f"sqlite:///{tmp_path / 'agentkit.db'}"
    start_at = time.time() + 2.0
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", MIGRATE, url, str(start_at)], stderr=subprocess.PIPE, text=True
        )
        for _ in range(4)
    ]
    errors = [w.communicate(timeout=90)[1] for w in workers]
    assert [w.returncode for w in workers] == [0, 0, 0, 0], "\n".join(errors)
    engine = make_engine(url)
    try:
        assert {"sessions", "messages"} <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
