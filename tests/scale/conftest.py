"""What the scale tests share: the settings every process of a deployment gets."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import redis

from tests.browser.conftest import browser_type_launch_args  # noqa: F401 (Debian's chromium for pages)
from tests.store.conftest import fresh_postgres

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture(scope="module")
def scale_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The settings every process shares: a fresh PostgreSQL database, Redis under a prefix, an upload directory."""
    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=3).ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis at 127.0.0.1:6379 unreachable: {exc}")
    prefix = f"agentkit-scale-{uuid.uuid4().hex[:8]}"
    shared = tmp_path_factory.mktemp("shared")
    with fresh_postgres("scale") as database_url:
        try:
            yield {
                "AGENTKIT_DATABASE_URL": database_url,
                "AGENTKIT_REDIS_URL": REDIS_URL,
                "AGENTKIT_REDIS_KEY_PREFIX": prefix,
                "AGENTKIT_RUN_LEASE_S": "2",
                "AGENTKIT_UPLOAD_DIR": str(shared / "uploads"),
                "AGENTKIT_CONFIRMATION_TIMEOUT_S": "20",
            }
        finally:
            client = redis.Redis.from_url(REDIS_URL)
            for key in client.scan_iter(f"{prefix}*"):
                client.delete(key)
