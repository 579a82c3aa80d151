"""A real backend process serving the API (uvicorn), with its own database and upload dir."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from agentkit_app.store.db import make_engine
from agentkit_app.store.sessions import SessionManager

ROOT = Path(__file__).resolve().parents[2]
ADMIN = {"username": "root", "password": "root-password-1"}
API_KEY = "integration-key-123"


def free_port() -> int:
    """Return a free TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Backend:
    """A running API server."""

    base: str
    ws: str
    data: Path
    process: subprocess.Popen


def data_settings(data: Path, db_file: str) -> dict[str, str]:
    """Return the settings that put a server's SQLite database, uploads and scratch space under ``data``."""
    return {
        "AGENTKIT_DATABASE_URL": f"sqlite:///{data / db_file}",
        "AGENTKIT_UPLOAD_DIR": str(data / "uploads"),
        "AGENTKIT_SCRATCH_DIR": str(data / "scratch"),
    }


def start_backend(data: Path, **env: str) -> Backend:
    """Start the API in a subprocess and wait until it answers."""
    port = free_port()
    settings = {**data_settings(data, "api.db"), "AGENTKIT_REDIS_URL": "", **env}
    log = (data / "server.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "agentkit_app.api.app:build_api",
            "--factory",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env={**os.environ, **settings},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60  # a loaded machine imports the app slowly
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the API server exited: {(data / 'server.log').read_text()[-2000:]}")
        try:
            if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                return Backend(base, f"ws://127.0.0.1:{port}/api/v1/chat/ws", data, process)
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("the API server did not start in 60 s")


def start_with_accounts(data: Path) -> Backend:
    """Start the API with user accounts on, a bootstrap admin and an API key."""
    return start_backend(
        data,
        AGENTKIT_AUTH_ENABLED="true",
        AGENTKIT_ADMIN_USERNAME=ADMIN["username"],
        AGENTKIT_ADMIN_PASSWORD=ADMIN["password"],
        AGENTKIT_JWT_SECRET="jwt-secret-for-tests-0123456789-abcdefgh",
        AGENTKIT_API_KEY=API_KEY,
    )


def set_server_state(database_url: str, session_id: str, **state: Any) -> None:
    """Write a session's server-owned state straight into its database, as a dead process would leave it."""
    engine = make_engine(database_url)
    try:
        asyncio.run(SessionManager(engine).update_session(session_id, server_state=state, touch=False))
    finally:
        engine.dispose()


def stop_backend(backend: Backend) -> None:
    """Stop the server."""
    backend.process.terminate()
    try:
        backend.process.wait(10)
    except subprocess.TimeoutExpired:
        backend.process.kill()


@pytest.fixture(scope="session")
def backend(tmp_path_factory) -> Iterator[Backend]:
    """The API with the offline demo model and short confirmation timeouts."""
    server = start_backend(tmp_path_factory.mktemp("api"), AGENTKIT_CONFIRMATION_TIMEOUT_S="20")
    yield server
    stop_backend(server)


@pytest.fixture
def client(backend: Backend) -> Iterator[httpx.Client]:
    """An HTTP client for the backend."""
    with httpx.Client(base_url=backend.base, timeout=30) as http:
        yield http


@pytest.fixture
def session_id(client: httpx.Client) -> str:
    """A new session with the general assistant."""
    return client.post("/api/v1/chat/sessions", json={"agent_name": "assistant"}).json()["session_id"]


@pytest.fixture(scope="module")
def secured(tmp_path_factory) -> Iterator[Backend]:
    """The API with user accounts on, a bootstrap admin and an API key."""
    server = start_with_accounts(tmp_path_factory.mktemp("secured"))
    yield server
    stop_backend(server)
