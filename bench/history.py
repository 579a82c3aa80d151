"""One page of a long conversation: ``GET /api/v1/chat/sessions/{id}/messages?limit=50`` on a
2,000-message session, against a bare FastAPI + SQLModel endpoint doing the same query on the same database.

``python -m bench.history --messages 2000 --requests 300``

The session is written through the store (``SessionManager.append_message``, as turns write it) into a
temporary SQLite file; then the AgentKit API (uvicorn, one process) and the bare app (uvicorn, one
process, :func:`bare_app`) serve that file, and one client asks each in turn, one request at a time.
The bare endpoint checks the same API key, answers 404 for an unknown session, reads the first
``limit`` messages by id and returns them in the API's ``MessagePublic`` shape.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import httpx
from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request
from sqlalchemy import Engine, event
from sqlmodel import Session, col, create_engine, select

from agentkit_app.store.db import make_engine, run_migrations
from agentkit_app.store.models import MessagePublic, MessageRecord, SessionRecord
from agentkit_app.store.sessions import SessionManager
from bench.common import (
    API_KEY,
    SERVERS,
    Row,
    asgi_spec,
    backend_settings,
    backend_spec,
    format_table,
    percentile,
    running,
    warm_up_backend,
)

PAGE = 50
WARMUP = 20
# where the bare app finds its database (it is started as ``uvicorn bench.history:bare_app --factory``)
DATABASE_URL_VARIABLE = "BENCH_HISTORY_DATABASE_URL"


def _bare_db(request: Request) -> Iterator[Session]:
    with Session(request.app.state.engine) as db:
        yield db


BareDbDep = Annotated[Session, Depends(_bare_db)]


def bare_app() -> FastAPI:
    """Return the bare app: one route reading a page of a session's messages with SQLModel, nothing else."""
    app = FastAPI()
    app.state.engine = create_engine(
        os.environ[DATABASE_URL_VARIABLE], connect_args={"check_same_thread": False}
    )

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/sessions/{session_id}/messages")
    def messages(
        session_id: str,
        db: BareDbDep,
        x_api_key: Annotated[str, Header()] = "",
        limit: Annotated[int, Query(ge=1, le=1000)] = PAGE,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> list[MessagePublic]:
        if not secrets.compare_digest(x_api_key.encode(), API_KEY.encode()):
            raise HTTPException(status_code=401)
        if db.get(SessionRecord, session_id) is None:
            raise HTTPException(status_code=404)
        rows = db.exec(
            select(MessageRecord)
            .where(MessageRecord.session_id == session_id)
            .order_by(col(MessageRecord.id))
            .offset(offset)
            .limit(limit)
        )
        return [MessagePublic.model_validate({**row.model_dump(), "metadata": row.meta}) for row in rows]

    return app


def _message_text(index: int) -> str:
    """Return the text of message ``index``: a few hundred characters, like a turn of a conversation."""
    sentence = f"Message {index}: the keeper climbed the stairs again and wrote down what the sea did. "
    return sentence * (2 + index % 5)


def _fast_writes(engine: Engine) -> Engine:
    """Turn off fsync on ``engine``'s SQLite connections: seeding 2,000 messages then takes seconds, not a minute."""

    @event.listens_for(engine, "connect")
    def _no_sync(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA synchronous=OFF")

    return engine


async def seed(database_url: str, messages: int) -> str:
    """Write a session of ``messages`` alternating user and assistant messages through the store; return its id."""
    await asyncio.to_thread(run_migrations, database_url)
    engine = _fast_writes(make_engine(database_url))
    try:
        store = SessionManager(engine)
        session = await store.create_session(agent_name="assistant")
        for index in range(messages):
            role = "user" if index % 2 == 0 else "assistant"
            await store.append_message(session_id=session.session_id, role=role, content=_message_text(index))
        return session.session_id
    finally:
        engine.dispose()


@dataclass
class Timings:
    """Request times in milliseconds of AgentKit's route and the bare one, and the message ids each returned."""

    agentkit_ms: list[float]
    bare_ms: list[float]
    agentkit_ids: list[str]
    bare_ids: list[str]


def _page(http: httpx.Client, url: str) -> tuple[float, list[str]]:
    """Return how long one GET of ``url`` took, in ms, and the ids of the messages it returned."""
    start = time.perf_counter()
    response = http.get(url, params={"limit": PAGE})
    elapsed = (time.perf_counter() - start) * 1000
    response.raise_for_status()
    return elapsed, [m["message_id"] for m in response.json()]


def measure(messages: int, requests: int, warmup: int = WARMUP, server: str = "granian") -> Timings:
    """Seed a session of ``messages`` messages, serve it from both apps (on the same ASGI ``server``), and
    time ``requests`` pages from each (after ``warmup`` untimed ones)."""
    with tempfile.TemporaryDirectory(prefix="bench-history-") as data:
        settings = backend_settings(Path(data))
        database_url = settings["AGENTKIT_DATABASE_URL"]
        session_id = asyncio.run(seed(database_url, messages))
        bare = asgi_spec("bench.history:bare_app", "/health", {DATABASE_URL_VARIABLE: database_url}, server)
        with (
            running(backend_spec(settings, server), bare) as (backend, _),
            httpx.Client(headers={"X-API-Key": API_KEY}, timeout=30) as http,
        ):
            warm_up_backend(backend)
            agentkit_url = f"{backend.spec.base}/api/v1/chat/sessions/{session_id}/messages"
            bare_url = f"{bare.base}/sessions/{session_id}/messages"
            for _ in range(warmup):
                _page(http, agentkit_url)
                _page(http, bare_url)
            timings = Timings([], [], [], [])
            for _ in range(requests):  # alternate, so both see the same state of the machine
                elapsed, timings.agentkit_ids = _page(http, agentkit_url)
                timings.agentkit_ms.append(elapsed)
                elapsed, timings.bare_ids = _page(http, bare_url)
                timings.bare_ms.append(elapsed)
    return timings


def history_rows(timings: Timings) -> list[Row]:
    """Return the table rows comparing AgentKit's page times with the bare endpoint's."""
    return [
        Row("page of 50, p50 (ms)", percentile(timings.agentkit_ms, 50), percentile(timings.bare_ms, 50), 2),
        Row("page of 50, p99 (ms)", percentile(timings.agentkit_ms, 99), percentile(timings.bare_ms, 99), 2),
        Row("same messages returned", "yes" if timings.agentkit_ids == timings.bare_ids else "NO"),
    ]


def main(argv: list[str] | None = None) -> None:
    """Run the history benchmark and print its table."""
    parser = argparse.ArgumentParser(
        description="A page of a long session: AgentKit against a bare endpoint."
    )
    parser.add_argument("--messages", type=int, default=2000, help="messages in the session")
    parser.add_argument("--requests", type=int, default=300, help="timed requests to each app")
    parser.add_argument("--server", choices=SERVERS, default="granian", help="the ASGI server of both apps")
    args = parser.parse_args(argv)
    timings = measure(args.messages, args.requests, server=args.server)
    title = f"GET messages?limit={PAGE} on a {args.messages}-message session, {args.requests} requests each"
    print(format_table(title, history_rows(timings), baseline="bare FastAPI + SQLModel"))
    speed = percentile(timings.bare_ms, 50) / percentile(timings.agentkit_ms, 50)
    print(f"\nAgentKit serves the page at {speed:.2f}x the bare endpoint's speed (bare p50 / AgentKit p50).")


if __name__ == "__main__":
    main()
