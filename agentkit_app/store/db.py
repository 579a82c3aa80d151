"""Database engines, the one way to run a transaction, and migrations (Alembic, run on start and in tests)."""

from __future__ import annotations

import asyncio
import contextvars
import fcntl
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from functools import partial
from pathlib import Path
from typing import TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import NullPool
from sqlmodel import Session, create_engine

ROOT = Path(__file__).resolve().parents[2]
_migrate_lock = threading.Lock()
T = TypeVar("T")
# the PostgreSQL advisory lock the processes of a deployment take around their migrations ("agentkit")
MIGRATION_LOCK_KEY = 0x6167656E746B6974
# threads that run transactions for the event loop: their own pool, so that other blocking work (password
# hashing, files) never queues database calls, and fewer than an engine's connections (SQLite: 5 + 10 overflow).
# Few: they share the interpreter lock with the event loop, and with a dozen of them (the figure before)
# 100 turns started at once reached the model later and streamed slower (bench.streaming)
DB_THREADS = 4
_db_threads = ThreadPoolExecutor(max_workers=DB_THREADS, thread_name_prefix="db")
_sqlite_writers: weakref.WeakKeyDictionary[Engine, threading.Lock] = weakref.WeakKeyDictionary()
_writers_lock = threading.Lock()


def make_engine(url: str) -> Engine:
    """Return an engine for SQLite (WAL, busy timeout) or PostgreSQL (pre-ping).

    SQLite runs with ``synchronous=NORMAL``, the setting WAL is made for: a commit no longer waits for
    an fsync (the WAL is synced at checkpoints), so a crash of the process loses nothing and a power
    cut at worst the last commits, never the database's consistency.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, hide_parameters=True
        )

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10, hide_parameters=True)


def writer_lock(engine: Engine) -> threading.Lock | None:
    """Return the lock this process's writes to a SQLite database hold; None for a database server.

    SQLite admits one writer at a time, and a writer that finds it busy sleeps in steps of
    milliseconds before it tries again; waiting for the writer before it in this lock is cheaper.
    A server database (PostgreSQL) takes concurrent writers itself.
    """
    if engine.dialect.name != "sqlite":
        return None
    with _writers_lock:
        return _sqlite_writers.setdefault(engine, threading.Lock())


def in_session_now(engine: Engine, fn: Callable[[Session], T], *, lock: threading.Lock | None = None) -> T:
    """Return ``fn(db)`` for a new session ``db``, blocking (for startup code and worker threads).

    ``fn`` commits its own writes: some turn a failed commit into their own error, and some read
    what they wrote back before the session closes. Anything left uncommitted when ``fn`` returns
    or raises is rolled back as the session closes.

    Args:
        engine: the database to open the session on.
        fn: the transaction; it may commit more than once.
        lock: held around the whole session (taken before it opens), for writes of this process
            that must not interleave.
    """
    with lock or nullcontext(), Session(engine) as db:
        return fn(db)


async def in_session(engine: Engine, fn: Callable[[Session], T], *, lock: threading.Lock | None = None) -> T:
    """Return ``fn(db)`` run in a database thread, as :func:`in_session_now` does, so the event loop never blocks on the database."""
    call = partial(contextvars.copy_context().run, in_session_now, engine, fn, lock=lock)
    return await asyncio.get_running_loop().run_in_executor(_db_threads, call)


async def ping(engine: Engine) -> None:
    """Raise if the database does not answer a trivial query (readiness checks)."""
    await in_session(engine, lambda db: db.connection().exec_driver_sql("SELECT 1"))


def alembic_config(url: str) -> Config:
    """Return the Alembic configuration of this repository, aimed at ``url``."""
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "alembic"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["configure_logger"] = False
    return config


def run_migrations(url: str) -> None:
    """Bring the database at ``url`` to the newest schema (a no-op when it is there already).

    Several processes may start at once against one database (workers, machines): on PostgreSQL each
    takes a session advisory lock first, so one migrates and the others wait, then find the schema
    current. On SQLite they take turns through an exclusive lock on a file beside the database.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            with _migrate_lock:
                command.upgrade(alembic_config(url), "head")
            return
        database = Path(parsed.database)
        database.parent.mkdir(parents=True, exist_ok=True)
        # Alembic's DDL on SQLite is not one transaction: processes take turns through a lock file
        with _migrate_lock, open(f"{database}.migrating", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            command.upgrade(alembic_config(url), "head")
        return
    locker = create_engine(url, poolclass=NullPool, hide_parameters=True)
    try:
        with _migrate_lock, locker.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            try:
                command.upgrade(alembic_config(url), "head")
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
    finally:
        locker.dispose()
