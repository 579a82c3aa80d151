"""Readiness: /api/v1/ready answers 200 when the database and Redis answer, 503 naming the one that does not."""

from __future__ import annotations

import httpx

from tests.api.conftest import Backend, start_backend, stop_backend


def test_ready_when_the_database_and_the_checkpoint_store_answer(client: httpx.Client):
    reply = client.get("/api/v1/ready")
    assert reply.status_code == 200
    assert reply.json() == {"status": "ready", "checks": {"database": "ok", "checkpoints": "ok"}}


def test_health_stays_cheap_and_says_alive(client: httpx.Client):
    assert client.get("/api/v1/health").json() == {"status": "ok"}


def test_unreachable_redis_makes_the_app_unready_and_says_why_without_its_password(tmp_path):
    backend: Backend = start_backend(tmp_path, AGENTKIT_REDIS_URL="redis://:hunter2@127.0.0.1:1/0")
    try:
        reply = httpx.get(f"{backend.base}/api/v1/ready", timeout=30)
        health = httpx.get(f"{backend.base}/api/v1/health", timeout=30)
    finally:
        stop_backend(backend)
    assert reply.status_code == 503
    body = reply.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["checkpoints"] != "ok"
    assert "127.0.0.1:1" in body["checks"]["checkpoints"]
    assert "hunter2" not in reply.text
    assert health.status_code == 200  # alive, though not ready
