"""Team checkpoints in Redis: one JSON value per run, expiring after a TTL."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import redis.asyncio as aioredis


class CheckpointUnavailable(RuntimeError):
    """Redis could not be reached or answered with an error."""


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    host = f"{parts.hostname or ''}{f':{parts.port}' if parts.port else ''}"
    return parts._replace(netloc=host).geturl()


class RedisCheckpointStore:
    """Implements the engine's CheckpointStore on Redis (``{prefix}team:{run_id}``)."""

    def __init__(self, redis_url: str, prefix: str = "agentkit:", ttl_s: int = 7 * 24 * 3600) -> None:
        self.url = redis_url
        # where errors say Redis is: the URL without its password
        self.where = _without_password(redis_url)
        self.prefix = prefix
        self.ttl_s = ttl_s
        self._client: aioredis.Redis | None = None

    def _redis(self) -> aioredis.Redis:
        if self._client is None:
            self._client = aioredis.Redis.from_url(self.url, decode_responses=True, socket_timeout=5)
        return self._client

    def _key(self, run_id: str) -> str:
        return f"{self.prefix}team:{run_id}"

    async def save(self, run_id: str, state: dict[str, Any]) -> None:
        """Store the state of a run, replacing the previous one and renewing its TTL."""
        try:
            await self._redis().set(self._key(run_id), json.dumps(state, ensure_ascii=False), ex=self.ttl_s)
        except aioredis.RedisError as exc:
            raise CheckpointUnavailable(f"Redis at {self.where} failed: {exc}") from exc

    async def load(self, run_id: str) -> dict[str, Any] | None:
        """Return the last stored state of a run, or None (also for a value that is not valid JSON)."""
        try:
            raw = await self._redis().get(self._key(run_id))
        except aioredis.RedisError as exc:
            raise CheckpointUnavailable(f"Redis at {self.where} failed: {exc}") from exc
        if raw is None:
            return None
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            return None
        return value if isinstance(value, dict) else None

    async def delete(self, run_id: str) -> None:
        """Forget a run."""
        try:
            await self._redis().delete(self._key(run_id))
        except aioredis.RedisError as exc:
            raise CheckpointUnavailable(f"Redis at {self.where} failed: {exc}") from exc

    async def ping(self) -> None:
        """Raise :class:`CheckpointUnavailable` if Redis does not answer."""
        try:
            await self._redis().execute_command("PING")
        except aioredis.RedisError as exc:
            raise CheckpointUnavailable(f"Redis at {self.where} failed: {exc}") from exc

    async def close(self) -> None:
        """Close the connection pool."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None
